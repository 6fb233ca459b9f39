// The broker in-process, driven message by message: scripted clients and REQ
// slots on loopback, a fake clock, and the loop pumped by hand.
#include <doctest/doctest.h>

#include <functional>
#include <thread>

#include "broker.hpp"
#include "log_limiter.hpp"
#include "raw_peer.hpp"

using namespace argon;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

// A broker on a free loopback port with a loop the test pumps.
struct fixture {
  explicit fixture(std::size_t queue_limit = 0) {
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.queue_limit = queue_limit;
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
  // Pumps the loop for a fixed while, for checks that nothing more happens.
  void settle() {
    auto end = std::chrono::steady_clock::now() + 300ms;
    while (std::chrono::steady_clock::now() < end) {
      uv_run(loop.get(), UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
    }
  }

  broker::config cfg;
  fake_clock clk;
  event_loop loop;
  std::unique_ptr<broker::broker> b;
};

// A worker slot: a REQ socket speaking the slot side of the protocol.
struct slot_peer {
  slot_peer(fixture& f, const std::string& worker, const std::string& id)
      : fix(f), worker_id(worker), socket(ctx, zmq::socket_type::req) {
    socket.set(zmq::sockopt::routing_id, id);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(f.b->endpoint());
    zmq::message_t none;
    (void)send(socket, socket_kind::req, nullptr, role::slot, ready_msg{worker_id}, &none);
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
    (void)send(socket, socket_kind::req, nullptr, role::slot, done_msg{worker_id, id, ok, ok ? "" : out}, &p);
  }
  fixture& fix;
  std::string worker_id;
  zmq::context_t ctx;
  zmq::socket_t socket;
};

std::optional<message> reply_to(fixture& f, test::raw_peer& c) {
  std::optional<message> got;
  f.pump_until([&] { got = c.receive(0ms); return got.has_value(); });
  return got;
}

submit_msg submit(const std::string& id, const std::string& task = "echo", priority p = priority::normal) {
  return submit_msg{id, task, p, 0, 1};
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a submitted task reaches a slot and its result reaches the client") {
  fixture f;
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 1; }));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "in");
  auto t = s.task();
  REQUIRE(t);
  auto& tm = std::get<task_msg>(t->content);
  CHECK(tm.id == "t1");
  CHECK(tm.task == "echo");
  CHECK(tm.attempt == 1);
  CHECK(t->payload.to_string() == "in");
  s.done("t1", "out");
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::get<result_msg>(r->content).id == "t1");
  CHECK(r->payload.to_string() == "out");
  auto st = f.b->snapshot();
  CHECK(st.completed == 1);
  CHECK(st.busy_slots == 0);
}

TEST_CASE("a handler failure becomes FAILED task_error with the worker's text") {
  fixture f;
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 1; }));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1", "fail"), "boom");
  REQUIRE(s.task());
  s.done("t1", "boom", false);
  auto r = reply_to(f, c);
  REQUIRE(r);
  auto& fm = std::get<failed_msg>(r->content);
  CHECK(fm.kind == "task_error");
  CHECK(fm.message == "boom");
  CHECK(f.b->snapshot().failed == 1);
}

TEST_CASE("busy carries depth, limit, capacity and a wait estimate; nothing is stored") {
  fixture f(1);
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 1; }));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("run"), "");
  REQUIRE(s.task());
  c.send(role::client, submit("wait"), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  c.send(role::client, submit("refused"), "");
  auto r = reply_to(f, c);
  REQUIRE(r);
  auto& bm = std::get<busy_msg>(r->content);
  CHECK(bm.id == "refused");
  CHECK(bm.depth == 1);
  CHECK(bm.limit == 1);
  CHECK(bm.capacity == 1);
  CHECK(bm.reason == "queue_full");
  CHECK(bm.retry_after_ms > 0);
  auto st = f.b->snapshot();
  CHECK(st.queue_depth == 1);
  CHECK(st.submitted == 2);
  CHECK(st.busy_replies == 1);
}

TEST_CASE("no workers and no explicit limit: every task is refused as no_workers") {
  fixture f;
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t"), "");
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::get<busy_msg>(r->content).reason == "no_workers");
}

