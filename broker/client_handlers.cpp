// Client commands: SUBMIT, CANCEL, STATUS. A SUBMIT ends in exactly one of:
// queued (then RESULT or FAILED later), BUSY, or FAILED at once. A SUBMIT
// of a task already queued, running or recently finished is not run again.
#include <algorithm>
#include <cmath>

#include "broker.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

void broker::on_submit(const peer& p, submit_msg& m, zmq::message_t& payload) {
  if (refuse_if_unusable(p, m)) return;
  if (known_task(p, task_key(p.id, m.id))) return;
  if (payload.size() > cfg_.max_payload) {
    refuse(p, m.id, "payload_too_large", "payload of " + std::to_string(payload.size()) +
                                             " bytes is over the broker's limit of " + std::to_string(cfg_.max_payload) + " bytes");
    return;
  }
  const bool slot_free = workers_.ready_count() > 0 && queue_.empty() && !draining_;
  if (!slot_free && refuse_if_busy(p, m, payload.size())) return;
  std::string route = route_of(m.task, m.argv.empty() ? std::string_view() : std::string_view(m.argv[0]));
  if (refuse_if_unserved(p, m, route)) return;
  task& t = create_task(p, m, payload, std::move(route));
  ++stats_.submitted;
  queue_.push(t, clock_.now());
  seen_.task_submitted(t);
}

// A SUBMIT of a task that is queued or running is ignored: its one outcome will come.
// One that finished recently gets its kept outcome again instead of a second run.
bool broker::known_task(const peer& p, const std::string& key) {
  if (tasks_.find(key) != tasks_.end()) {
    log::debug("task {} is already queued or running; the client will get its one outcome", key.substr(p.id.size() + 1));
    return true;
  }
  finished_task* f = finished_.find(key);
  if (!f) return false;
  log::info("task {} was submitted again after it finished; its kept outcome is sent again", key.substr(p.id.size() + 1));
  zmq::message_t output;
  output.copy(f->output);
  seen_.sent(p.id, f->outcome, output.size());
  if (send(router_, socket_kind::router, &p.routing_id, role::broker, f->outcome, &output) != send_status::sent)
    log::info("could not resend an outcome to a peer that is gone");
  return true;
}

namespace {

// What is wrong with a SUBMIT's task name and argv; "" when nothing is.
std::string unusable_because(const submit_msg& m) {
  if (m.id.empty() || m.task.empty()) return "SUBMIT needs a task id and a task name";
  if (std::any_of(m.task.begin(), m.task.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return "task names cannot hold control characters";
  if (m.task != exec_task) return m.argv.empty() ? "" : "only task 'exec' takes an argv";
  if (m.argv.empty() || m.argv[0].empty() || m.argv[0][0] != '/')
    return "task 'exec' needs an argv whose first item is the program's absolute path";
  const std::string& path = m.argv[0];
  if (path.find("/./") != std::string::npos || path.find("/../") != std::string::npos || path.find("//") != std::string::npos ||
      path.ends_with("/.") || path.ends_with("/..") || path.find('\0') != std::string::npos)
    return "the program path " + path + " must not hold '.', '..' or '//' components";
  return "";
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
  if (exec)
    refuse(p, m.id, "not_allowed", "no connected worker allows " + m.argv[0] + "; start one with argon-worker --allow-exec PATTERN");
  else
    refuse(p, m.id, "unknown_task", "no connected worker serves task '" + m.task + "'");
  log::debug("task {} refused: no connected worker runs '{}'", m.id, exec ? m.argv[0] : m.task);
  return true;
}

// Answers BUSY when the queue cannot take one more task. Nothing is stored.
bool broker::refuse_if_busy(const peer& p, const submit_msg& m, std::size_t bytes) {
  const std::size_t limit = queue_limit();
  const std::size_t depth = queue_.size();
  std::string reason;
  if (draining_) reason = "draining";
  else if (workers_.slot_count() == 0 && cfg_.queue_limit == 0) reason = "no_workers";
  else if (depth >= limit) reason = "queue_full";
  else if (queue_.bytes() + bytes > cfg_.queue_bytes_limit) reason = "queue_bytes";
  else return false;
  const double slots = static_cast<double>(std::max<std::size_t>(workers_.slot_count(), 1));
  const double run_ms = stats_.run_time.empty() ? 1000.0 : stats_.run_time.value_us() / 1000.0;
  const double wait_ms = std::clamp(run_ms * static_cast<double>(depth + 1) / slots, 10.0, 600000.0);
  ++stats_.busy_replies;
  log::debug("busy ({}): task {} refused at depth {}/{}", reason, m.id, depth, limit);
  reply(p, busy_msg{m.id, depth, limit, workers_.slot_count(), static_cast<std::uint32_t>(std::lround(wait_ms)), reason});
  return true;
}

task& broker::create_task(const peer& p, submit_msg& m, zmq::message_t& payload, std::string route) {
  std::string key = task_key(p.id, m.id);
  task& t = tasks_[key];
  t.key = std::move(key);
  t.client = std::string(p.id);
  t.id = std::move(m.id);
  t.name = std::move(m.task);
  t.argv = std::move(m.argv);
  t.route = std::move(route);
  t.pri = t.lane = m.pri;
  t.payload = std::move(payload);
  t.timeout_ms = m.timeout_ms;
  t.max_attempts = m.max_attempts;
  t.state = task_state::queued;
  if (t.timeout_ms) {
    t.deadline = clock_.now() + millis(t.timeout_ms);
    t.deadline_pos = deadlines_.emplace(t.deadline, &t);
    if (t.deadline_pos == deadlines_.begin()) arm_deadline_timer();
  }
  return t;
}

void broker::on_cancel(const peer& p, const cancel_msg& m) {
  auto it = tasks_.find(task_key(p.id, m.id));
  if (it == tasks_.end()) {
    log::debug("CANCEL of unknown task {} ignored", m.id);
    return;
  }
  task& t = it->second;
  end_early(t, "cancelled", t.state == task_state::queued ? "cancelled by the client before it started"
                                                           : "cancelled by the client while it ran; its worker was told to stop");
}

void broker::on_status(const peer& p, const status_msg& m) { reply(p, m.workers ? with_workers(snapshot()) : snapshot()); }

}  // namespace argon::broker
