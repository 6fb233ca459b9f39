// The client and a broker that answers BUSY: the backoff (1 + ln n seconds,
// the broker's hint, jitter), and room signalling: an outcome from the broker
// sends the oldest task refused as busy at once, one for one; with no outcome,
// the task waits for its timer. A task submitted while others wait for room
// waits behind them (a higher lane goes first), unless it asked for no retry.
#include <doctest/doctest.h>

#include <cmath>

#include "argon/client.hpp"
#include "fake_broker.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("busy backoff follows Argon's 1 + ln n seconds") {
  retry_policy p;
  p.jitter = 0;
  CHECK(busy_backoff(p, 1, 0ms, 0.5) == 1000ms);
  CHECK(busy_backoff(p, 2, 0ms, 0.5) == std::chrono::milliseconds(std::lround(1000 * (1 + std::log(2.0)))));
  CHECK(busy_backoff(p, 10, 0ms, 0.5) == std::chrono::milliseconds(std::lround(1000 * (1 + std::log(10.0)))));
  p.base_seconds = 0.1;
  CHECK(busy_backoff(p, 1, 0ms, 0.5) == 100ms);
}

TEST_CASE("the broker's hint wins when it is longer, up to 32 s") {
  retry_policy p;
  p.jitter = 0;
  CHECK(busy_backoff(p, 1, 5000ms, 0.5) == 5000ms);
  CHECK(busy_backoff(p, 1, 10min, 0.5) == 32000ms);
  CHECK(busy_backoff(p, 1, 200ms, 0.5) == 1000ms);
  p.base_seconds = 100;
  CHECK(busy_backoff(p, 3, 0ms, 0.5) == 32000ms);
}

TEST_CASE("jitter spreads the delay by at most the given fraction") {
  retry_policy p;
  p.jitter = 0.1;
  CHECK(busy_backoff(p, 1, 0ms, 0.0) == 900ms);
  CHECK(busy_backoff(p, 1, 0ms, 1.0) == 1100ms);
  CHECK(busy_backoff(p, 1, 0ms, 0.5) == 1000ms);
}

TEST_CASE("a task refused as busy goes again as soon as an outcome makes room, oldest first, not when its timer fires") {
  fake_broker broker("b-room", "tcp://127.0.0.1:*");
  client_options o = fast_options(broker.endpoint);
  o.retry.base_seconds = 30;  // the timers alone would wait 30 s
  client c(o);
  settle_contact(broker);
  auto first = c.submit("echo", "1");
  auto second = c.submit("echo", "2");
  auto third = c.submit("echo", "3");
  auto a = broker.next_submit(5s), b = broker.next_submit(5s), d = broker.next_submit(5s);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(d);
  // The broker has room for one: the other two are refused.
  broker.reply(b->routing_id, common::busy_msg{submit_of(*b).id, 1, 1, 1, 0, "queue_full"});
  broker.reply(d->routing_id, common::busy_msg{submit_of(*d).id, 1, 1, 1, 0, "queue_full"});
  CHECK_FALSE(broker.next_submit(300ms));  // nothing until room appears
  broker.reply(a->routing_id, common::result_msg{submit_of(*a).id}, "1");
  auto again = broker.next_submit(2s);
  REQUIRE(again);
  CHECK(submit_of(*again).id == submit_of(*b).id);  // the oldest refused goes first
  CHECK_FALSE(broker.next_submit(300ms));  // one outcome, one task
  // Refused again (another client took the room): it waits for the next outcome, and it
  // is not counted as a busy retry.
  broker.reply(again->routing_id, common::busy_msg{submit_of(*b).id, 1, 1, 1, 0, "queue_full"});
  broker.reply(a->routing_id, common::failed_msg{"not-mine", "task_error", "an outcome the client no longer waits for"});
  auto next = broker.next_submit(2s);
  REQUIRE(next);
  CHECK(submit_of(*next).id == submit_of(*b).id);
  broker.reply(next->routing_id, common::result_msg{submit_of(*b).id}, "2");
  auto last = broker.next_submit(2s);
  REQUIRE(last);
  CHECK(submit_of(*last).id == submit_of(*d).id);
  broker.reply(last->routing_id, common::result_msg{submit_of(*d).id}, "3");
  CHECK(first.get().value() == "1");
  CHECK(second.get().value() == "2");
  CHECK(third.get().value() == "3");
}

TEST_CASE("with no outcome arriving, a busy task waits for its timer") {
  fake_broker broker("b-wait", "tcp://127.0.0.1:*");
  client_options o = fast_options(broker.endpoint);
  o.retry.base_seconds = 0.3;
  o.retry.jitter = 0;
  client c(o);
  settle_contact(broker);
  auto only = c.submit("echo", "x");
  auto sent = broker.next_submit(5s);
  REQUIRE(sent);
  const auto refused_at = std::chrono::steady_clock::now();
  broker.reply(sent->routing_id, common::busy_msg{submit_of(*sent).id, 1, 1, 1, 0, "queue_full"});
  auto again = broker.next_submit(5s);
  REQUIRE(again);
  CHECK(std::chrono::steady_clock::now() - refused_at >= 250ms);
  broker.reply(again->routing_id, common::result_msg{submit_of(*sent).id}, "x");
  CHECK(only.get().value() == "x");
}

TEST_CASE("while a task waits for room, new ones wait behind it, a higher lane first; a no-retry task is sent at once") {
  fake_broker broker("b-behind", "tcp://127.0.0.1:*");
  client_options o = fast_options(broker.endpoint);
  o.retry.base_seconds = 30;
  client c(o);
  settle_contact(broker);
  auto held = c.submit("echo", "held");
  auto refused = c.submit("echo", "refused");
  auto a = broker.next_submit(5s), b = broker.next_submit(5s);
  REQUIRE(a);
  REQUIRE(b);
  broker.reply(b->routing_id, common::busy_msg{submit_of(*b).id, 1, 1, 1, 0, "queue_full"});
  CHECK_FALSE(broker.next_submit(300ms));
  auto normal = c.submit("echo", "normal");
  submit_options high_lane;
  high_lane.pri = common::priority::high;
  auto high = c.submit("echo", "high", high_lane);
  CHECK_FALSE(broker.next_submit(300ms));  // both wait: the broker would refuse them
  submit_options no_retry;
  no_retry.retry = false;
  auto eager = c.submit("echo", "eager", no_retry);
  auto sent = broker.next_submit(2s);
  REQUIRE(sent);
  CHECK(sent->msg.payload.to_string() == "eager");
  broker.reply(sent->routing_id, common::busy_msg{submit_of(*sent).id, 1, 1, 1, 0, "queue_full"});
  CHECK(eager.get().error_kind() == "busy");
  // Each outcome lets one go: the high lane first, then the oldest.
  const std::vector<std::string> order = {"high", "refused", "normal"};
  std::optional<received> running = std::move(a);  // what the broker runs now
  for (const auto& next_payload : order) {
    broker.reply(running->routing_id, common::result_msg{submit_of(*running).id}, running->msg.payload.to_string());
    auto next = broker.next_submit(2s);
    REQUIRE(next);
    CHECK(next->msg.payload.to_string() == next_payload);
    CHECK_FALSE(broker.next_submit(200ms));
    running = std::move(next);
  }
  broker.reply(running->routing_id, common::result_msg{submit_of(*running).id}, running->msg.payload.to_string());
  CHECK(held.get().value() == "held");
  CHECK(high.get().value() == "high");
  CHECK(refused.get().value() == "refused");
  CHECK(normal.get().value() == "normal");
}
}
