// Test fixture: a bare ROUTER standing in for the broker, with
// ROUTER_HANDOVER like the real one, so a test can script exactly what a
// worker or a client hears and see every message it sends. It binds a free
// loopback port, or a given endpoint, in plaintext or as a CURVE server with
// the broker's keys (no ZAP handler: any client key is let in). Destroying
// it closes its connections and frees the port at once. Header-only.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "codec.hpp"
#include "keys.hpp"

namespace argon::test {

// One message the scripted broker received.
struct received {
  std::string from;         // the sender's routing id
  common::message message;  // decoded
};

class scripted_broker {
 public:
  // curve: the broker's keypair, to stand in for a broker run with --key.
  explicit scripted_broker(const std::string& bind_to = "tcp://127.0.0.1:*", const common::keypair* curve = nullptr)
      : socket_(ctx_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::router_handover, 1);
    if (curve) common::apply_curve_server(socket_, *curve);
    socket_.bind(bind_to);
    endpoint = socket_.get(zmq::sockopt::last_endpoint);
  }

  // The next message, or empty if none comes within limit.
  std::optional<received> receive(std::chrono::milliseconds limit) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, limit) <= 0) return std::nullopt;
    auto f = common::read_frames(socket_, common::socket_kind::router);
    if (!f) return std::nullopt;
    std::string from = f->routing_id.to_string();
    return received{from, common::decode(*f)};
  }

  void send(const std::string& to, const common::body& b, const std::string& payload = "") {
    zmq::message_t rid(to.data(), to.size()), p(payload.data(), payload.size());
    REQUIRE(common::send(socket_, common::socket_kind::router, &rid, common::role::broker, b, &p) ==
            common::send_status::sent);
  }

  std::string endpoint;  // tcp://127.0.0.1:PORT

 private:
  zmq::context_t ctx_;    // private context
  zmq::socket_t socket_;  // the ROUTER
};

}  // namespace argon::test
