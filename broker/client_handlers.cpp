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
// has more waiting for it than --client-backlog-bytes, the queue's payload
// bytes would pass their limit, or the queue holds its limit of tasks and
// this client has its fair share of them (fair_admission). Nothing is stored.
bool broker::refuse_if_busy(const peer& p, const submit_msg& m, std::size_t bytes, bool slot_free) {
  const std::size_t depth = tasks_.queue().size();
  std::string reason;
  if (draining_) reason = "draining";
  else if (out_.over_bound(p.id)) reason = "client_slow";
  else if (slot_free) return false;
  else if (workers_.slot_count() == 0 && cfg_.queue_limit == 0) reason = "no_workers";
  else if (tasks_.queue().bytes() + bytes > cfg_.queue_bytes_limit) reason = "queue_bytes";
  else reason = fair_admission(p.id);
  if (reason.empty()) return false;
  const double slots = static_cast<double>(std::max<std::size_t>(workers_.slot_count(), 1));
  const double run_ms = stats_.run_time.empty() ? 1000.0 : stats_.run_time.value_us() / 1000.0;
  // Ahead of the next task this client may queue: the whole queue; or, over its
  // share, its own tasks past the share, which run at 1/n of the slots.
  double ahead = static_cast<double>(depth + 1);
  if (reason == "client_share") {
    const double n = static_cast<double>(tasks_.queue().clients());
    ahead = static_cast<double>(tasks_.queue().queued_by(p.id) + 1 - fair_share(p.id)) * n;
  }
  // How long a slow client takes to read what waits for it is not known here.
  const double wait_ms = reason == "client_slow" ? 1000.0 : std::clamp(run_ms * ahead / slots, 10.0, 600000.0);
  reply_busy(p, m.id, wait_ms, reason);
  return true;
}

// A client's fair share of a full queue: the limit over the clients with
// tasks queued, counting this one, rounded up.
std::size_t broker::fair_share(std::string_view client) const {
  const task_queue& q = tasks_.queue();
  const std::size_t n = q.clients() + (q.queued_by(client) == 0 ? 1 : 0);
  return (queue_limit() + n - 1) / n;
}

// Whether one more task of this client fits: "" when it does, else the BUSY
// reason. Below the limit every client is admitted. At the limit a client
// with fewer than its fair share queued still is, up to twice the limit in
// all; a client at or over its share while others have tasks queued hears
// client_share, and otherwise queue_full. So one client may fill an idle
// queue, yet cannot keep the others out: each newcomer gets its share.
std::string broker::fair_admission(std::string_view client) const {
  const task_queue& q = tasks_.queue();
  const std::size_t limit = queue_limit(), depth = q.size(), mine = q.queued_by(client);
  if (depth < limit) return "";
  const bool others = q.clients() > (mine ? 1 : 0);
  if (mine >= fair_share(client)) return others ? "client_share" : "queue_full";
  return depth < 2 * limit ? "" : "queue_full";
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
