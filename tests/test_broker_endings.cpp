// How tasks end at the broker, with a fake clock: deadlines, CANCEL of
// queued and running tasks, duplicate SUBMITs of finished tasks, and drain.
#include <doctest/doctest.h>

#include "broker_fixture.hpp"

using namespace argon;
using namespace argon::test;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

submit_msg with_timeout(const std::string& id, std::uint32_t ms) { return submit_msg{id, "sleep", priority::normal, ms, 1, {}}; }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a queued task past its deadline fails as timeout and leaves the queue") {
  fixture f(5, 10);
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, with_timeout("t1", 2000), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  f.clk.advance(1999ms);
  f.settle();
  CHECK_FALSE(c.receive(0ms).has_value());
  f.clk.advance(1ms);
  auto r = reply_to(f, c);
  REQUIRE(r);
  auto* failed = std::get_if<failed_msg>(&r->content);
  REQUIRE(failed);
  CHECK(failed->kind == "timeout");
  CHECK(failed->message.find("never started") != std::string::npos);
  CHECK(f.b->snapshot().queue_depth == 0);
  CHECK(f.b->unfinished() == 0);
}

TEST_CASE("a running task past its deadline: FAILED timeout, CANCEL to its worker, slot busy until its DONE") {
  fixture f(0, 10);
  control_peer control(f, "W1");
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, with_timeout("t1", 500), "5000");
  auto t = s.task();
  REQUIRE(t);
  CHECK(std::get<task_msg>(t->content).deadline_ms > 0);
  f.clk.advance(500ms);
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::get<failed_msg>(r->content).kind == "timeout");
  auto cancel = control.next<cancel_msg>();
  REQUIRE(cancel);
  CHECK(cancel->id == "t1");
  CHECK(f.b->snapshot().busy_slots == 1);  // the handler still runs there
  s.done("t1", "late");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().busy_slots == 0; }));
  f.settle();
  CHECK_FALSE(c.receive(0ms).has_value());  // the late result is not delivered
  auto st = f.b->snapshot();
  CHECK(st.failed == 1);
  CHECK(st.completed == 0);
}

TEST_CASE("CANCEL of a running task fails it as cancelled and tells its worker") {
  fixture f(0, 10);
  control_peer control(f, "W1");
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "x");
  REQUIRE(s.task());
  c.send(role::client, cancel_msg{"t1"});
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::get<failed_msg>(r->content).kind == "cancelled");
  auto cancel = control.next<cancel_msg>();
  REQUIRE(cancel);
  CHECK(cancel->id == "t1");
}

TEST_CASE("CANCEL of another client's task id changes nothing") {
  fixture f(5);
  raw_peer owner(f.b->endpoint(), nullptr, nullptr), other(f.b->endpoint(), nullptr, nullptr);
  owner.send(role::client, submit("t1"), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  other.send(role::client, cancel_msg{"t1"});
  f.settle();
  CHECK(f.b->snapshot().queue_depth == 1);
  CHECK_FALSE(owner.receive(0ms).has_value());
  CHECK_FALSE(other.receive(0ms).has_value());
}

TEST_CASE("a task submitted again after it finished gets its kept outcome, not a second run") {
  fixture f;
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "in");
  REQUIRE(s.task());
  s.done("t1", "out");
  auto first = reply_to(f, c);
  REQUIRE(first);
  REQUIRE(f.pump_until([&] { return f.b->snapshot().busy_slots == 0; }));
  c.send(role::client, submit("t1"), "in");
  auto again = reply_to(f, c);
  REQUIRE(again);
  CHECK(std::get<result_msg>(again->content).id == "t1");
  CHECK(again->payload.to_string() == "out");
  f.settle();
  CHECK_FALSE(read_frames(s.socket, socket_kind::req).has_value());  // no second TASK
  CHECK(f.b->snapshot().submitted == 1);
}

TEST_CASE("a finished task's outcome is forgotten after the result TTL") {
  fixture f(5, 10);
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  c.send(role::client, cancel_msg{"t1"});
  REQUIRE(reply_to(f, c));
  f.clk.advance(std::chrono::milliseconds(f.cfg.result_ttl_ms + 1));
  f.settle();
  c.send(role::client, submit("t1"), "");  // now a new task under the old id
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  CHECK(f.b->snapshot().submitted == 2);
}

TEST_CASE("draining refuses new tasks as busy, lets running ones finish, then calls back once") {
  fixture f;
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "in");
  REQUIRE(s.task());
  int drained = 0;
  f.b->drain([&] { ++drained; });
  CHECK(drained == 0);
  c.send(role::client, submit("t2"), "");
  auto busy = reply_to(f, c);
  REQUIRE(busy);
  REQUIRE(std::holds_alternative<busy_msg>(busy->content));
  CHECK(std::get<busy_msg>(busy->content).reason == "draining");
  s.done("t1", "out");
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::holds_alternative<result_msg>(r->content));
  REQUIRE(f.pump_until([&] { return drained == 1; }));
  f.settle();
  CHECK(drained == 1);
}

TEST_CASE("draining with nothing unfinished calls back at once") {
  fixture f;
  int drained = 0;
  f.b->drain([&] { ++drained; });
  CHECK(drained == 1);
}
}

