// Worker slot commands (READY, DONE) and dispatch: queued tasks go to ready
// slots; a slot's DONE hands its outcome to the task table and makes the
// slot ready again.
#include <algorithm>

#include "broker.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

void broker::on_ready(const peer& p, const ready_msg& m) {
  if (m.worker_id.empty()) throw protocol_error("READY needs a worker id");
  slot* s = workers_.find(p.id);
  if (s && s->running) {  // the slot started over: its task did not finish there
    const std::string id = s->running->id;
    if (s->worker->id == m.worker_id && tasks_.return_unstarted(*s))
      log::info("slot of worker {} said READY before task {} reached it (it replaced its socket while idle): "
                "the task goes back to its lane without using an attempt", m.worker_id, id);
    else {
      log::warn("slot of worker {} announced READY while running task {}: the task was lost there", m.worker_id, id);
      tasks_.release(*s, "slot_restarted");
    }
  }
  if (workers_.leaving(m.worker_id)) {  // said BYE: no slot of it takes new work
    log::info("refused READY from a slot of worker {}, which has said BYE", m.worker_id);
    if (s) workers_.remove(*s);
    return reply(p, leaving_msg(m.worker_id));  // the slot waits for an answer before it closes
  }
  slot& fresh = workers_.mark_ready(p.id, m.worker_id);
  workers_.announce(m.worker_id, m.caps);
  fresh.worker->lanes = m.lanes.value_or(all_lanes);
  workers_.touch(m.worker_id, clock_.now());
  log::debug("slot of worker {} ready ({} slots known)", fresh.worker->id, workers_.slot_count());
}

void broker::on_done(const peer& p, done_msg& m, zmq::message_t& payload) {
  if (m.worker_id.empty()) throw protocol_error("DONE needs a worker id");
  slot* s = workers_.find(p.id);
  if (tasks_.accept_done(s, m, payload)) s->worker->done++;
  if (workers_.leaving(m.worker_id)) {  // said BYE: this slot takes no more work
    if (s) workers_.remove(*s);
    return;
  }
  // A slot this broker does not know (it restarted, or forgot the worker): a DONE
  // says nothing of what the worker runs, so the slot is asked for a READY, which does.
  if (!s)
    return reply(p, error_msg{"unknown_slot", "this broker does not know this slot: say READY with what the worker runs"});
  if (m.park) {  // its worker gives this capacity to another broker: the slot is forgotten until its next READY
    workers_.remove(*s);
    return reply(p, error_msg{"withdrawn", "this slot asked for no next task: it gets none until its next READY"});
  }
  workers_.mark_ready(p.id, m.worker_id);
  workers_.touch(m.worker_id, clock_.now());
}

// The lanes that may start one more task: each runs at most its --lane-share
// of the connected slots, and at least one slot's worth, so no lane starves.
std::uint32_t broker::lanes_with_room() const {
  std::uint32_t room = 0;
  for (std::size_t i = 0; i < cfg_.lane_share_pct.size(); ++i) {
    const auto lane = static_cast<priority>(i);
    const std::size_t cap = std::max<std::size_t>(1, workers_.slot_count() * cfg_.lane_share_pct[i] / 100);
    if (cfg_.lane_share_pct[i] >= 100 || tasks_.running_in(lane) < cap) room |= lane_bit(lane);
  }
  return room;
}

void broker::dispatch() {
  if (!tasks_.queue().empty()) {
    const auto floor = millis(cfg_.aging_floor_ms);
    const auto avg = millis(static_cast<long>(stats_.wait_time.value_us() * 1.5 / 1000.0));
    tasks_.promote(clock_.now(), std::max(floor, avg));
  }
  while (!tasks_.queue().empty() && workers_.ready_count() > 0) {
    task* t = nullptr;
    const std::uint32_t room = lanes_with_room();
    if (room == 0) break;
    slot* s = workers_.take_ready_if([&](const worker_record& w) { return (t = tasks_.take_next(w, room)) != nullptr; });
    if (!s) break;  // no ready slot can run any queued task
    if (!tasks_.start(*t, *s)) {
      log::warn("worker {} slot is unreachable; forgetting it and requeueing task {}", s->worker->id, t->id);
      workers_.remove(*s);
    }
  }
}

}  // namespace argon::broker
