// argon::worker — the C++ worker library: register handlers, serve a broker.
//
// A worker process connects `capacity` REQ task slots to the broker. Each
// slot announces READY, takes one task at a time, runs its handler on the
// slot's own handler thread (never on the loop thread), and returns DONE,
// which also says it is ready again. A handler maps payload bytes to result bytes;
// a thrown exception fails the task with e.what() as the error text. A task
// name with no handler fails with "no handler for task 'NAME'".
//
// The worker follows its broker. When the broker restarts (it names a new
// instance in its heartbeats), the worker says HELLO again and its idle
// slots say READY again. When the broker is silent for liveness ×
// heartbeat_ms, the worker recreates its sockets and announces itself again,
// retrying after 1 s, 2 s, 4 s … up to 32 s while the silence lasts. A busy
// slot finishes its task and returns DONE either way. A CANCEL from the
// broker is logged and marks the running task cancelled; handlers cannot be
// interrupted yet, so the task's outcome is still returned.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace argon::worker {

struct options {
  std::string broker;                         // "tcp://host:port" or "host:port"
  std::optional<std::string> keyfile;         // shared keyfile; required unless insecure
  std::optional<std::string> worker_keyfile;  // separate worker keyfile (broker's --worker-key)
  bool insecure = false;                      // plaintext, only when asked for
  unsigned capacity = 1;                      // task slots: tasks run at once
  std::string worker_id;                      // empty = 8 random hex characters
  unsigned heartbeat_ms = 1000;               // control-channel heartbeat interval
  unsigned liveness = 3;                      // silent heartbeat intervals before the worker reconnects
};

// Turns a task's payload into its result; throw to fail the task.
using handler = std::function<std::string(std::string_view payload)>;

class worker {
 public:
  // Checks the options and loads keys; throws common::config_error on a mistake.
  explicit worker(options opts);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Registers (or replaces) the handler for a task name. Call before run().
  void handle(std::string name, handler fn);
  // Serves tasks until stop(), SIGINT or SIGTERM; returns 0 after a clean stop.
  int run();
  // Asks run() to finish: idle slots close at once, busy ones after their task. Thread-safe.
  void stop();
  // This worker's id as the broker sees it.
  [[nodiscard]] const std::string& id() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  // sockets, loop and handlers
};

// Registers the built-in tasks echo, sleep and fail.
void add_builtin_handlers(worker& w);

}  // namespace argon::worker
