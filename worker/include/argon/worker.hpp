// argon::worker — the C++ worker library: register handlers, serve a broker.
//
// A worker process connects `capacity` REQ task slots to the broker. Each
// slot announces READY, with the worker's capabilities (its task names and
// its --allow-exec patterns), takes one task at a time, runs its handler on
// the slot's own handler thread (a quick handler, on the loop thread), and returns
// DONE, which also says it is ready again. A handler maps payload bytes to
// result bytes, optionally with a task_context (id, attempt, deadline,
// cancel flag, progress; see task_context.hpp). A thrown task_error fails
// the task with its kind; any other exception with kind task_error and
// e.what() as the text. A task name with no handler fails with "no handler
// for task 'NAME'".
//
// Handlers come from C++ (handle), from programs (handle_command: the
// payload on stdin, stdout as the result; docs/worker-api.md has the
// process rules), and from plugins (load_plugin, argon/plugin.h). The
// reserved task "exec" runs a program the client names, only if it matches
// one of options::allow_exec (otherwise it fails as not_allowed).
//
// With several brokers (options::brokers) the worker has a control channel
// and `capacity` slots for each, and never runs more than `capacity` tasks
// at once in all: a slot's READY holds one of `capacity` permits, and once a
// heartbeat a permit moves (WITHDRAW) from a broker where a READY waits to
// one whose permits all run tasks. docs/architecture.md has the design.
//
// The worker follows its broker. When the broker restarts (it names a new
// instance in its heartbeats), the worker says HELLO again and its idle
// slots say READY again. When the broker is silent for liveness ×
// heartbeat_ms, the worker recreates its sockets and announces itself again,
// retrying after 1 s, 2 s, 4 s … up to 32 s while the silence lasts. A busy
// slot finishes its task and returns DONE either way. A CANCEL from the
// broker sets the running task's cancel flag (task_context::cancelled());
// programs are stopped, and C++ handlers may poll it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "argon/task_context.hpp"
#include "protocol.hpp"

namespace argon::worker {

struct options {
  std::string broker;                         // "tcp://host:port" or "host:port"; several comma-separated, as brokers
  std::vector<std::string> brokers;           // several brokers (at most 16), used instead of broker when not empty:
                                              // the slots serve all of them, capacity tasks at once in all
  std::optional<std::string> keyfile;         // shared keyfile; required unless insecure
  std::optional<std::string> worker_keyfile;  // separate worker keyfile (broker's --worker-key)
  bool insecure = false;                      // plaintext, only when asked for
  unsigned capacity = 1;                      // task slots: tasks run at once
  std::string worker_id;                      // empty = 8 random hex characters
  unsigned heartbeat_ms = 1000;               // control-channel heartbeat interval
  unsigned liveness = 3;                      // silent heartbeat intervals before the worker reconnects
  std::vector<std::string> allow_exec;        // globs over absolute program paths task "exec" may run; none = no exec
  std::vector<std::string> exec_env;          // extra environment for programs: NAME (copied) or NAME=VALUE
  std::size_t max_result_bytes = 16u << 20;   // a program's stdout past this fails its task (result_too_large)
  unsigned kill_grace_ms = 2000;              // SIGTERM to SIGKILL when a program's task times out or is cancelled
  std::vector<common::priority> lanes;        // lanes its slots take (reserved capacity, e.g. {high}); none = every lane
};

// Parses a --lanes list: comma-separated names among high, normal, low (e.g.
// "high" or "high,normal"). Throws common::config_error naming a bad or
// repeated name, or an empty list.
std::vector<common::priority> parse_lanes(const std::string& list);

// Turns a task's payload into its result; throw to fail the task.
using handler = std::function<std::string(std::string_view payload)>;
// The same, with the task's context: id, deadline, cancel flag, progress.
using context_handler = std::function<std::string(std::string_view payload, task_context& ctx)>;

class worker {
 public:
  // Checks the options and loads keys; throws common::config_error on a mistake.
  explicit worker(options opts);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Registers (or replaces) the handler for a task name. Call before run().
  // Throws common::config_error for an empty name, one over 128 bytes, or "exec".
  void handle(std::string name, handler fn);
  void handle(std::string name, context_handler fn);
  // Registers a quick handler: one that returns within microseconds and never
  // blocks (no I/O, sleep or contended lock). It runs on the worker's loop
  // thread as soon as its TASK arrives, which saves the two thread hand-offs
  // a task on the slot's handler thread costs (measured at about 15 µs of CPU
  // per task, docs/worker-api.md). While it runs no other slot is served and
  // no heartbeat leaves, so anything slower belongs in handle(). The task is
  // never cancelled while it runs; errors are as for handle().
  void handle_quick(std::string name, handler fn);
  // Serves task `name` by running `command` (split as a shell would, but run
  // without one; a bare program name is looked up in PATH now): the payload
  // goes to its stdin and its stdout is the result. Throws common::config_error.
  void handle_command(std::string name, const std::string& command);
  // Loads a plugin (argon/plugin.h) and registers its tasks; it stays loaded
  // while the worker lives. Throws common::config_error naming the file and the problem.
  void load_plugin(const std::string& path);
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

// The most brokers one worker serves.
inline constexpr std::size_t max_brokers = 16;

// Registers the built-in tasks echo, sleep and fail.
void add_builtin_handlers(worker& w);

}  // namespace argon::worker
