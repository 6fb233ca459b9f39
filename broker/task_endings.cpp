// How a task ends at the broker. Every ending goes through conclude(): the
// outcome is sent to the client, counted, and kept in the finished cache so
// a resubmission gets it again rather than a second run. A task can also
// end early, by its deadline or its client's CANCEL: a queued one just
// leaves the queue; a running one is abandoned in its slot, its worker is
// told (CANCEL on the control channel), and the slot stays busy until its
// handler returns, so it is never counted as free twice.
#include "broker.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

void broker::conclude(task& t, const body& outcome, zmq::message_t* output) {
  if (std::holds_alternative<result_msg>(outcome)) ++stats_.completed;
  else ++stats_.failed;
  zmq::message_t kept;
  if (output) kept.copy(*output);  // shares the buffer; the send below moves the original
  seen_.task_concluded(t, outcome);
  send_to_client(t, outcome, output);
  finished_.put(t.key, outcome, std::move(kept), clock_.now());
  finish(t);
}

void broker::end_early(task& t, const char* kind, const std::string& text) {
  if (t.state == task_state::queued) queue_.remove(t);
  else abandon_run(t);
  conclude(t, failed_msg{t.id, kind, text}, nullptr);
}

// The slot keeps its busy state with no task: its DONE, whenever it comes, is
// dropped and makes it ready again.
void broker::abandon_run(task& t) {
  slot* s = t.running_on;
  if (!s) return;
  s->running = nullptr;
  t.running_on = nullptr;
  const std::string& control = s->worker->control_id;
  if (control.empty()) {
    log::info("task {} was abandoned on worker {}, which has no control channel to be told", t.id, s->worker->id);
    return;
  }
  zmq::message_t rid(control.data(), control.size());
  seen_.sent(control, command::cancel, t.id);
  if (send(router_, socket_kind::router, &rid, role::broker, cancel_msg{t.id}) != send_status::sent)
    log::info("could not tell worker {} to stop task {}: its control channel is gone", s->worker->id, t.id);
}

void broker::expire_deadlines() {
  const auto now = clock_.now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    task& t = *deadlines_.begin()->second;
    const bool started = t.state == task_state::running;
    log::info("task {} passed its {} ms timeout {}", t.id, t.timeout_ms, started ? "while running" : "before it started");
    end_early(t, "timeout", fmt::format("no result within {} ms ({})", t.timeout_ms,
                                        started ? "its worker was told to stop" : "it never started"));
  }
  finished_.expire(now);
  arm_deadline_timer();
}

// Deadlines are also checked on every heartbeat tick; this timer makes them exact.
void broker::arm_deadline_timer() {
  if (deadlines_.empty()) return deadline_timer_.stop();
  const auto wait = std::chrono::ceil<millis>(deadlines_.begin()->first - clock_.now());
  deadline_timer_.start(std::max(wait, millis(0)));
}

void broker::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  log::note("draining: new tasks are refused as busy; {} queued and {} running task(s) will finish first",
            queue_.size(), tasks_.size() - queue_.size());
  check_drained();
}

void broker::check_drained() {
  if (!draining_ || !on_drained_ || !tasks_.empty()) return;
  router_.set(zmq::sockopt::linger, 1000);  // let the last results leave before the socket closes
  auto done = std::move(on_drained_);
  on_drained_ = nullptr;
  done();
}

}  // namespace argon::broker
