// The broker's one way onto its ROUTER socket.
//
// Every message the broker sends goes through the outbox: it frames the
// body with the codec, tells the observer (trace and busy events), counts
// it, and turns the two ordinary failures of a ROUTER with
// ZMQ_ROUTER_MANDATORY into values: EHOSTUNREACH (the peer has
// disconnected) and EAGAIN (the peer's queue is full: it does not read as
// fast as it is sent to). The socket is never blocked on (ZMQ_DONTWAIT).
// There are two ways to send:
// - send() tries once. It is for what the broker sends workers (TASK,
//   CANCEL, HEARTBEAT), where the caller decides what a failure means: a
//   TASK to an unreachable slot is requeued, a heartbeat or CANCEL to a
//   full queue is dropped and logged.
// - deliver() is for replies and for everything a client is owed. Messages
//   to one peer leave in the order they were delivered: one the socket
//   cannot take now, and every later one to that peer, waits in the client
//   backlog (bounded per peer, see client_backlog.hpp) until flush() gets
//   it out. Outcomes are never dropped there while their client is
//   connected.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <zmq.hpp>

#include "client_backlog.hpp"
#include "clock.hpp"
#include "codec.hpp"
#include "observer.hpp"

namespace argon::broker {

// How many messages went out and how many could not (what waited or was
// dropped by the client backlog, it counts itself).
struct outbox_counts {
  std::uint64_t sent = 0;         // messages handed to the socket, at once or after waiting
  std::uint64_t unreachable = 0;  // not sent: the peer had disconnected (EHOSTUNREACH)
  std::uint64_t would_block = 0;  // not sent by send(): the peer's queue was full (EAGAIN)
};

// What deliver() did with a message.
enum class delivery { sent, waiting, dropped, unreachable };

class outbox {
 public:
  // backlog_bound: bytes that may wait per peer before it is over its bound (--client-backlog-bytes).
  outbox(zmq::socket_ref router, observer& seen, common::clock& clk, std::size_t backlog_bound)
      : router_(router), seen_(seen), clock_(clk), backlog_(backlog_bound) {}

  // Sends b to the peer with routing id `to`, once, moving the payload out
  // of *payload when the command carries one (an empty frame when null).
  // Returns sent, unreachable or would_block; the last two are logged with
  // the command and, when the body names one, its task id.
  common::send_status send(std::string_view to, const common::body& b, zmq::message_t* payload = nullptr);
  // Sends b to `to` after what waits for that peer, or queues it there when
  // the socket cannot take it now (moving the payload either way); kind
  // says whether it may wait past the peer's bound. A peer that has
  // disconnected is logged and the message dropped.
  delivery deliver(std::string_view to, const common::body& b, zmq::message_t* payload, wait_kind kind);
  // Offers the waiting messages of every peer that is due; call after a
  // batch of reads and when next_retry() comes.
  void flush();
  // When flush() should next run; empty when nothing waits.
  [[nodiscard]] std::optional<common::time_point> next_retry() const { return backlog_.next_due(); }
  // Whether what waits for this peer has reached the bound: its new SUBMITs get BUSY client_slow.
  [[nodiscard]] bool over_bound(std::string_view peer) const { return backlog_.over_bound(peer); }

  [[nodiscard]] const client_backlog& backlog() const { return backlog_; }
  [[nodiscard]] const outbox_counts& counts() const { return counts_; }

 private:
  delivery hand_over(std::string_view to, const common::body& b, zmq::message_t* payload, wait_kind kind);
  common::send_status put(std::string_view to, const common::body& b, zmq::message_t* payload);
  void log_failure(common::send_status st, const common::body& b) const;

  zmq::socket_ref router_;   // the broker's ROUTER
  observer& seen_;           // trace hooks
  common::clock& clock_;     // time source for the backlog's retries
  client_backlog backlog_;   // what waits for peers whose queue was full
  outbox_counts counts_;     // totals since the broker started
};

}  // namespace argon::broker
