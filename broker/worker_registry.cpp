#include "worker_registry.hpp"

#include <algorithm>
#include <cassert>

namespace argon::broker {

slot* worker_registry::find(std::string_view routing_id) {
  auto it = slots_.find(routing_id);
  return it == slots_.end() ? nullptr : it->second.get();
}

worker_rec& worker_registry::worker_for(std::string_view worker_id) {
  auto it = workers_.find(worker_id);
  if (it != workers_.end()) return *it->second;
  auto w = std::make_unique<worker_rec>();
  w->id = std::string(worker_id);
  return *workers_.emplace(w->id, std::move(w)).first->second;
}

void worker_registry::unrank(worker_rec& w) {
  if (!w.ready.empty()) eligible_.erase(rank{w.busy, w.ready.front()->ready_seq, &w});
}

void worker_registry::rerank(worker_rec& w) {
  if (!w.ready.empty()) eligible_.insert(rank{w.busy, w.ready.front()->ready_seq, &w});
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
    fresh->worker->slots++;
    fresh->worker->busy++;
    busy_++;
    s = slots_.emplace(fresh->routing_id, std::move(fresh)).first->second.get();
  }
  if (s->state == slot_state::busy) set_ready(*s);
  return *s;
}

void worker_registry::set_ready(slot& s) {
  worker_rec& w = *s.worker;
  unrank(w);
  s.state = slot_state::ready;
  s.running = nullptr;
  s.ready_seq = ++seq_;
  w.busy--;
  busy_--;
  w.ready.push_back(&s);
  rerank(w);
}

void worker_registry::set_busy(slot& s, task* t) {
  worker_rec& w = *s.worker;
  unrank(w);
  if (w.ready.front() == &s) {
    w.ready.pop_front();  // the usual case: take_ready hands out the front
  } else {
    auto it = std::find(w.ready.begin(), w.ready.end(), &s);
    assert(it != w.ready.end());
    w.ready.erase(it);
  }
  s.state = slot_state::busy;
  s.running = t;
  w.busy++;
  busy_++;
  rerank(w);
}

slot* worker_registry::take_ready(task& t) {
  if (eligible_.empty()) return nullptr;
  worker_rec* w = std::get<2>(*eligible_.begin());
  slot* s = w->ready.front();
  set_busy(*s, &t);
  return s;
}

task* worker_registry::remove(slot& s) {
  worker_rec& w = *s.worker;
  task* running = s.running;
  if (running) running->running_on = nullptr;  // the slot is about to be freed
  if (s.state == slot_state::ready) set_busy(s, nullptr);  // leave the ready list first
  unrank(w);
  w.busy--;
  busy_--;
  w.slots--;
  rerank(w);
  const std::string slot_key = s.routing_id;  // erase must not read a key it is destroying
  slots_.erase(slot_key);
  forget_if_empty(w);
  return running;
}

void worker_registry::forget_if_empty(worker_rec& w) {
  if (w.slots > 0 || w.watched) return;  // a watched worker stays until it is removed
  const std::string key = w.id;
  workers_.erase(key);
}

void worker_registry::retire(std::string_view worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  worker_rec& w = *it->second;
  w.leaving = true;
  std::vector<slot*> idle(w.ready.begin(), w.ready.end());
  for (slot* s : idle) remove(*s);
}

bool worker_registry::leaving(std::string_view worker_id) const {
  auto it = workers_.find(worker_id);
  return it != workers_.end() && it->second->leaving;
}

worker_rec& worker_registry::hello(std::string_view worker_id, std::string_view control_id, common::time_point now) {
  worker_rec& w = worker_for(worker_id);
  w.control_id = std::string(control_id);
  if (!w.watched) {
    w.watched = true;
    w.live_pos = live_.insert(live_.end(), &w);
  }
  touch(worker_id, now);
  return w;
}

bool worker_registry::touch(std::string_view worker_id, common::time_point now) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return false;
  worker_rec& w = *it->second;
  w.last_seen = now;
  if (w.watched) live_.splice(live_.end(), live_, w.live_pos);  // most recently seen goes last
  return true;
}

std::vector<std::string> worker_registry::expired(common::time_point now, common::millis limit) const {
  std::vector<std::string> out;
  for (const worker_rec* w : live_) {
    if (now - w->last_seen <= limit) break;  // the rest were seen more recently
    out.push_back(w->id);
  }
  return out;
}

std::vector<task*> worker_registry::remove_worker(std::string_view worker_id) {
  std::vector<task*> running;
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return running;
  worker_rec& w = *it->second;
  if (w.watched) {
    live_.erase(w.live_pos);
    w.watched = false;
  }
  std::vector<slot*> mine;
  for (auto& [id, s] : slots_)
    if (s->worker == &w) mine.push_back(s.get());
  if (mine.empty()) forget_if_empty(w);
  for (slot* s : mine)  // the last removal forgets the worker itself
    if (task* t = remove(*s)) running.push_back(t);
  return running;
}

}  // namespace argon::broker
