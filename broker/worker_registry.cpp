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
  if (s.state == slot_state::ready) set_busy(s, nullptr);  // leave the ready list first
  unrank(w);
  w.busy--;
  busy_--;
  w.slots--;
  rerank(w);
  const std::string slot_key = s.routing_id;  // erase must not read a key it is destroying
  const std::string worker_key = w.id;
  slots_.erase(slot_key);
  if (w.slots == 0) workers_.erase(worker_key);
  return running;
}

}  // namespace argon::broker
