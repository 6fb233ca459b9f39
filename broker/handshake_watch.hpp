// Logs failed CURVE handshakes on the broker's socket.
//
// A peer whose keyfile differs from the broker's fails the handshake before
// the ZAP handler is ever asked (its HELLO does not decrypt), and libzmq
// tells nobody. A zmq_socket_monitor on the ROUTER reports those failures;
// this class reads them from the loop and logs them, so an operator can see
// a misconfigured client or worker. Counting is its job too.
#pragma once

#include <cstdint>
#include <memory>

#include <zmq.hpp>

#include "zmq_watch.hpp"

namespace argon::broker {

class handshake_watch {
 public:
  handshake_watch(zmq::context_t& ctx, uv_loop_t* loop, zmq::socket_ref monitored);
  ~handshake_watch();
  handshake_watch(const handshake_watch&) = delete;
  handshake_watch& operator=(const handshake_watch&) = delete;

  [[nodiscard]] std::uint64_t failures() const { return failures_; }

 private:
  void read_one();

  zmq::socket_ref monitored_;            // the socket being watched
  zmq::socket_t events_;                 // PAIR receiving its monitor events
  std::uint64_t failures_ = 0;           // failed handshakes seen
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on events_
};

}  // namespace argon::broker
