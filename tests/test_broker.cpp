// The broker in-process, driven message by message: scripted clients and REQ
// slots on loopback, a fake clock, and the loop pumped by hand.
#include <doctest/doctest.h>

#include <functional>
#include <thread>

#include "broker_fixture.hpp"
#include "log_limiter.hpp"

using namespace argon;
using namespace argon::test;
using namespace argon::common;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("a submitted task reaches a slot and its result reaches the client") {
  one_slot rig("s1");
  auto& f = rig.f;
  auto& s = rig.slot;
  auto& c = rig.client;
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
  one_slot rig("s1");
  auto& f = rig.f;
  auto& s = rig.slot;
  auto& c = rig.client;
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
  REQUIRE(f.wait_for_slots(1));
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

TEST_CASE("a full queue still admits another client up to its fair share; the client that filled it hears client_share") {
  fixture f(4);
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  test::raw_peer a(f.b->endpoint(), nullptr, nullptr), b(f.b->endpoint(), nullptr, nullptr);
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr), d(f.b->endpoint(), nullptr, nullptr);
  auto busy_reason = [&](test::raw_peer& who, const std::string& id) {
    who.send(role::client, submit(id), "");
    auto r = reply_to(f, who);
    REQUIRE(r);
    REQUIRE(std::holds_alternative<busy_msg>(r->content));
    return std::get<busy_msg>(r->content).reason;
  };
  auto depth_becomes = [&](std::size_t n) { return f.pump_until([&] { return f.b->snapshot().queue_depth == n; }); };
  a.send(role::client, submit("a-run"), "");
  REQUIRE(s.task());
  for (const char* id : {"a1", "a2", "a3", "a4"}) a.send(role::client, submit(id), "");
  REQUIRE(depth_becomes(4));
  CHECK(busy_reason(a, "a5") == "queue_full");  // alone, a client may fill the queue, and no more
  b.send(role::client, submit("b1"), "");       // share: 4 places over 2 clients, 2 each
  b.send(role::client, submit("b2"), "");
  REQUIRE(depth_becomes(6));
  CHECK(busy_reason(b, "b3") == "client_share");
  CHECK(busy_reason(a, "a5") == "client_share");  // the client that filled it is the one held back
  c.send(role::client, submit("c1"), "");        // 3 clients: a share of 2 each
  c.send(role::client, submit("c2"), "");
  REQUIRE(depth_becomes(8));
  CHECK(busy_reason(d, "d1") == "queue_full");   // twice the limit: nobody more, share or not
  CHECK(f.b->snapshot().queued_clients == 3);
  std::string running = "a-run";
  for (const char* expected : {"a1", "b1", "c1", "a2", "b2", "c2", "a3"}) {  // then the clients take turns
    s.done(running, "");
    auto next = s.task();
    REQUIRE(next);
    running = std::get<task_msg>(next->content).id;
    CHECK(running == expected);
  }
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
  REQUIRE(f.wait_for_slots(3));
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
  REQUIRE(f.wait_for_slots(1));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit_msg{"t1", "echo", priority::normal, 0, 3, {}}, "again");
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
  REQUIRE(f.wait_for_slots(1));
  test::raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit_msg{"t1", "echo", priority::normal, 0, 1, {}}, "once");
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

TEST_CASE("a result from a slot the broker does not know is dropped, and the slot is asked for a READY") {
  fixture f;
  stray_slot late(f, "W1", "ghost", "late");
  std::optional<message> answer;
  REQUIRE(f.pump_until([&] {
    auto fr = read_frames(late.socket, socket_kind::req);
    if (fr) answer = decode(*fr);
    return answer.has_value();
  }));
  auto* e = std::get_if<error_msg>(&answer->content);
  REQUIRE(e);
  CHECK(e->kind == "unknown_slot");  // a DONE says nothing of what the worker runs; READY does
  CHECK(f.b->snapshot().slots == 0);
  CHECK(f.b->snapshot().completed == 0);
  CHECK(f.b->snapshot().busy_slots == 0);
}

