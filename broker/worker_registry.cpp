#include "worker_registry.hpp"

#include <algorithm>
#include <cassert>

namespace argon::broker {

slot* worker_registry::find(std::string_view routing_id) {
  auto it = slots_.find(routing_id);
  return it == slots_.end() ? nullptr : it->second.get();
}

worker_record& worker_registry::worker_for(std::string_view worker_id) {
  auto it = workers_.find(worker_id);
  if (it != workers_.end()) return *it->second;
  auto w = std::make_unique<worker_record>();
  w->id = std::string(worker_id);
  return *workers_.emplace(w->id, std::move(w)).first->second;
}

void worker_registry::unrank(worker_record& w) {
  if (!w.ready.empty()) eligible_.erase(rank{w.busy, w.ready.front()->ready_seq, &w});
}

// Only a watched worker (one with a live control channel) is offered work: a
// task on its slot ends even if the worker goes silent.
void worker_registry::rerank(worker_record& w) {
  if (w.watched && !w.ready.empty()) eligible_.insert(rank{w.busy, w.ready.front()->ready_seq, &w});
}

slot& worker_registry::mark_ready(std::string_view routing_id, std::string_view worker_id) {
  slot* s = find(routing_id);
  if (s && s->worker->id != worker_id) {  // routing id reused by another worker
    remove(*s);
    s = nullptr;
  }
  if (!s) {
    auto fresh = std::make_unique<slot>();
    fresh->routing_id = std::string(routing_id);
    fresh->worker = &worker_for(worker_id);
    fresh->state = slot_state::busy;  // becomes ready below
    count_slots(*fresh->worker, 1);
    fresh->worker->members.push_back(fresh.get());
    fresh->worker->busy++;
    busy_++;
    s = slots_.emplace(fresh->routing_id, std::move(fresh)).first->second.get();
  }
  if (s->state == slot_state::busy) set_ready(*s);
  return *s;
}

void worker_registry::set_ready(slot& s) {
  worker_record& w = *s.worker;
  unrank(w);
  assert(!s.running);  // the task table released it
  s.state = slot_state::ready;
  s.ready_seq = ++seq_;
  w.busy--;
  busy_--;
  w.ready.push_back(&s);
  rerank(w);
}

void worker_registry::set_busy(slot& s) {
  worker_record& w = *s.worker;
  unrank(w);
  if (w.ready.front() == &s) {
    w.ready.pop_front();  // the usual case: take_ready hands out the front
  } else {
    auto it = std::find(w.ready.begin(), w.ready.end(), &s);
    assert(it != w.ready.end());
    w.ready.erase(it);
  }
  s.state = slot_state::busy;
  w.busy++;
  busy_++;
  rerank(w);
}

slot* worker_registry::take_from(worker_record& w) {
  slot* s = w.ready.front();
  set_busy(*s);
  return s;
}

void worker_registry::count_slots(worker_record& w, long delta) {
  w.slots += delta;
  (w.caps ? w.caps->slots : any_slots_) += delta;
}

void worker_registry::announce(std::string_view worker_id, const std::optional<common::capabilities>& caps) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  worker_record& w = *it->second;
  if (caps && w.caps && w.caps->caps() == *caps) return;  // the usual case: nothing changed
  if (!caps && !w.caps) return;
  leave_class(w);
  if (caps) join_class(w, *caps);
}

void worker_registry::join_class(worker_record& w, const common::capabilities& caps) {
  auto same = std::find_if(classes_.begin(), classes_.end(), [&](const auto& c) { return c->caps() == caps; });
  if (same == classes_.end()) same = classes_.insert(classes_.end(), std::make_unique<capability_class>(caps));
  any_slots_ -= w.slots;
  w.caps = same->get();
  w.caps->workers++;
  w.caps->slots += w.slots;
}

// Back to "runs any task"; a class nobody announces any more is dropped.
void worker_registry::leave_class(worker_record& w) {
  if (!w.caps) return;
  capability_class* c = w.caps;
  c->slots -= w.slots;
  any_slots_ += w.slots;
  w.caps = nullptr;
  if (--c->workers == 0) classes_.remove_if([c](const auto& p) { return p.get() == c; });
}

