// Watches the broker's ROUTER with a zmq_socket_monitor: failed CURVE
// handshakes and, for the monitor stream, connections.
//
// A peer whose keyfile differs from the broker's fails the handshake before
// the ZAP handler is ever asked (its HELLO does not decrypt), and libzmq
// tells nobody. The socket monitor reports those failures; this class reads
// them from the loop, logs and counts them, and hands them to the observer
// as auth_failed. With an observer that wants connections it also follows
// ACCEPTED and DISCONNECTED, keeping each connection's address by fd (read
// with getpeername when ACCEPTED is read) so that a handshake failure,
// which libzmq reports just before the DISCONNECTED of the same
// connection, can name the peer. fds are reused at once, so the map is
// updated strictly in event order; an address is best effort.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "zmq_watch.hpp"

namespace argon::broker {

class observer;

class handshake_watch {
 public:
  // seen may be null (logging only); mechanism names the broker's ("CURVE" or "NULL").
  handshake_watch(zmq::context_t& ctx, uv_loop_t* loop, zmq::socket_ref monitored, observer* seen, std::string mechanism);
  ~handshake_watch();
  handshake_watch(const handshake_watch&) = delete;
  handshake_watch& operator=(const handshake_watch&) = delete;

  [[nodiscard]] std::uint64_t failures() const { return failures_; }

 private:
  void read_one();
  void on_failure(std::uint16_t event, std::uint32_t value, std::string_view where);
  void on_disconnected(int fd);

  zmq::socket_ref monitored_;            // the socket being watched
  zmq::socket_t events_;                 // PAIR receiving its monitor events
  observer* seen_;                       // where events go; null: log only
  std::string mechanism_;                // the broker's security mechanism
  std::uint64_t failures_ = 0;           // failed handshakes seen
  std::string pending_why_;              // a failure waiting for its connection's DISCONNECTED
  std::unordered_map<int, std::string> addresses_;  // open connections' peer addresses by fd
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on events_
};

}  // namespace argon::broker
