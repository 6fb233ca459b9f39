// How an Argon program ends: its exit codes, and the one line it prints
// when an exception reaches main.
//
// Every main ends in `catch (...) { return common::report_fatal("PROGRAM"); }`
// after any catch of its own, so nothing escapes as an abort: the program
// prints "PROGRAM: error: WHAT" on stderr and exits with the code of the
// exception's kind. docs/operations.md has the table; scripts rely on it,
// so a code never changes meaning.
#pragma once

#include <string_view>

namespace argon::common {

// Exit codes of Argon's programs.
enum exit_code : int {
  exit_ok = 0,            // success
  exit_task_failed = 1,   // a task failed (argon submit/exec/bench); argon-worker: stopped by a second signal
  exit_usage = 2,         // a bad flag or configuration: config_error, or an endpoint ZeroMQ refused
  exit_busy = 3,          // the broker was busy and retrying was off
  exit_unreachable = 4,   // the broker did not answer, or the task's timeout passed
  exit_system = 5,        // the OS, libuv or ZeroMQ refused a resource, or a peer broke the protocol
  exit_internal = 6,      // an exception that is not Argon's, or a usage_error: a bug
};

// Call only inside a catch block: prints "PROGRAM: error: WHAT" for the
// exception in flight and returns its exit code.
[[nodiscard]] int report_fatal(std::string_view program) noexcept;

}  // namespace argon::common