TEST_CASE("the least busy worker gets the next task") {
  fixture f;
  slot_peer a1(f, "A", "a1"), a2(f, "A", "a2"), b1(f, "B", "b1");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 3; }));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "");
  c.send(role::client, submit("t2"), "");
  f.settle();
  // One task went to A and one to B, whatever the order of arrival.
  int a_tasks = 0;
  for (auto* s : {&a1, &a2}) {
    auto fr = read_frames(s->socket, socket_kind::req);
    if (fr) ++a_tasks;
  }
  CHECK(a_tasks == 1);
  CHECK(read_frames(b1.socket, socket_kind::req).has_value());
  CHECK(f.b->snapshot().busy_slots == 2);
}

TEST_CASE("a duplicate SUBMIT of a queued task is not queued twice") {
  fixture f(5);
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("same"), "");
  c.send(role::client, submit("same"), "");
  f.settle();
  CHECK(f.b->snapshot().queue_depth == 1);
  CHECK(f.b->snapshot().submitted == 1);
  CHECK_FALSE(c.receive(0ms).has_value());
}

TEST_CASE("CANCEL removes a queued task and says so") {
  fixture f(5);
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t"), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  c.send(role::client, cancel_msg{"t"});
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::get<failed_msg>(r->content).kind == "cancelled");
  CHECK(f.b->snapshot().queue_depth == 0);
}

TEST_CASE("a slot that starts over while running a task gives the task back") {
  fixture f;
  auto first = std::make_unique<slot_peer>(f, "W1", "s1");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 1; }));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit_msg{"t1", "echo", priority::normal, 0, 3}, "again");
  REQUIRE(first->task());
  first.reset();  // the worker restarts with the same slot id
  slot_peer second(f, "W1", "s1");
  auto t = second.task();
  REQUIRE(t);
  CHECK(std::get<task_msg>(t->content).id == "t1");
  CHECK(std::get<task_msg>(t->content).attempt == 2);
  CHECK(t->payload.to_string() == "again");
}

TEST_CASE("a task whose slot is lost on its last attempt fails as worker_lost") {
  fixture f;
  auto first = std::make_unique<slot_peer>(f, "W1", "s1");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 1; }));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit_msg{"t1", "echo", priority::normal, 0, 1}, "once");
  REQUIRE(first->task());
  first.reset();
  slot_peer second(f, "W1", "s1");
  auto r = reply_to(f, c);
  REQUIRE(r);
  auto* failed = std::get_if<failed_msg>(&r->content);
  REQUIRE(failed);
  CHECK(failed->kind == "worker_lost");
  CHECK(f.b->snapshot().failed == 1);
  CHECK(f.b->snapshot().busy_slots == 0);
}

TEST_CASE("a result from a slot that is not running that task is dropped") {
  fixture f;
  zmq::context_t ctx;
  zmq::socket_t late(ctx, zmq::socket_type::req);  // a slot whose first word is a stale DONE
  late.set(zmq::sockopt::linger, 0);
  late.connect(f.b->endpoint());
  zmq::message_t p("late", 4);
  (void)send(late, socket_kind::req, nullptr, role::slot, done_msg{"W1", "ghost", true, ""}, &p);
  REQUIRE(f.pump_until([&] { return f.b->snapshot().slots == 1; }));  // the DONE still counts as READY
  CHECK(f.b->snapshot().completed == 0);
  CHECK(f.b->snapshot().busy_slots == 0);
}

TEST_CASE("priority lanes: high is served before normal before low") {
  fixture f(10);
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("low", "echo", priority::low), "");
  c.send(role::client, submit("normal", "echo", priority::normal), "");
  c.send(role::client, submit("high", "echo", priority::high), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 3; }));
  slot_peer s(f, "W1", "s1");
  std::string order;
  for (int i = 0; i < 3; ++i) {
    auto t = s.task();
    REQUIRE(t);
    auto id = std::get<task_msg>(t->content).id;
    order += id + " ";
    s.done(id, "");
  }
  CHECK(order == "high normal low ");
}
}

TEST_SUITE("unit") {
TEST_CASE("the log limiter lets 20 lines a second through and counts the rest") {
  fake_clock clk;
  broker::log_limiter limit(20);
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += limit.allow(clk.now());
  CHECK(written == 20);
  clk.advance(std::chrono::milliseconds(1001));
  CHECK(limit.allow(clk.now()));
  CHECK(limit.suppressed() == 980);
  CHECK(limit.allow(clk.now()));
  CHECK(limit.suppressed() == 0);
}
}
