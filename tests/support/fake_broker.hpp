// Test fixture: a broker played by the test thread, for the client library's
// unit tests. A ROUTER that answers PING with PONG naming its instance (and,
// when set, the payload limit), and hands every other message to the test;
// settle_contact() lets a client make first contact, and fast_options() gives
// a client short heartbeats. Header-only.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "argon/client.hpp"
#include "codec.hpp"

namespace argon::test {

using namespace std::chrono_literals;

// One message the fake broker received, with its sender.
struct received {
  zmq::message_t routing_id;  // the client's routing id
  common::message msg;        // what it sent
};

// A broker played by the test thread: a ROUTER that answers PING with PONG
// naming `instance`, and hands every other message to the test.
struct fake_broker {
  zmq::context_t ctx;                                    // private context
  zmq::socket_t router{ctx, zmq::socket_type::router};   // bound on loopback
  std::string endpoint;                                  // where it is bound
  std::string instance;                                  // the instance id its PONGs carry
  bool answer_pings = true;                              // false: PINGs go unanswered, to the test like the rest
  int pings = 0;                                         // PINGs answered
  std::uint64_t max_payload = 0;                         // the limit its PONGs say; 0 says none

  fake_broker(std::string id, const std::string& bind_to) : instance(std::move(id)) {
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::router_handover, 1);
    router.bind(bind_to);
    endpoint = router.get(zmq::sockopt::last_endpoint);
  }

  // The next message other than PING within limit, answering PINGs meanwhile.
  std::optional<received> next(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (zmq::poll(&item, 1, std::max(left, 1ms)) == 0) continue;
      auto f = common::read_frames(router, common::socket_kind::router);
      if (!f) continue;
      received r{std::move(f->routing_id), common::decode(*f)};
      if (!answer_pings || !std::holds_alternative<common::ping_msg>(r.msg.content)) return r;
      ++pings;
      reply(r.routing_id, common::pong_msg{instance, max_payload});
    }
    return std::nullopt;
  }

  // The next SUBMIT within limit (other messages are skipped).
  std::optional<received> next_submit(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto r = next(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
      if (r && std::holds_alternative<common::submit_msg>(r->msg.content)) return r;
    }
    return std::nullopt;
  }

  void reply(const zmq::message_t& to, const common::body& b, const std::string& payload = "") {
    zmq::message_t p(payload.data(), payload.size());
    (void)common::send(router, common::socket_kind::router, &to, common::role::broker, b, &p);
  }
};

const common::submit_msg& submit_of(const received& r) { return std::get<common::submit_msg>(r.msg.content); }

// Lets the client make first contact (the broker answers its PINGs), so a
// task submitted after it is sent once until the broker restarts.
void settle_contact(fake_broker& broker) {
  for (int i = 0; i < 50 && broker.pings == 0; ++i) REQUIRE_FALSE(broker.next(100ms));
  REQUIRE(broker.pings > 0);
  (void)broker.next(100ms);  // time for the PONG to reach the client
}

client_options fast_options(const std::string& endpoint) {
  client_options o;
  o.broker = endpoint;
  o.insecure = true;
  o.heartbeat = 100ms;
  o.liveness = 3;
  return o;
}

}  // namespace argon::test