// Worker W1 (incarnation 42) with one slot, and a task of max_attempts 1 sent to
// that slot, whose socket is then closed with the TASK unread.
struct task_lost_on_the_way {
  task_lost_on_the_way() {
    control.send(hello_msg{"W1", 1, "test", 42});
    auto first = std::make_unique<slot_peer>(f, "W1", "s1");
    REQUIRE(f.wait_for_slots(1));
    submit_msg once = submit("t1");
    once.max_attempts = 1;
    c.send(role::client, once, "in");
    REQUIRE(f.pump_until([&] { return f.b->snapshot().busy_slots == 1; }));
  }  // first goes: the TASK dies with the socket it was sent to
  fixture f;                                              // the broker
  control_peer control{f, "W1", false};                   // W1's control channel
  test::raw_peer c{f.b->endpoint(), nullptr, nullptr};    // the client
};

TEST_CASE("a slot that says READY before its TASK reached it gets the task back without it using an attempt") {
  task_lost_on_the_way rig;
  slot_peer second(rig.f, "W1", "s1");  // the same slot on a new socket, same process
  auto t = second.task();
  REQUIRE(t);
  auto* task = std::get_if<task_msg>(&t->content);
  REQUIRE(task);
  CHECK(task->id == "t1");
  CHECK(task->attempt == 1);  // the first never happened
  second.done("t1", "out");
  auto r = reply_to(rig.f, rig.c);
  REQUIRE(r);
  CHECK(std::holds_alternative<result_msg>(r->content));
}

TEST_CASE("after the worker process restarted (a new incarnation), READY while running uses up the attempt") {
  task_lost_on_the_way rig;
  rig.control.send(hello_msg{"W1", 1, "test", 43});  // the process started over: the task may have run
  rig.f.settle();
  slot_peer second(rig.f, "W1", "s1");
  auto r = reply_to(rig.f, rig.c);
  REQUIRE(r);
  auto* failed = std::get_if<failed_msg>(&r->content);
  REQUIRE(failed);
  CHECK(failed->kind == "worker_lost");
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

TEST_SUITE("unit") {
TEST_CASE("the monitor hears once that a worker left: a worker that said BYE is not announced again when it disconnects") {
  fixture f(0, 50);  // a 50 ms tick, so an unreachable control channel is noticed soon
  f.b.reset();
  f.cfg.monitor = "tcp://127.0.0.1:*";
  f.b = std::make_unique<broker::broker>(f.cfg, f.clk, f.loop.get());
  zmq::context_t ctx;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "worker_");
  sub.connect(f.b->monitor_endpoint());
  std::vector<monitor::body> seen;
  auto read_events = [&] {
    zmq::message_t topic, map;
    while (sub.recv(topic, zmq::recv_flags::dontwait)) {
      REQUIRE(sub.recv(map, zmq::recv_flags::none));
      seen.push_back(monitor::decode(topic.to_string_view(), map.to_string_view()).content);
    }
  };
  auto joined = [&](std::size_t n) {
    return f.pump_until([&] {
      read_events();
      return std::count_if(seen.begin(), seen.end(), [](auto& e) { return std::holds_alternative<monitor::worker_joined>(e); }) >= static_cast<long>(n);
    });
  };
  // The subscription takes a moment to reach the broker: say HELLO until it is heard.
  auto leaving = std::make_unique<raw_peer>(f.b->endpoint(), nullptr, nullptr);
  auto vanishing = std::make_unique<raw_peer>(f.b->endpoint(), nullptr, nullptr);
  leaving->send(role::control, hello_msg{"W1", 1, "test"});
  while (!joined(1)) leaving->send(role::control, hello_msg{"W1", 1, "test"});
  vanishing->send(role::control, hello_msg{"W2", 1, "test"});
  REQUIRE(joined(2));
  leaving->send(role::control, bye_msg{"W1"});
  REQUIRE(f.pump_until([&] { read_events(); return std::holds_alternative<monitor::worker_left>(seen.back()); }));
  leaving.reset();  // both control channels disconnect; the tick's heartbeat finds them gone
  vanishing.reset();
  REQUIRE(f.pump_until([&] {
    read_events();
    return std::count_if(seen.begin(), seen.end(), [](auto& e) { return std::holds_alternative<monitor::worker_left>(e); }) >= 2;
  }));
  f.settle();
  read_events();
  std::vector<monitor::worker_left> left;
  for (auto& e : seen)
    if (auto* l = std::get_if<monitor::worker_left>(&e)) left.push_back(*l);
  REQUIRE(left.size() == 2);
  CHECK(left[0] == monitor::worker_left{"W1", "bye"});
  CHECK(left[1] == monitor::worker_left{"W2", "disconnected"});
}
}
