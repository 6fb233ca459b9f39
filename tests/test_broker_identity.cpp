// Who may speak for a worker id at the broker. A worker id belongs to the
// control connection that said HELLO for it: a HELLO for a live id from
// another connection is refused, and HEARTBEAT, BYE and PROGRESS count only
// from the owning connection, so the worker key alone cannot retire,
// replace or keep alive someone else's worker, nor register a phantom one
// on its own channel. A DONE cannot pass a worker's failure off as one of
// the broker's own kinds.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "broker_fixture.hpp"

using namespace argon;
using namespace argon::test;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {


const broker::worker_record* record(fixture& f, const std::string& id) { return f.b->workers().get(id); }

// Says HELLO and waits until the broker knows the worker.
void hello(fixture& f, control_peer& c) {
  c.send(hello_msg{c.worker_id, 1, "test"});
  REQUIRE(f.pump_until([&] { return record(f, c.worker_id) && record(f, c.worker_id)->watched; }));
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a BYE for a worker from another connection is refused; the worker keeps serving") {
  fixture f;
  control_peer owner(f, "W1", false);
  hello(f, owner);
  slot_peer s(f, "W1", "w1.0");
  REQUIRE(f.wait_for_slots(1));
  control_peer intruder(f, "W1", false);
  intruder.send(bye_msg{"W1"});
  auto refused = intruder.next<error_msg>();
  REQUIRE(refused);
  CHECK(refused->kind == "not_allowed");
  CHECK(refused->message.find("W1") != std::string::npos);
  CHECK_FALSE(record(f, "W1")->leaving);
  CHECK(f.b->snapshot().slots == 1);
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "in");
  CHECK(s.task());  // still gets work
  owner.send(bye_msg{"W1"});  // its own BYE counts
  REQUIRE(f.pump_until([&] { return record(f, "W1") == nullptr || record(f, "W1")->leaving; }));
}

TEST_CASE("a HELLO for a live worker id from another connection is refused, so its closing loses nothing") {
  fixture f(0, 50);  // a 50 ms tick: an unreachable control channel is noticed soon
  control_peer owner(f, "W1", false);
  hello(f, owner);
  slot_peer s(f, "W1", "w1.0");
  REQUIRE(f.wait_for_slots(1));
  const std::string owner_channel = record(f, "W1")->control_id;
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit("t1"), "in");
  REQUIRE(s.task());
  {
    control_peer intruder(f, "W1", false);
    intruder.send(hello_msg{"W1", 1, "test"});
    auto refused = intruder.next<error_msg>();
    REQUIRE(refused);
    CHECK(refused->kind == "not_allowed");
  }  // the intruder closes
  f.settle();
  const auto* w = record(f, "W1");
  REQUIRE(w);
  CHECK(w->control_id == owner_channel);
  CHECK(f.b->snapshot().busy_slots == 1);  // t1 still runs there: not requeued to run twice
  s.done("t1", "out");
  auto r = reply_to(f, c);
  REQUIRE(r);
  CHECK(std::holds_alternative<result_msg>(r->content));
}

TEST_CASE("heartbeats naming a worker count only from its own control connection") {
  fixture f;
  control_peer owner(f, "W1", false);
  hello(f, owner);
  const auto joined = record(f, "W1")->last_seen;
  f.clk.advance(1s);
  control_peer intruder(f, "W1", false);
  intruder.send(heartbeat_msg{"W1"});
  f.settle();
  CHECK(record(f, "W1")->last_seen == joined);  // not kept alive by someone else
  owner.send(heartbeat_msg{"W1"});
  REQUIRE(f.pump_until([&] { return record(f, "W1")->last_seen != joined; }));
}

TEST_CASE("a heartbeat with another id on a worker's control channel registers no phantom worker") {
  fixture f;
  control_peer owner(f, "W1", false);
  hello(f, owner);
  owner.send(heartbeat_msg{"PHANTOM"});
  auto refused = owner.next<error_msg>();
  REQUIRE(refused);
  CHECK(refused->kind == "not_allowed");
  CHECK(record(f, "PHANTOM") == nullptr);
  CHECK(f.b->snapshot().workers == 1);
}

