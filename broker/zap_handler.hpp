// The broker's ZAP handler: decides which CURVE keys may connect.
//
// libzmq asks it (REP on inproc://zeromq.zap.01) about every CURVE
// handshake on a socket with a ZAP domain. Only the worker and client public
// keys derived from the keyfile are admitted, and the answer's User-Id names
// the role ("worker" or "client"), which the broker checks against each
// command. Without a handler CURVE would admit any key, so the broker binds
// this before its ROUTER. Refusals are logged with the peer's address and
// counted, because the refused client itself is told nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <zmq.hpp>

#include "keys.hpp"
#include "zmq_watch.hpp"

namespace argon::broker {

class zap_handler {
 public:
  // Called with the peer address, the mechanism and the reason of each refusal.
  using refusal_hook = std::function<void(const std::string&, const std::string&, const std::string&)>;
  zap_handler(zmq::context_t& ctx, uv_loop_t* loop, const common::role_keys& keys, refusal_hook on_refused);

  [[nodiscard]] std::uint64_t refused() const { return refused_; }

 private:
  void answer_one();
  std::string role_of(const zmq::message_t& mechanism, const zmq::message_t& key) const;

  common::role_keys keys_;   // admitted public keys
  refusal_hook on_refused_;  // told of each refusal (the monitor stream)
  zmq::socket_t socket_;     // REP bound to inproc://zeromq.zap.01
  std::uint64_t refused_ = 0;  // handshakes refused
  common::zmq_watch watch_;  // loop watch on socket_
};

}  // namespace argon::broker
