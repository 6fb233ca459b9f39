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

}  // namespace argon
