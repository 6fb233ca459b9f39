// Client commands: SUBMIT, CANCEL, STATUS. A SUBMIT ends in exactly one of:
// queued (then RESULT or FAILED later), BUSY, or FAILED at once. A SUBMIT
// of a task already queued, running or recently finished is not run again.
#include <algorithm>
#include <cmath>

#include "broker.hpp"
#include "task_rules.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

void broker::on_submit(const peer& p, submit_msg& m, zmq::message_t& payload) {
  if (refuse_if_unusable(p, m)) return;
  if (tasks_.answer_known(p.id, m.id)) return;
  if (payload.size() > cfg_.max_payload) {
    refuse(p, m.id, "payload_too_large", "payload of " + std::to_string(payload.size()) +
                                             " bytes is over the broker's limit of " + std::to_string(cfg_.max_payload) + " bytes");
    return;
  }
  const bool slot_free = workers_.ready_count() > 0 && tasks_.queue().empty() && !draining_;
  if (refuse_if_busy(p, m, payload.size(), slot_free)) return;
  std::string route = route_of(m.task, m.argv.empty() ? std::string_view() : std::string_view(m.argv[0]));
  if (refuse_if_unserved(p, m, route)) return;
  const task& t = tasks_.add(p.id, m, payload, std::move(route));
  if (t.timeout_ms && tasks_.next_deadline() == t.deadline) arm_deadline_timer();
}

namespace {

// What is wrong with a SUBMIT's task name and argv; "" when nothing is.
std::string unusable_because(const submit_msg& m) {
  if (m.id.empty()) return "SUBMIT needs a task id";
  if (std::string problem = task_name_problem(m.task); !problem.empty()) return problem;
  if (m.task != exec_task) return m.argv.empty() ? "" : "only task 'exec' takes an argv";
  return exec_argv_problem(m.argv);
}

}  // namespace

// A SUBMIT failed at once: no task is created; the client and the monitor hear why.
void broker::refuse(const peer& p, const std::string& id, const char* kind, const std::string& text) {
  ++stats_.failed;
  reply(p, failed_msg{id, kind, text});
  seen_.task_refused(id, kind, text);
}

// A SUBMIT that can never run as sent fails at once with protocol_error.
bool broker::refuse_if_unusable(const peer& p, const submit_msg& m) {
  const std::string why = unusable_because(m);
  if (why.empty()) return false;
  refuse(p, m.id, "protocol_error", why);
  return true;
}

// A task that no connected worker runs fails at once instead of waiting for
// one that may never come; with no worker at all, BUSY no_workers came first.
bool broker::refuse_if_unserved(const peer& p, const submit_msg& m, const std::string& route) {
  const bool exec = m.task == exec_task;
  if (workers_.slot_count() == 0 || workers_.can_serve(route)) return false;
  // Just after a start (a restart, above all), the workers that run it may not have
  // announced themselves yet: the task is not failed for a name the broker has not
  // heard yet, but refused as busy until they have had time to.
  const auto settle = millis(cfg_.heartbeat_ms * (cfg_.liveness + 1));
  if (const auto up = clock_.now() - stats_.started; up < settle) {
    const auto left = std::chrono::duration_cast<millis>(settle - up).count();
    reply_busy(p, m.id, static_cast<double>(std::max<long>(left, 100)), "starting");
    return true;
  }
  if (exec)
    refuse(p, m.id, "not_allowed", "no connected worker allows " + m.argv[0] + "; start one with argon-worker --allow-exec PATTERN");
  else
    refuse(p, m.id, "unknown_task", "no connected worker serves task '" + m.task + "'");
  log::debug("task {} refused: no connected worker runs '{}'", m.id, exec ? m.argv[0] : m.task);
  return true;
}

// Answers BUSY when the broker takes no new tasks (draining), this client
// has more waiting for it than --client-backlog-bytes, or the queue cannot
// take one more task. Nothing is stored.
bool broker::refuse_if_busy(const peer& p, const submit_msg& m, std::size_t bytes, bool slot_free) {
  const std::size_t limit = queue_limit();
  const std::size_t depth = tasks_.queue().size();
  std::string reason;
  if (draining_) reason = "draining";
  else if (out_.over_bound(p.id)) reason = "client_slow";
  else if (slot_free) return false;
  else if (workers_.slot_count() == 0 && cfg_.queue_limit == 0) reason = "no_workers";
  else if (depth >= limit) reason = "queue_full";
  else if (tasks_.queue().bytes() + bytes > cfg_.queue_bytes_limit) reason = "queue_bytes";
  else return false;
  const double slots = static_cast<double>(std::max<std::size_t>(workers_.slot_count(), 1));
  const double run_ms = stats_.run_time.empty() ? 1000.0 : stats_.run_time.value_us() / 1000.0;
  // How long a slow client takes to read what waits for it is not known here.
  const double wait_ms = reason == "client_slow" ? 1000.0
                                                 : std::clamp(run_ms * static_cast<double>(depth + 1) / slots, 10.0, 600000.0);
  reply_busy(p, m.id, wait_ms, reason);
  return true;
}

// BUSY with the queue's state now, the wait to suggest, in ms, and why; counted in STATUS busy_replies.
void broker::reply_busy(const peer& p, const std::string& id, double wait_ms, const std::string& reason) {
  const std::size_t depth = tasks_.queue().size(), limit = queue_limit();
  ++stats_.busy_replies;
  log::debug("busy ({}): task {} refused at depth {}/{}", reason, id, depth, limit);
  reply(p, busy_msg{id, depth, limit, workers_.slot_count(), static_cast<std::uint32_t>(std::lround(wait_ms)), reason});
}

void broker::on_cancel(const peer& p, const cancel_msg& m) {
  task* t = tasks_.find(p.id, m.id);
  if (!t) {
    log::debug("CANCEL of unknown task {} ignored", m.id);
    return;
  }
  tasks_.fail(*t, "cancelled", t->state == task_state::queued
                                  ? "cancelled by the client before it started"
                                  : "cancelled by the client while it ran; its worker was told to stop");
}

void broker::on_status(const peer& p, const status_msg& m) { reply(p, m.workers ? with_workers(snapshot()) : snapshot()); }

}  // namespace argon::broker
