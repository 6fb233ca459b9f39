// The one libuv-ZeroMQ bridge: watches a ZeroMQ socket from a libuv loop.
//
// A uv_poll_t watches the socket's ZMQ_FD. That fd is edge-triggered and a
// send on the socket can consume the edge, so on every wake-up, and after
// every send made outside the read callback, drain() calls read_one while
// ZMQ_EVENTS has ZMQ_POLLIN. read_one must take exactly one whole message
// off the socket. After each batch of reads (all that waited, or at most
// max_batch messages) drain() calls after_reads, when given, and then looks
// for messages again, since its sends may have consumed the edge. Drains do
// not nest: a drain() from inside read_one or after_reads is a no-op
// because the running drain re-checks ZMQ_EVENTS anyway. A watch libuv
// cannot start throws common::system_error.
#pragma once

#include <functional>

#include <zmq.hpp>

#include "uv_handles.hpp"

namespace argon::common {

class zmq_watch {
 public:
  // Most messages read before after_reads runs.
  static constexpr int max_batch = 256;

  zmq_watch(uv_loop_t* loop, zmq::socket_ref socket, std::function<void()> read_one,
            std::function<void()> after_reads = nullptr);
  zmq_watch(const zmq_watch&) = delete;
  zmq_watch& operator=(const zmq_watch&) = delete;
  ~zmq_watch() = default;

  // Reads every waiting message; call after sending on the socket.
  void drain();

  // Whether the socket has a message waiting now.
  [[nodiscard]] bool readable() const;

 private:
  zmq::socket_ref socket_;           // watched socket (owned elsewhere, outlives this)
  std::function<void()> read_one_;   // takes one message off the socket
  std::function<void()> after_reads_;  // runs after each batch of reads; may be empty
  bool draining_ = false;            // a drain is running further up the stack
  uv_ptr<uv_poll_t> poll_;           // libuv watch on ZMQ_FD
};

}  // namespace argon::common
