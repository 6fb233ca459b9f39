// Watches the broker's ROUTER with a zmq_socket_monitor: connections that
// fail before they speak Argon, and, for the monitor stream, connections.
//
// A peer whose keyfile differs from the broker's fails the handshake before
// the ZAP handler is ever asked (its HELLO does not decrypt), and libzmq
// tells nobody. The socket monitor reports those failures, and also
// handshakes cut short (the peer went away, a paused broker, a port scan)
// or broken (not a ZMTP peer), and accept() failures. This class reads them
// from the loop and sorts them: a refused key or mechanism (a different
// keyfile, a plaintext peer) is logged at warn and is the observer's
// auth_failed; a broken handshake is logged at warn and a cut-short one at
// info, and neither is an auth_failed; a refusal by the ZAP handler was
// logged and published there. Each peer address gets at most one line per
// 10 s (peer_log_limiter), with the count of the rest. Running out of file
// descriptors (accept() failing with EMFILE or ENFILE, which libzmq retries
// at once, thousands of times a second) is logged at error once per 10 s,
// saying to raise the limit.
//
// libzmq reports a handshake failure without its peer, just before the
// DISCONNECTED of the same connection, so the failure is handled when that
// comes; the address is the one getpeername gave when ACCEPTED was read
// (fds are reused at once, so the map follows event order; an address is
// best effort).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "clock.hpp"
#include "peer_log_limiter.hpp"
#include "uv_handles.hpp"
#include "zmq_watch.hpp"

namespace argon::broker {

class observer;

class handshake_watch {
 public:
  // seen may be null (logging only); mechanism names the broker's ("CURVE" or "NULL").
  handshake_watch(zmq::context_t& ctx, uv_loop_t* loop, common::clock& clk, zmq::socket_ref monitored, observer* seen,
                  std::string mechanism);
  ~handshake_watch();
  handshake_watch(const handshake_watch&) = delete;
  handshake_watch& operator=(const handshake_watch&) = delete;

  [[nodiscard]] std::uint64_t failures() const { return failures_; }

 private:
  // A handshake failure waiting for its connection's DISCONNECTED.
  struct failure {
    std::uint16_t event = 0;  // ZMQ_EVENT_HANDSHAKE_FAILED_*; 0: none
    std::uint32_t value = 0;  // its protocol error code or errno
  };

  bool read_one();
  void on_accepted(int fd);
  void on_disconnected(int fd);
  void on_accept_failed(int err, std::string_view where);
  void report(const failure& f, const std::string& address);
  void flush();

  zmq::socket_ref monitored_;            // the socket being watched
  zmq::socket_t events_;                 // PAIR receiving its monitor events
  common::clock& clock_;                 // for the log limits
  observer* seen_;                       // where events go; null: log only
  std::string mechanism_;                // the broker's security mechanism
  std::uint64_t failures_ = 0;           // failed handshakes seen
  failure pending_;                      // a failure waiting for its connection's DISCONNECTED
  std::unordered_map<int, std::string> addresses_;  // open connections' peer addresses by fd
  peer_log_limiter warn_lines_;          // refused and broken handshakes, per peer address
  peer_log_limiter info_lines_;          // handshakes cut short, per peer address
  peer_log_limiter accept_lines_;        // accept() out of resources, per endpoint
  common::timer flush_timer_;            // writes the held-back counts when an interval ends
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on events_
};

}  // namespace argon::broker