TEST_SUITE("unit") {
TEST_CASE("after BYE, a READY or a stray DONE from that worker gets it no new work") {
  fixture f(5);
  control_peer control(f, "W1");
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  control.peer.send(role::control, bye_msg{"W1"});
  REQUIRE(f.wait_for_slots(0));
  slot_peer other(f, "W1", "s2");  // says READY as it starts
  stray_slot stray(f, "W1", "ghost", "x");
  f.settle();
  CHECK(f.b->snapshot().slots == 0);
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().queue_depth == 1; }));
  f.settle();
  // Each idle slot is told it gets nothing, so a stopping worker's slot can close.
  for (zmq::socket_t* sock : {&s.socket, &other.socket}) {
    auto fr = read_frames(*sock, socket_kind::req);
    REQUIRE(fr);
    const message m = decode(*fr);
    auto* e = std::get_if<error_msg>(&m.content);
    REQUIRE(e);
    CHECK(e->kind == "worker_leaving");
  }
  CHECK_FALSE(read_frames(stray.socket, socket_kind::req).has_value());
}

TEST_CASE("BYE: tasks sent before it run and are answered once; the idle slot is told, and every slot is forgotten") {
  fixture f(5);
  control_peer control(f, "W1");
  slot_peer s1(f, "W1", "s1"), s2(f, "W1", "s2");
  REQUIRE(f.wait_for_slots(2));
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "in");
  c.send(role::client, submit("t2"), "in");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().busy_slots == 2; }));  // both TASKs are on their way
  slot_peer idle(f, "W1", "s3");
  REQUIRE(f.wait_for_slots(3));
  control.send(bye_msg{"W1"});
  REQUIRE(f.wait_for_slots(2));  // the idle slot is forgotten at once
  auto told = idle.task();
  REQUIRE(told);
  auto* e = std::get_if<error_msg>(&told->content);
  REQUIRE(e);
  CHECK(e->kind == "worker_leaving");
  int results = 0;
  for (slot_peer* s : {&s1, &s2}) {
    auto t = s->task();
    REQUIRE(t);
    REQUIRE(std::holds_alternative<task_msg>(t->content));
    s->done(std::get<task_msg>(t->content).id, "out");
  }
  f.pump_until([&] {
    while (auto m = c.receive(0ms)) results += std::holds_alternative<result_msg>(m->content);
    return results == 2;
  });
  CHECK(results == 2);  // both ran once, and no attempt was lost
  CHECK(f.wait_for_slots(0));  // each busy slot was forgotten after its DONE
}
}

TEST_SUITE("unit") {
TEST_CASE("a broker that was itself paused does not expire workers whose heartbeats it has not read yet") {
  fixture f(0, 10, 3);
  control_peer control(f, "W1");
  slot_peer s(f, "W1", "s1");
  REQUIRE(f.wait_for_slots(1));
  f.clk.advance(5s);  // as if the broker had been stopped for 5 s
  f.settle();
  CHECK(f.b->snapshot().slots == 1);
  for (int i = 0; i < 6 && f.b->snapshot().slots == 1; ++i) {  // ticks at their pace: W1 is really silent
    f.clk.advance(10ms);
    f.settle();
  }
  CHECK(f.b->snapshot().slots == 0);
}
}

TEST_SUITE("unit") {
TEST_CASE("slots of a worker that never says HELLO are forgotten after the liveness limit; a watched worker's stay") {
  fixture f(0, 10, 3);
  control_peer control(f, "W1");
  slot_peer watched(f, "W1", "s1");
  f.controlled.insert("W9");  // no HELLO for W9: its READY came after it was forgotten, or it died first
  slot_peer orphan(f, "W9", "s9");
  REQUIRE(f.wait_for_slots(2));
  for (int i = 0; i < 8 && f.b->snapshot().slots == 2; ++i) {  // ticks at their pace
    f.clk.advance(10ms);
    control.send(heartbeat_msg{"W1"});
    f.settle();
  }
  CHECK(f.b->snapshot().slots == 1);  // the orphan's slot, which never had a task, is gone
  CHECK(f.b->snapshot().workers == 1);
}
}

TEST_SUITE("unit") {
TEST_CASE("WITHDRAW: an idle slot is forgotten and told withdrawn; a busy one, another worker's or an unknown one is left alone") {
  fixture f;
  control_peer control(f, "W1");
  control_peer other_control(f, "W2");
  slot_peer first(f, "W1", "s1"), second(f, "W1", "s2");
  REQUIRE(f.wait_for_slots(2));
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "");
  REQUIRE(f.pump_until([&] { return f.b->snapshot().busy_slots == 1; }));
  slot_peer theirs(f, "W2", "t1");
  REQUIRE(f.wait_for_slots(3));
  std::optional<bool> runs_first;  // which of the two got t1
  REQUIRE(f.pump_until([&] {
    if (read_frames(first.socket, socket_kind::req)) runs_first = true;
    else if (read_frames(second.socket, socket_kind::req)) runs_first = false;
    return runs_first.has_value();
  }));
  const bool first_runs = *runs_first;
  slot_peer& waiting = first_runs ? second : first;
  const std::string running_id = first_runs ? "s1" : "s2", waiting_id = first_runs ? "s2" : "s1";
  control.send(withdraw_msg{"W1", running_id});  // its TASK is on the way: nothing happens
  control.send(withdraw_msg{"W1", "t1"});        // another worker's slot: nothing happens
  control.send(withdraw_msg{"W1", "no-such"});   // unknown: nothing happens
  control.send(withdraw_msg{"W1", waiting_id});
  auto told = waiting.task();
  REQUIRE(told);
  auto* e = std::get_if<error_msg>(&told->content);
  REQUIRE(e);
  CHECK(e->kind == "withdrawn");
  CHECK(f.b->snapshot().slots == 2);  // the withdrawn slot is forgotten, the others stay
  CHECK(f.b->snapshot().busy_slots == 1);
  other_control.send(withdraw_msg{"W1", "s2"});  // a control channel speaking for another worker is refused
  auto refused = other_control.next<error_msg>();
  REQUIRE(refused);
  CHECK(refused->kind == "not_allowed");
}
}
