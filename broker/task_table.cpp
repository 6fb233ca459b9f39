// The task table's changes of state, each in one function; see task_table.hpp.
#include "task_table.hpp"

#include <algorithm>
#include <cassert>
#include <cstdlib>

#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

namespace {

// Failure kinds only the broker (or the client library) gives; a worker's DONE
// naming one of them would make its failure look like the broker's own.
constexpr std::string_view broker_kinds[] = {"worker_lost", "cancelled", "protocol_error", "payload_too_large",
                                             "unknown_task", "busy", "unreachable"};

// The kind a worker's failure reaches the client with: its own snake_case
// kind, or task_error for none, for one of the broker's kinds, for timeout
// on a task that has no timeout, and for anything that is not snake_case.
std::string worker_kind(const std::string& kind, const task& t) {
  const bool snake = !kind.empty() && std::all_of(kind.begin(), kind.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!snake || std::find(std::begin(broker_kinds), std::end(broker_kinds), kind) != std::end(broker_kinds)) return "task_error";
  if (kind == "timeout" && t.timeout_ms == 0) return "task_error";
  return kind;
}

template <class D> double micros(D d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

std::string task_table::key_of(std::string_view client, std::string_view id) {
  std::string key;
  key.reserve(client.size() + 1 + id.size());
  key.append(client).append(1, '\n').append(id);
  return key;
}

task* task_table::find(std::string_view client, std::string_view id) {
  auto it = tasks_.find(key_of(client, id));
  return it == tasks_.end() ? nullptr : &it->second;
}

bool task_table::answer_known(std::string_view client, std::string_view id) {
  const std::string key = key_of(client, id);
  if (tasks_.find(key) != tasks_.end()) {
    log::debug("task {} is already queued or running; the client will get its one outcome", id);
    return true;
  }
  kept_outcome* f = outcomes_.find(key);
  if (!f) return false;
  log::info("task {} was submitted again after it finished; its kept outcome is sent again", id);
  zmq::message_t output;
  output.copy(f->output);  // shares the buffer; the kept one stays
  out_.deliver(client, f->outcome, &output, wait_kind::reply);
  return true;
}

task& task_table::add(std::string_view client, submit_msg& m, zmq::message_t& payload, std::string route) {
  std::string key = key_of(client, m.id);
  task& t = tasks_[key];
  t.key = std::move(key);
  t.client = std::string(client);
  t.id = std::move(m.id);
  t.name = std::move(m.task);
  t.argv = std::move(m.argv);
  t.route = std::move(route);
  t.pri = t.lane = m.pri;
  t.payload = std::move(payload);
  t.timeout_ms = m.timeout_ms;
  t.max_attempts = m.max_attempts;
  t.state = task_state::queued;
  const auto now = clock_.now();
  if (t.timeout_ms) {
    t.deadline = now + millis(t.timeout_ms);
    t.deadline_pos = deadlines_.emplace(t.deadline, &t);
  }
  ++stats_.submitted;
  queue_.push(t, now);
  seen_.task_submitted(t);
  return t;
}

task* task_table::take_next(const worker_record& w, std::uint32_t lanes) {
  lanes &= w.lanes;
  if (!w.caps) return queue_.pop_for({}, lanes);
  const capability_class& c = *w.caps;
  return queue_.pop_for([&c](std::string_view route) { return c.can_run(route); }, lanes);
}

bool task_table::start(task& t, slot& s) {
  assert(t.state == task_state::queued && !t.running_on && !s.running);
  t.started_at = clock_.now();
  ++t.attempt;
  zmq::message_t payload;
  payload.copy(t.payload);  // shares the buffer for large payloads; the original stays for requeue
  const auto left = std::chrono::duration_cast<millis>(t.deadline - t.started_at).count();
  const std::uint64_t deadline = t.timeout_ms ? unix_ms() + static_cast<std::uint64_t>(std::max<long>(left, 0)) : 0;
  if (out_.send(s.routing_id, task_msg{t.id, t.name, t.attempt, deadline, t.argv}, &payload) != send_status::sent) {
    --t.attempt;
    queue_.push_front(t);
    return false;
  }
  stats_.wait_time.add(micros(t.started_at - t.queued_at));
  t.incarnation = s.worker->incarnation;
  t.state = task_state::running;
  t.running_on = &s;
  s.running = &t;
  ++running_by_lane_[static_cast<std::size_t>(t.pri)];
  seen_.task_dispatched(t, s);
  return true;
}

bool task_table::accept_done(slot* s, done_msg& m, zmq::message_t& payload) {
  task* t = s ? s->running : nullptr;
  if (!t || t->id != m.id) {
    log::info("dropped a result for task {} from worker {}: that slot is not running it (it finished or moved)", m.id, m.worker_id);
    if (t) requeue(*t, "stale_result");
    return false;
  }
  stats_.run_time.add(micros(clock_.now() - t->started_at));
  if (m.ok) finish(*t, result_msg{t->id}, &payload);
  else finish(*t, failed_msg{t->id, worker_kind(m.kind, *t), m.error}, nullptr);
  return true;
}

// An output below glibc's mmap threshold (128 KiB) sits in the heap arena of
// ZeroMQ's I/O thread, which received it. Kept for the result TTL, it would
// pin that arena and make it grow with every task (an mprotect and fresh
// pages per task, measured at about a fifth of the broker's CPU per
// task), so a small output is copied into this thread's heap instead. A
// larger one has its own mapping and is shared, not copied.
void task_table::keep_output(zmq::message_t& kept, zmq::message_t& output) {
  constexpr std::size_t shared_from = 128 * 1024;
  if (output.size() >= shared_from) kept.copy(output);  // shares the buffer; the send moves the original
  else kept.rebuild(output.data(), output.size());
}

void task_table::finish(task& t, const body& outcome, zmq::message_t* output) {
  if (std::holds_alternative<result_msg>(outcome)) ++stats_.completed;
  else ++stats_.failed;
  zmq::message_t kept;
  if (output) keep_output(kept, *output);
  seen_.task_finished(t, outcome);  // before the unlink: it names the worker that ran it
  out_.deliver(t.client, outcome, output, wait_kind::outcome);
  outcomes_.put(t.key, outcome, std::move(kept), clock_.now());
  erase(t);
}

void task_table::fail(task& t, const char* kind, const std::string& text) {
  if (t.state == task_state::running) abandon(t);
  finish(t, failed_msg{t.id, kind, text}, nullptr);
}

// The slot keeps its busy state with no task: its DONE, whenever it comes, is
// dropped and makes it ready again. Its worker is told to stop the task.
void task_table::abandon(task& t) {
  slot* s = t.running_on;
  if (!s) return;
  unlink(t);
  const std::string& control = s->worker->control_id;
  if (control.empty()) {
    log::info("task {} was abandoned on worker {}, which has no control channel to be told", t.id, s->worker->id);
    return;
  }
  out_.send(control, cancel_msg{t.id});
}

void task_table::requeue(task& t, const char* why) {
  assert(t.state == task_state::running);
  unlink(t);
  if (t.attempt >= t.max_attempts) {
    finish(t, failed_msg{t.id, "worker_lost", fmt::format("the worker running it was lost on each of {} attempts", t.attempt)},
        nullptr);
    return;
  }
  t.state = task_state::queued;
  queue_.push_front(t);
  seen_.task_requeued(t, why);
}

void task_table::release(slot& s, const char* why) {
  if (s.running) requeue(*s.running, why);
}

bool task_table::return_unstarted(slot& s) {
  task* t = s.running;
  if (!t || t->incarnation == 0 || t->incarnation != s.worker->incarnation || t->unstarted_returns >= max_unstarted_returns)
    return false;
  --t->attempt;  // it never started, so this return leaves an attempt to spare
  ++t->unstarted_returns;
  requeue(*t, "not_started");
  return true;
}

void task_table::unlink(task& t) {
  if (!t.running_on) return;
  assert(t.running_on->running == &t);
  t.running_on->running = nullptr;
  t.running_on = nullptr;
  --running_by_lane_[static_cast<std::size_t>(t.pri)];
}

// Leaves the queue or its slot, its deadline entry, and the table.
void task_table::erase(task& t) {
  if (t.state == task_state::queued) queue_.remove(t);
  else unlink(t);
  if (t.timeout_ms) deadlines_.erase(t.deadline_pos);
  const std::string key = t.key;  // erase must not read a key it is destroying
  tasks_.erase(key);
}

void task_table::expire(time_point now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    task& t = *deadlines_.begin()->second;
    const bool started = t.state == task_state::running;
    log::info("task {} passed its {} ms timeout {}", t.id, t.timeout_ms, started ? "while running" : "before it started");
    fail(t, "timeout", fmt::format("no result within {} ms ({})", t.timeout_ms,
                                   started ? "its worker was told to stop" : "it never started"));
  }
  outcomes_.expire(now);
}

std::optional<time_point> task_table::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::vector<std::string> task_table::violations(const worker_registry& workers) const {
  std::vector<std::string> found;
  std::size_t queued = 0, timed = 0;
  std::array<std::size_t, 3> by_lane{};
  for (const auto& [key, t] : tasks_) {
    if (t.key != key) found.push_back(fmt::format("task {} is filed under another key", t.id));
    if (t.timeout_ms) ++timed;
    if (t.running_on) ++by_lane[static_cast<std::size_t>(t.pri)];
    if (t.state == task_state::queued) {
      ++queued;
      if (t.running_on) found.push_back(fmt::format("queued task {} is linked to a slot", t.id));
    } else if (!t.running_on) {
      found.push_back(fmt::format("running task {} has no slot", t.id));
    } else if (t.running_on->running != &t) {
      found.push_back(fmt::format("running task {} is not its slot's task", t.id));
    }
  }
  if (queued != queue_.size()) found.push_back(fmt::format("{} tasks are queued but the queue holds {}", queued, queue_.size()));
  if (by_lane != running_by_lane_)
    found.push_back(fmt::format("running per lane is {}/{}/{} but counted {}/{}/{}", by_lane[0], by_lane[1], by_lane[2],
                                running_by_lane_[0], running_by_lane_[1], running_by_lane_[2]));
  if (timed != deadlines_.size()) found.push_back(fmt::format("{} tasks have a timeout but {} deadlines are set", timed, deadlines_.size()));
  workers.each_worker([&](const worker_record& w) {
    for (const slot* s : w.members) {
      if (!s->running) continue;
      auto it = tasks_.find(s->running->key);
      if (it == tasks_.end() || &it->second != s->running) found.push_back(fmt::format("a slot of worker {} runs a task the table does not hold", w.id));
      else if (s->running->running_on != s) found.push_back(fmt::format("a slot of worker {} runs task {}, which is on another slot", w.id, s->running->id));
    }
  });
  return found;
}

void task_table::check([[maybe_unused]] const worker_registry& workers) const {
#ifdef ARGON_CHECK_INVARIANTS
  const auto found = violations(workers);
  if (found.empty()) return;
  for (const auto& v : found) log::warn("task table invariant broken: {}", v);
  std::abort();
#endif
}

}  // namespace argon::broker
