// Runs one program for a task: payload to stdin, stdout back as the result.
//
// run_program() blocks its calling thread (a slot's handler thread) and
// drives a private libuv loop there, so the worker's own loop never waits.
// The program is started with uv_spawn, without a shell, in a new session
// (UV_PROCESS_DETACHED), so it leads its own process group, with exactly
// the environment given. Its stdin is written asynchronously while stdout
// and stderr are read, so a large payload cannot deadlock against a large
// result. It promises:
// - stdout beyond max_result_bytes kills the group: result_too_large;
// - a deadline or a cancel sends SIGTERM to the group, then SIGKILL after
//   kill_grace: timeout or cancelled;
// - a non-zero exit or a signal: task_error with the exit status or signal
//   and the last 4 KiB of stderr; a program that cannot start: exec_failed;
// - once the program exits, whatever is left of its process group gets
//   SIGKILL, and libuv reaps the program, so nothing is orphaned and no
//   zombie stays. A process that leaves the group (setsid, daemonizing)
//   escapes this; its open copy of stdout is abandoned after a short wait.
// - kill_running_programs() ends every running program's group at once,
//   for a worker that exits without waiting.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace argon::worker {

// How programs are bounded on this worker.
struct exec_limits {
  std::size_t max_result_bytes = 16u << 20;       // stdout past this fails the task
  std::chrono::milliseconds kill_grace{2000};     // SIGTERM to SIGKILL on deadline or cancel
};

// One program to run.
struct exec_request {
  std::vector<std::string> argv;                   // absolute program path, then its arguments
  std::vector<std::string> env;                    // the whole environment, NAME=VALUE
  std::string_view input;                          // written to stdin, then stdin is closed
  std::optional<std::chrono::steady_clock::time_point> deadline;  // stop the program then
  std::function<bool()> cancelled;                 // polled; true stops the program
};

// How a run ended, as the task's error kind.
enum class exec_status { ok, task_error, exec_failed, result_too_large, timeout, cancelled };

// What a run produced.
struct exec_result {
  exec_status status = exec_status::ok;  // how it ended
  std::string output;                    // stdout when ok
  std::string error;                     // why it failed, with the stderr tail
  pid_t pid = 0;                         // the program's pid (= its process group), 0 if it never started
};

// The wire kind of a status ("" for ok).
[[nodiscard]] const char* kind_of(exec_status s);

// Runs the program to its end on a private loop; never throws for the program's faults.
[[nodiscard]] exec_result run_program(const exec_request& request, const exec_limits& limits);

// Any thread: SIGKILL to the process group of every program running now, for
// a worker that exits without waiting for its tasks. Returns how many.
std::size_t kill_running_programs();

}  // namespace argon::worker
