// Test fixture: a SUB on the broker's monitor feed, read on the test's own
// thread while the feed's loop is pumped.
//
// It offers monitor_subscriber() to connect a SUB with given prefixes and
// next_monitor_event() to wait for the next event on it, so a test waits for
// an event, never for a fixed time. Every event must come as two frames,
// [name][msgpack map]; anything else stops the test. Header-only.
#pragma once

#include <doctest/doctest.h>

#include <uv.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "loop_pump.hpp"
#include "monitor_events.hpp"

namespace argon::test {

// A SUB connected to endpoint, subscribed to these prefixes.
inline std::unique_ptr<zmq::socket_t> monitor_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                                                         const std::vector<std::string>& prefixes, int rcvhwm = 1000) {
  auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::sub);
  s->set(zmq::sockopt::linger, 0);
  s->set(zmq::sockopt::rcvhwm, rcvhwm);
  for (auto& p : prefixes) s->set(zmq::sockopt::subscribe, p);
  s->connect(endpoint);
  return s;
}

// The next event on s, pumping loop meanwhile; empty if none within limit.
inline std::optional<common::monitor::event> next_monitor_event(uv_loop_t* loop, zmq::socket_t& s,
                                                                std::chrono::milliseconds limit) {
  std::optional<common::monitor::event> got;
  pump_until(loop, [&] {
    zmq::message_t topic, map;
    if (!s.recv(topic, zmq::recv_flags::dontwait)) return false;
    REQUIRE(topic.more());
    REQUIRE(s.recv(map, zmq::recv_flags::none));
    got = common::monitor::decode(topic.to_string_view(), map.to_string_view());
    return true;
  }, limit);
  return got;
}

}  // namespace argon::test
