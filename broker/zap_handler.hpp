// The broker's ZAP handler: decides which CURVE keys may connect.
//
// libzmq asks it (REP on inproc://zeromq.zap.01) about every CURVE
// handshake on a socket with a ZAP domain. Only the worker and client public
// keys derived from the keyfile are admitted, and the answer's User-Id names
// the role ("worker" or "client"), which the broker checks against each
// command. Without a handler CURVE would admit any key, so the broker binds
// this before its ROUTER. Refusals are counted and logged at warn with the
// peer's address ("refused connection from ADDR: WHY"), because the refused
// client itself is told nothing; a peer that retries gets at most one line
// per 10 s, with the count of the rest (peer_log_limiter). Each refusal also
// goes to the refusal hook: the monitor's auth_failed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <zmq.hpp>

#include "clock.hpp"
#include "keys.hpp"
#include "peer_log_limiter.hpp"
#include "uv_handles.hpp"
#include "zmq_watch.hpp"

namespace argon::broker {

class zap_handler {
 public:
  // Called with the peer address, the mechanism and the reason of each refusal.
  using refusal_hook = std::function<void(const std::string&, const std::string&, const std::string&)>;
  zap_handler(zmq::context_t& ctx, uv_loop_t* loop, common::clock& clk, const common::role_keys& keys,
              refusal_hook on_refused);

  [[nodiscard]] std::uint64_t refused() const { return refused_; }

 private:
  bool answer_one();
  std::string role_of(const zmq::message_t& mechanism, const zmq::message_t& key) const;
  void log_refusal(const std::string& address, const std::string& why);
  void flush();

  common::role_keys keys_;   // admitted public keys
  refusal_hook on_refused_;  // told of each refusal (the monitor stream)
  zmq::socket_t socket_;     // REP bound to inproc://zeromq.zap.01
  std::uint64_t refused_ = 0;  // handshakes refused
  common::clock& clock_;     // for the log limit
  peer_log_limiter lines_;   // refusal lines, per peer address
  common::timer flush_timer_;  // writes the held-back counts when an interval ends
  common::zmq_watch watch_;  // loop watch on socket_
};

}  // namespace argon::broker
