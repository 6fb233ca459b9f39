// Client commands: SUBMIT, CANCEL, STATUS. A SUBMIT ends in exactly one of:
// queued (then RESULT or FAILED later), BUSY, or FAILED at once.
#include <algorithm>
#include <cmath>

#include "broker.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

void broker::on_submit(const peer& p, submit_msg& m, zmq::message_t& payload) {
  if (m.id.empty() || m.task.empty()) {
    reply(p, failed_msg{m.id, "protocol_error", "SUBMIT needs a task id and a task name"});
    return;
  }
  if (tasks_.find(task_key(p.id, m.id)) != tasks_.end()) {
    log::debug("task {} is already queued or running; the client will get its one outcome", m.id);
    return;
  }
  if (payload.size() > cfg_.max_payload) {
    ++stats_.failed;
    reply(p, failed_msg{m.id, "payload_too_large",
                        "payload of " + std::to_string(payload.size()) + " bytes is over the broker's limit of " +
                            std::to_string(cfg_.max_payload) + " bytes"});
    return;
  }
  const bool slot_free = workers_.ready_count() > 0 && queue_.empty();
  if (!slot_free && refuse_if_busy(p, m, payload.size())) return;
  task& t = create_task(p, m, payload);
  ++stats_.submitted;
  queue_.push(t, clock_.now());
}

// Answers BUSY when the queue cannot take one more task. Nothing is stored.
bool broker::refuse_if_busy(const peer& p, const submit_msg& m, std::size_t bytes) {
  const std::size_t limit = queue_limit();
  const std::size_t depth = queue_.size();
  std::string reason;
  if (workers_.slot_count() == 0 && cfg_.queue_limit == 0) reason = "no_workers";
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

task& broker::create_task(const peer& p, submit_msg& m, zmq::message_t& payload) {
  std::string key = task_key(p.id, m.id);
  task& t = tasks_[key];
  t.key = std::move(key);
  t.client = std::string(p.id);
  t.id = std::move(m.id);
  t.name = std::move(m.task);
  t.pri = t.lane = m.pri;
  t.payload = std::move(payload);
  t.timeout_ms = m.timeout_ms;
  t.max_attempts = m.max_attempts;
  t.state = task_state::queued;
  return t;
}

void broker::on_cancel(const peer& p, const cancel_msg& m) {
  auto it = tasks_.find(task_key(p.id, m.id));
  if (it == tasks_.end()) {
    log::debug("CANCEL of unknown task {} ignored", m.id);
    return;
  }
  task& t = it->second;
  if (t.state != task_state::queued) {
    log::info("CANCEL of task {} ignored: it is already running", m.id);
    return;
  }
  queue_.remove(t);
  ++stats_.failed;
  send_to_client(t, failed_msg{t.id, "cancelled", "cancelled by the client before it started"}, nullptr);
  finish(t);
}

void broker::on_status(const peer& p) { reply(p, snapshot()); }

}  // namespace argon::broker
