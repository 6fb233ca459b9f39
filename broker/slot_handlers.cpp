// Worker slot commands (READY, DONE) and dispatch: queued tasks go to ready
// slots; a slot's DONE returns the outcome to the task's client and makes
// the slot ready again.
#include "broker.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

void broker::on_ready(const peer& p, const ready_msg& m) {
  if (m.worker_id.empty()) throw protocol_error("READY needs a worker id");
  slot* s = workers_.find(p.id);
  if (s && s->running) {  // the slot started over: its task did not finish there
    log::warn("slot of worker {} announced READY while running task {}: the task was lost there", m.worker_id, s->running->id);
    requeue(*s->running, "slot_restarted");
  }
  if (workers_.leaving(m.worker_id)) {  // said BYE: no slot of it takes new work
    log::info("ignored READY from a slot of worker {}, which has said BYE", m.worker_id);
    if (s) workers_.remove(*s);
    return;
  }
  slot& fresh = workers_.mark_ready(p.id, m.worker_id);
  workers_.announce(m.worker_id, m.caps);
  workers_.touch(m.worker_id, clock_.now());
  log::debug("slot of worker {} ready ({} slots known)", fresh.worker->id, workers_.slot_count());
}

void broker::on_done(const peer& p, done_msg& m, zmq::message_t& payload) {
  if (m.worker_id.empty()) throw protocol_error("DONE needs a worker id");
  slot* s = workers_.find(p.id);
  task* t = s ? s->running : nullptr;
  if (!t || t->id != m.id) {
    log::info("dropped a result for task {} from worker {}: that slot is not running it (it ended or moved)", m.id, m.worker_id);
    if (t) requeue(*t, "stale_result");
  } else {
    stats_.run_time.add(std::chrono::duration<double, std::micro>(clock_.now() - t->started_at).count());
    s->worker->done++;
    if (m.ok) conclude(*t, result_msg{t->id}, &payload);
    else conclude(*t, failed_msg{t->id, m.kind.empty() ? "task_error" : m.kind, m.error}, nullptr);
  }
  if (workers_.leaving(m.worker_id)) {  // said BYE: this slot takes no more work
    if (s) workers_.remove(*s);
    return;
  }
  workers_.mark_ready(p.id, m.worker_id);
  workers_.touch(m.worker_id, clock_.now());
}

void broker::dispatch() {
  const auto now = clock_.now();
  if (!queue_.empty()) {
    const auto floor = millis(cfg_.aging_floor_ms);
    const auto avg = millis(static_cast<long>(stats_.wait_time.value_us() * 1.5 / 1000.0));
    queue_.promote(now, std::max(floor, avg));
  }
  while (!queue_.empty() && workers_.ready_count() > 0) {
    task* t = nullptr;
    slot* s = workers_.take_ready_if([&](worker_rec& w) { return t = pick_task(w); });
    if (!s) break;  // no ready slot can run any queued task
    stats_.wait_time.add(std::chrono::duration<double, std::micro>(now - t->queued_at).count());
    if (!send_task(*s, *t)) {
      log::warn("worker {} slot is unreachable; forgetting it and requeueing task {}", s->worker->id, t->id);
      workers_.remove(*s);
      queue_.push_front(*t);
    }
    if (t->state == task_state::running) seen_.task_dispatched(*t, *s);
  }
}

// The best queued task a worker can run: any task for a worker that announced nothing.
task* broker::pick_task(const worker_rec& w) {
  if (!w.caps) return queue_.pop();
  const capability_class& c = *w.caps;
  return queue_.pop_for([&c](std::string_view route) { return c.can_run(route); });
}

bool broker::send_task(slot& s, task& t) {
  t.state = task_state::running;
  t.running_on = &s;
  t.started_at = clock_.now();
  ++t.attempt;
  zmq::message_t routing_id(s.routing_id.data(), s.routing_id.size());
  zmq::message_t payload;
  payload.copy(t.payload);  // shares the buffer for large payloads; the original stays for requeue
  const auto left = std::chrono::duration_cast<millis>(t.deadline - t.started_at).count();
  const std::uint64_t deadline = t.timeout_ms ? unix_ms() + static_cast<std::uint64_t>(std::max<long>(left, 0)) : 0;
  auto st = send(router_, socket_kind::router, &routing_id, role::broker, task_msg{t.id, t.name, t.attempt, deadline, t.argv}, &payload);
  if (st == send_status::sent) return true;
  t.state = task_state::queued;
  t.running_on = nullptr;
  --t.attempt;
  return false;
}

// A started task whose slot lost it goes back to the front of its lane, unless it has
// used up its attempts; then its client is told, so it is never silently dropped.
void broker::requeue(task& t, const char* why) {
  if (t.running_on) t.running_on->running = nullptr;
  t.running_on = nullptr;
  if (t.attempt >= t.max_attempts) {
    conclude(t, failed_msg{t.id, "worker_lost", fmt::format("the worker running it was lost on each of {} attempts", t.attempt)},
             nullptr);
    return;
  }
  t.state = task_state::queued;
  queue_.push_front(t);
  seen_.task_requeued(t, why);
}

void broker::send_to_client(task& t, const body& b, zmq::message_t* payload) {
  zmq::message_t routing_id(t.client.data(), t.client.size());
  seen_.sent(t.client, b, payload ? payload->size() : 0);
  auto st = send(router_, socket_kind::router, &routing_id, role::broker, b, payload);
  if (st != send_status::sent)
    log::warn("client of task {} is gone; its {} was dropped", t.id, command_name(command_of(b)));
}

void broker::finish(task& t) {
  if (t.running_on) t.running_on->running = nullptr;
  if (t.timeout_ms) deadlines_.erase(t.deadline_pos);
  const std::string key = t.key;  // erase must not read a key it is destroying
  tasks_.erase(key);
}

}  // namespace argon::broker
