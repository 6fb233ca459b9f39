// argon::worker::task_context — what a handler may know and do about its task.
//
// A handler of the form (payload, task_context&) is given one context per
// task, valid until the handler returns. It tells the task's id, name,
// attempt, deadline and, for the reserved task "exec", its argv. A handler
// that can stop early polls cancelled(): it turns true when the broker
// cancels the task (its client cancelled it, or it passed its deadline),
// and the outcome a handler returns after that is dropped by the broker.
// progress() may be called from any thread, as often as the handler likes;
// it never blocks, and the worker sends the broker at most about five
// PROGRESS messages a second per task, always the latest.
//
// A handler fails its task by throwing. task_error chooses the error kind
// the client sees (e.g. "not_allowed"); any other exception fails the task
// as "task_error" with e.what() as the message. task_error derives from
// argon::error (argon/error.hpp), the root of everything Argon throws.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "argon/error.hpp"

namespace argon::worker {

// Thrown by a handler to fail its task with a chosen error kind.
class task_error : public error {
 public:
  // kind: a short snake_case word (at most 128 bytes), e.g. "invalid_input"; "" means "task_error".
  task_error(std::string kind, const std::string& message);
  [[nodiscard]] const std::string& kind() const { return kind_; }

 private:
  std::string kind_;  // the error kind the client sees
};

// What the worker knows about a task when it starts it.
struct task_info {
  std::string id;                        // the client's task id
  std::string name;                      // the task name
  std::uint32_t attempt = 1;             // 1 on the first start
  std::optional<std::chrono::system_clock::time_point> deadline;  // finish by then; none when absent
  std::vector<std::string> argv;         // task "exec": the program and its arguments; else empty
};

// Receives a progress report: percent 0-100 and a short message.
using progress_sink = std::function<void(unsigned percent, std::string message)>;

class task_context {
 public:
  // The worker builds one per task; tests may build their own.
  task_context(task_info info, const std::atomic<bool>& cancelled, progress_sink sink);

  [[nodiscard]] const std::string& id() const { return info_.id; }
  [[nodiscard]] const std::string& name() const { return info_.name; }
  [[nodiscard]] std::uint32_t attempt() const { return info_.attempt; }
  [[nodiscard]] const std::optional<std::chrono::system_clock::time_point>& deadline() const { return info_.deadline; }
  [[nodiscard]] const std::vector<std::string>& argv() const { return info_.argv; }
  // True once the broker has cancelled the task; the handler should return soon.
  [[nodiscard]] bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // Reports progress (percent clamped to 100, message cut to 1,024 bytes). Thread-safe, never blocks.
  void progress(unsigned percent, std::string_view message = {});

 private:
  task_info info_;                    // the task
  const std::atomic<bool>& cancelled_;  // set by the loop thread on CANCEL
  progress_sink sink_;                // where reports go
};

}  // namespace argon::worker