bool worker_registry::can_serve(std::string_view route) const {
  if (any_slots_ > 0) return true;
  return std::any_of(classes_.begin(), classes_.end(), [&](const auto& c) { return c->slots > 0 && c->can_run(route); });
}

void worker_registry::remove(slot& s) {
  assert(!s.running);  // the task table released it
  worker_record& w = *s.worker;
  if (s.state == slot_state::ready) set_busy(s);  // leave the ready list first
  unrank(w);
  w.busy--;
  busy_--;
  count_slots(w, -1);
  std::erase(w.members, &s);
  rerank(w);
  const std::string slot_key = s.routing_id;  // erase must not read a key it is destroying
  slots_.erase(slot_key);
  forget_if_empty(w);
}

void worker_registry::forget_if_empty(worker_record& w) {
  if (w.slots > 0 || w.watched) return;  // a watched worker stays until it is removed
  leave_class(w);
  drop_control(w);
  const std::string key = w.id;
  workers_.erase(key);
}

std::vector<std::string> worker_registry::retire(std::string_view worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return {};
  worker_record& w = *it->second;
  w.leaving = true;
  std::vector<slot*> idle(w.ready.begin(), w.ready.end());
  std::vector<std::string> gone;
  for (slot* s : idle) {
    gone.push_back(s->routing_id);
    remove(*s);
  }
  return gone;
}

bool worker_registry::withdraw(std::string_view worker_id, std::string_view routing_id) {
  slot* s = find(routing_id);
  if (!s || !s->worker || s->worker->id != worker_id) return false;
  auto& ready = s->worker->ready;
  if (std::find(ready.begin(), ready.end(), s) == ready.end()) return false;
  remove(*s);
  return true;
}

bool worker_registry::leaving(std::string_view worker_id) const {
  auto it = workers_.find(worker_id);
  return it != workers_.end() && it->second->leaving;
}

worker_record& worker_registry::hello(std::string_view worker_id, std::string_view control_id, common::time_point now,
                                      std::uint32_t capacity, std::string address) {
  worker_record& w = worker_for(worker_id);
  if (capacity) w.capacity = capacity;
  if (!address.empty()) w.address = std::move(address);
  drop_control(w);
  w.control_id = std::string(control_id);
  controls_[w.control_id] = &w;
  if (!w.watched) {
    unrank(w);
    w.watched = true;
    w.live_pos = live_.insert(live_.end(), &w);
    rerank(w);  // its ready slots may take work from now on
  }
  touch(worker_id, now);
  return w;
}

void worker_registry::drop_control(worker_record& w) {
  auto it = controls_.find(w.control_id);
  if (it != controls_.end() && it->second == &w) controls_.erase(it);
}

worker_record* worker_registry::by_control(std::string_view control_id) {
  auto it = controls_.find(control_id);
  return it == controls_.end() ? nullptr : it->second;
}

bool worker_registry::touch(std::string_view worker_id, common::time_point now) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return false;
  worker_record& w = *it->second;
  w.last_seen = now;
  if (w.watched) live_.splice(live_.end(), live_, w.live_pos);  // most recently seen goes last
  return true;
}

std::vector<std::string> worker_registry::expired(common::time_point now, common::millis limit) const {
  std::vector<std::string> out;
  for (const worker_record* w : live_) {
    if (now - w->last_seen <= limit) break;  // the rest were seen more recently
    out.push_back(w->id);
  }
  // Slots whose worker never said HELLO (it died before, or its READYs came after it
  // was forgotten) would stay counted for ever; they run nothing, so they just go.
  for (const auto& [id, w] : workers_)
    if (!w->watched && now - w->last_seen > limit) out.push_back(id);
  return out;
}

void worker_registry::remove_worker(std::string_view worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  worker_record& w = *it->second;
  if (w.watched) {
    unrank(w);
    live_.erase(w.live_pos);
    w.watched = false;
  }
  std::vector<slot*> mine = w.members;
  if (mine.empty()) forget_if_empty(w);
  for (slot* s : mine) remove(*s);  // the last removal forgets the worker itself
}

}  // namespace argon::broker
