// Test fixture: the broker in-process, driven message by message.
//
// A broker on a free loopback port with a fake clock and a loop the test
// pumps by hand, scripted REQ slots, and helpers to read what a raw client
// peer receives. Header-only: each broker test file includes it.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>
#include <thread>

#include "broker.hpp"
#include "raw_peer.hpp"

namespace argon::test {

using namespace argon::common;
using namespace std::chrono_literals;

// A broker on a free loopback port with a loop the test pumps.
struct fixture {
  // settled: the fake clock moves past the broker's start-up window, in which a
  // task no announced worker runs gets BUSY starting rather than unknown_task.
  explicit fixture(std::size_t queue_limit = 0, std::size_t heartbeat_ms = 1000, std::size_t liveness = 100000,
                   bool settled = true) {
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.queue_limit = queue_limit;
    cfg.heartbeat_ms = heartbeat_ms;  // short in tests that need the tick; time itself is the fake clock
    cfg.liveness = liveness;          // by default workers outlive any fake-clock jump
    b = std::make_unique<broker::broker>(cfg, clk, loop.get());
    if (settled) clk.advance(std::chrono::milliseconds(heartbeat_ms * (liveness + 1)));
  }
  // A broker with these settings, on a free loopback port.
  explicit fixture(const broker::config& settings) : cfg(settings) {
    cfg.bind = "tcp://127.0.0.1:*";
    b = std::make_unique<broker::broker>(cfg, clk, loop.get());
  }
  // Runs the loop until pred() holds (or 5 s pass); returns pred().
  bool pump_until(const std::function<bool()>& pred) {
    auto end = std::chrono::steady_clock::now() + 5s;
    bool held = pred();  // evaluated once per round: it may consume a message
    while (!held && std::chrono::steady_clock::now() < end) {
      uv_run(loop.get(), UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
      held = pred();
    }
    return held;
  }
  // Runs the loop until the broker knows exactly n slots (or 5 s pass).
  bool wait_for_slots(std::size_t n) {
    return pump_until([&] { return b->snapshot().slots == n; });
  }
  // Pumps the loop for a fixed while, for checks that nothing more happens.
  void settle() {
    auto end = std::chrono::steady_clock::now() + 300ms;
    while (std::chrono::steady_clock::now() < end) {
      uv_run(loop.get(), UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
    }
  }

  // Says HELLO for a worker on a control connection of the fixture's own, once,
  // unless a control_peer speaks for it: the broker offers work only to slots
  // of workers with a live control channel.
  void watch(const std::string& worker) {
    if (!controlled.insert(worker).second) return;
    auto& c = controls.emplace_back(std::make_unique<test::raw_peer>(b->endpoint(), nullptr, nullptr));
    c->send(role::control, hello_msg{worker, 1, "test"});
  }

  broker::config cfg;
  fake_clock clk;
  event_loop loop;
  std::unique_ptr<broker::broker> b;
  std::set<std::string> controlled;                       // workers whose HELLO a test peer says
  std::vector<std::unique_ptr<test::raw_peer>> controls;  // control connections watch() opened
};

// A worker slot: a REQ socket speaking the slot side of the protocol.
struct slot_peer {
  // caps: what the slot's READY announces; none means "any task". lanes: the READY's lanes mask; none: every lane.
  // Its worker says HELLO first (fixture::watch) unless a control_peer speaks for it.
  slot_peer(fixture& f, const std::string& worker, const std::string& id, std::optional<capabilities> caps = std::nullopt,
            std::optional<std::uint32_t> lanes = std::nullopt)
      : fix(f), worker_id(worker), socket(ctx, zmq::socket_type::req) {
    f.watch(worker);
    socket.set(zmq::sockopt::routing_id, id);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(f.b->endpoint());
    zmq::message_t none;
    (void)send(socket, socket_kind::req, nullptr, role::slot, ready_msg{worker_id, std::move(caps), lanes}, &none);
  }
  // The next TASK, if one arrives while the loop is pumped.
  std::optional<message> task() {
    std::optional<message> got;
    fix.pump_until([&] {
      auto fr = read_frames(socket, socket_kind::req);
      if (fr) got = decode(*fr);
      return got.has_value();
    });
    return got;
  }
  void done(const std::string& id, const std::string& out, bool ok = true) {
    zmq::message_t p(out.data(), out.size());
    (void)send(socket, socket_kind::req, nullptr, role::slot, done_msg{worker_id, id, ok, ok ? "" : out, ""}, &p);
  }
  fixture& fix;
  std::string worker_id;
  zmq::context_t ctx;
  zmq::socket_t socket;
};

// The usual start: a broker, one ready slot of worker W1 and a raw client.
struct one_slot {
  explicit one_slot(const std::string& slot_id = "w1.0") : slot(f, "W1", slot_id) { REQUIRE(f.wait_for_slots(1)); }
  fixture f;                                          // the broker
  slot_peer slot;                                     // W1's one slot
  test::raw_peer client{f.b->endpoint(), nullptr, nullptr};  // a client with no library in between
};

// A worker control channel on a connection of its own: sends what the test
// says (say_hello: HELLO for its worker first) and reads what the broker sends it.
struct control_peer {
  control_peer(fixture& f, std::string worker, bool say_hello = true)
      : fix(f), worker_id(std::move(worker)), peer(f.b->endpoint(), nullptr, nullptr) {
    f.controlled.insert(worker_id);  // slots of this worker leave the HELLO to this peer
    if (say_hello) send(hello_msg{worker_id, 1, "test"});
  }
  void send(const body& b) { peer.send(role::control, b); }
  // The next T the broker sends here, skipping anything else (heartbeats);
  // empty if none comes while the loop is pumped.
  template <class T> std::optional<T> next() {
    std::optional<T> got;
    fix.pump_until([&] {
      auto m = peer.receive(0ms);
      if (m && std::holds_alternative<T>(m->content)) got = std::get<T>(m->content);
      return got.has_value();
    });
    return got;
  }
  fixture& fix;           // whose loop is pumped
  std::string worker_id;  // the worker it speaks for
  test::raw_peer peer;    // the DEALER
};

// A REQ slot whose first word is a DONE (a stale result after a restart), not READY.
struct stray_slot {
  stray_slot(fixture& f, const std::string& worker, const std::string& task_id, const std::string& out)
      : socket(ctx, zmq::socket_type::req) {
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(f.b->endpoint());
    zmq::message_t p(out.data(), out.size());
    (void)send(socket, socket_kind::req, nullptr, role::slot, done_msg{worker, task_id, true, "", ""}, &p);
  }
  zmq::context_t ctx;
  zmq::socket_t socket;
};

inline std::optional<message> reply_to(fixture& f, test::raw_peer& c) {
  std::optional<message> got;
  f.pump_until([&] { got = c.receive(0ms); return got.has_value(); });
  return got;
}

inline submit_msg submit(const std::string& id, const std::string& task = "echo", priority p = priority::normal) {
  return submit_msg{id, task, p, 0, 1, {}};
}

}  // namespace argon::test