TEST_CASE("a DONE cannot pass a failure off as one of the broker's own kinds; the worker's text is kept") {
  one_slot rig;
  auto& f = rig.f;
  auto& s = rig.slot;
  auto& c = rig.client;
  struct sent {
    std::string kind;      // what the worker's DONE claims
    std::string expected;  // what the client is told
  };
  const std::vector<sent> cases{{"worker_lost", "task_error"}, {"cancelled", "task_error"},
                                {"timeout", "task_error"},     {"protocol_error", "task_error"},
                                {"Not Snake", "task_error"},   {"invalid_input", "invalid_input"},
                                {"not_allowed", "not_allowed"}, {"", "task_error"}};
  int n = 0;
  for (const auto& k : cases) {
    CAPTURE(k.kind);
    const std::string id = fmt::format("t{}", ++n);
    c.send(role::client, submit(id), "in");
    REQUIRE(s.task());
    zmq::message_t none;
    (void)send(s.socket, socket_kind::req, nullptr, role::slot, done_msg{"W1", id, false, "the worker's words", k.kind}, &none);
    auto r = reply_to(f, c);
    REQUIRE(r);
    REQUIRE(std::holds_alternative<failed_msg>(r->content));
    const auto& fm = std::get<failed_msg>(r->content);
    CHECK(fm.kind == k.expected);
    CHECK(fm.message.find("the worker's words") != std::string::npos);
  }
}

TEST_CASE("a DONE may say timeout for a task that has a timeout") {
  one_slot rig;
  auto& f = rig.f;
  auto& s = rig.slot;
  auto& c = rig.client;
  c.send(role::client, submit_msg{"t1", "echo", priority::normal, 60000, 1, {}}, "in");
  REQUIRE(s.task());
  zmq::message_t none;
  (void)send(s.socket, socket_kind::req, nullptr, role::slot, done_msg{"W1", "t1", false, "ran past its deadline", "timeout"}, &none);
  auto r = reply_to(f, c);
  REQUIRE(r);
  REQUIRE(std::holds_alternative<failed_msg>(r->content));
  CHECK(std::get<failed_msg>(r->content).kind == "timeout");
}
}

TEST_SUITE("unit") {
TEST_CASE("after its worker said BYE, a control connection may say HELLO for a new id, and speaks for that one") {
  fixture f;
  control_peer channel(f, "W1", false);
  hello(f, channel);
  channel.send(bye_msg{"W1"});
  REQUIRE(f.pump_until([&] { return record(f, "W1") == nullptr || record(f, "W1")->leaving; }));
  channel.worker_id = "W2";
  hello(f, channel);
  const auto joined = record(f, "W2")->last_seen;
  f.clk.advance(1s);
  channel.send(heartbeat_msg{"W2"});  // its heartbeats now count for W2
  REQUIRE(f.pump_until([&] { return record(f, "W2")->last_seen != joined; }));
  channel.send(heartbeat_msg{"W1"});  // the old id no longer
  auto refused = channel.next<error_msg>();
  REQUIRE(refused);
  CHECK(refused->kind == "not_allowed");
}
}

TEST_SUITE("unit") {
TEST_CASE("a heartbeat from a worker the broker no longer knows re-registers it and asks it to announce itself") {
  fixture f;
  control_peer channel(f, "W1", false);
  channel.send(heartbeat_msg{"W1"});  // never said HELLO here: expired earlier, or this broker is new
  auto asked = channel.next<error_msg>();
  REQUIRE(asked);
  CHECK(asked->kind == "unknown_worker");
  REQUIRE(record(f, "W1"));
  CHECK(record(f, "W1")->watched);  // an older worker that ignores the ERROR is still watched
}
}
