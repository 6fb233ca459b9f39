// argon::error — the root of every exception Argon throws.
//
// One root, as cppzmq has one exception type: a caller that wants to know
// only "did Argon fail?" catches argon::error; one that wants to act on
// the cause catches a kind below it. Every kind keeps the message it was
// given (what()), written for the person who has to fix it.
//
//   config_error    a user's flag, file or key is wrong; fix it and start again
//   protocol_error  a peer sent something the protocol does not allow
//   system_error    the OS, libuv or ZeroMQ refused a resource (a loop, a
//                   handle, a socket); nothing in Argon's input is wrong
//   usage_error     a program called the library in a way it does not allow,
//                   e.g. a blocking client call from the client's own I/O thread
//
// argon::task_failed (argon/client.hpp) and argon::worker::task_error
// (argon/task_context.hpp) derive from argon::error too; they carry a task's
// error kind. Argon's own programs turn each kind into an exit code
// (docs/operations.md).
#pragma once

#include <exception>
#include <stdexcept>

namespace argon {

// Anything Argon throws.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration mistake the user can fix (bad flag, unreadable keyfile, unknown endpoint).
class config_error : public error {
 public:
  using error::error;
};

// Malformed, truncated, oversized or out-of-place message from a peer.
class protocol_error : public error {
 public:
  using error::error;
};

// The OS, libuv or ZeroMQ could not give a resource Argon needs to run.
class system_error : public error {
 public:
  using error::error;
};

// The library was called in a way its contract forbids; the calling program has a bug.
class usage_error : public error {
 public:
  using error::error;
};

// The exit codes of Argon's programs (docs/operations.md has the table).
// Scripts rely on them, so a code never changes meaning.
enum exit_code : int {
  exit_ok = 0,            // success
  exit_task_failed = 1,   // a task failed (argon submit/exec/bench); argon-worker: stopped by a second signal
  exit_usage = 2,         // a bad flag or configuration: config_error, or an endpoint ZeroMQ refused
  exit_busy = 3,          // the broker was busy and retrying was off
  exit_unreachable = 4,   // the broker did not answer, or the task's timeout passed
  exit_system = 5,        // the OS, libuv or ZeroMQ refused a resource, or a peer broke the protocol
  exit_internal = 6,      // an exception that is not Argon's, or a usage_error: a bug
};

// The exit code for an exception that reached main, as Argon's own programs
// give it: exit_usage for a config_error, exit_internal for a usage_error or
// an exception that is not Argon's, exit_system for any other argon::error.
[[nodiscard]] inline int exit_code_of(const std::exception& e) noexcept {
  if (dynamic_cast<const config_error*>(&e)) return exit_usage;
  if (dynamic_cast<const usage_error*>(&e)) return exit_internal;
  if (dynamic_cast<const error*>(&e)) return exit_system;
  return exit_internal;
}

}  // namespace argon
