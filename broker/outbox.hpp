// The broker's one way onto its ROUTER socket.
//
// Every message the broker sends (replies, TASKs, outcomes, CANCELs,
// heartbeats) goes through send(): it frames the body with the codec,
// tells the observer (trace and busy events), counts it, and turns the two
// ordinary failures of a ROUTER with ZMQ_ROUTER_MANDATORY into a value and
// a log line: EHOSTUNREACH (the peer has disconnected) and EAGAIN (the
// peer's queue is at its high-water mark: it does not read). Neither stops
// the broker; the caller decides what a failed send means for its task.
// The socket is never blocked on (ZMQ_DONTWAIT).
#pragma once

#include <cstdint>
#include <string_view>

#include <zmq.hpp>

#include "codec.hpp"
#include "observer.hpp"

namespace argon::broker {

// How many messages went out and how many could not.
struct outbox_counts {
  std::uint64_t sent = 0;         // messages handed to the socket
  std::uint64_t unreachable = 0;  // not sent: the peer had disconnected (EHOSTUNREACH)
  std::uint64_t would_block = 0;  // not sent: the peer's queue was full (EAGAIN)
};

class outbox {
 public:
  outbox(zmq::socket_ref router, observer& seen) : router_(router), seen_(seen) {}

  // Sends b to the peer with routing id `to`, moving the payload out of
  // *payload when the command carries one (an empty frame when null).
  // Returns sent, unreachable or would_block; the last two are logged with
  // the command and, when the body names one, its task id.
  common::send_status send(std::string_view to, const common::body& b, zmq::message_t* payload = nullptr);

  [[nodiscard]] const outbox_counts& counts() const { return counts_; }

 private:
  void log_failure(common::send_status st, const common::body& b) const;

  zmq::socket_ref router_;  // the broker's ROUTER
  observer& seen_;          // trace hooks
  outbox_counts counts_;    // totals since the broker started
};

}  // namespace argon::broker
