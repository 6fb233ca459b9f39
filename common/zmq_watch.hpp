// The one libuv-ZeroMQ bridge: watches a ZeroMQ socket from a libuv loop.
//
// A uv_poll_t watches the socket's ZMQ_FD. That fd is edge-triggered and a
// send on the socket can consume the edge, so on every wake-up, and after
// every send made outside the read callback, drain() calls read_one until
// it returns false. read_one takes one whole message off the socket with
// ZMQ_DONTWAIT and returns true, or returns false when none is waiting (the
// receive failed with EAGAIN, which also processes the socket's pending
// commands and so re-arms the edge), or when the socket may not receive now
// (a REQ socket between a reply and its next request). Reading until
// EAGAIN instead of asking ZMQ_EVENTS before each message spares a
// getpid() and a poll() per message inside libzmq. After each batch of
// reads (all that waited, or at most max_batch messages) drain() calls
// after_reads, when given, and then reads again, since its sends may have
// consumed the edge; it stops when a batch finds nothing. After
// max_batches_per_turn full batches it yields: the rest is read on the next
// turn of the loop, after the timers that came due (a broker read a flood of
// 175,000 SUBMITs in one drain, sent no heartbeat meanwhile, and its worker
// gave it up for lost).
//
// Drains never nest, so no message is handled inside another's handling:
// a handler may send on any socket (and so ask for a drain) while it is
// half-way through changing what the handlers share. A drain() of this
// watch from inside its own read_one or after_reads is a no-op (the running
// drain reads again, so a read_one that sends must return true). A drain()
// while any other watch on this thread is draining, and every
// drain_soon(), reads on the next turn of the loop instead, from an idle
// handle, with nothing else on the stack. The constructor's first drain
// follows the same rule.
// A watch libuv cannot start throws common::system_error.
#pragma once

#include <functional>

#include <zmq.hpp>

#include "uv_handles.hpp"

namespace argon::common {

class zmq_watch {
 public:
  // Most messages read before after_reads runs.
  static constexpr int max_batch = 256;
  // Most batches one drain reads before it lets the loop run its timers and
  // other sockets (and goes on, from an idle handle, on the next turn): a
  // flood of messages on one socket must not hold heartbeats back.
  static constexpr int max_batches_per_turn = 16;

  zmq_watch(uv_loop_t* loop, zmq::socket_ref socket, std::function<bool()> read_one,
            std::function<void()> after_reads = nullptr);
  zmq_watch(const zmq_watch&) = delete;
  zmq_watch& operator=(const zmq_watch&) = delete;
  ~zmq_watch() = default;

  // Reads every waiting message now, or on the next turn of the loop when
  // another watch's drain is running on this thread; call after sending on the socket.
  void drain();
  // Reads every waiting message on the next turn of the loop: for a send
  // whose caller must not see any handler run before it returns.
  void drain_soon();

 private:
  zmq::socket_ref socket_;           // watched socket (owned elsewhere, outlives this)
  std::function<bool()> read_one_;   // takes one message off the socket; false when there was none
  std::function<void()> after_reads_;  // runs after each batch of reads; may be empty
  bool draining_ = false;            // a drain is running further up the stack
  uv_ptr<uv_poll_t> poll_;           // libuv watch on ZMQ_FD
  uv_ptr<uv_idle_t> soon_;           // runs a deferred drain on the next turn of the loop
};

}  // namespace argon::common
