// The broker's monitor socket: a subscriber gets exactly the events whose
// names its prefix matches, each as [name][msgpack map] that decodes to
// what was published; subscription messages reach the owner and the
// subscription set, unsubscription too when the subscriber goes; messages
// that are not subscriptions are ignored; publishing never waits: with
// nobody listening nothing is dropped, and a subscriber that stops reading
// loses events that are counted, every one, never more; a bad endpoint is
// a config_error. The loop is pumped by the test; the clock is fake.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <optional>
#include <vector>

#include <zmq.hpp>

#include "errors.hpp"
#include "event_feed.hpp"
#include "loop_pump.hpp"
#include "monitor_subscriber.hpp"

using namespace argon;
using namespace argon::common;
using namespace argon::test;
namespace mon = argon::common::monitor;
using namespace std::chrono_literals;

namespace {

// A feed on a loop the test pumps, with its subscription messages recorded.
struct feed_rig {
  explicit feed_rig(const std::string& endpoint = "tcp://127.0.0.1:*")
      : feed(ctx, loop.get(), endpoint, nullptr, clk, [this](std::string_view m) { changes.emplace_back(m); }) {}

  // A SUB connected to the feed, subscribed to these prefixes.
  std::unique_ptr<zmq::socket_t> subscriber(const std::vector<std::string>& prefixes, int rcvhwm = 1000) {
    return monitor_subscriber(ctx, feed.endpoint(), prefixes, rcvhwm);
  }
  // The next event on s, pumping the loop meanwhile; empty if none within limit.
  std::optional<mon::event> next(zmq::socket_t& s, std::chrono::milliseconds limit = 5s) {
    return next_monitor_event(loop.get(), s, limit);
  }

  zmq::context_t ctx;
  event_loop loop;
  fake_clock clk;
  std::vector<std::string> changes;  // subscription messages, in order
  broker::event_feed feed;
};

// A subscription message as the XPUB passes it up: [1|0][prefix].
std::string subscription(char on, std::string_view prefix) {
  std::string m(1, on);
  m.append(prefix);
  return m;
}
std::string sub(std::string_view p) { return subscription('\x01', p); }
std::string unsub(std::string_view p) { return subscription('\x00', p); }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a subscriber gets only the events its prefix matches, each decoding to what was published") {
  feed_rig rig;
  auto s = rig.subscriber({"task_"});
  REQUIRE(pump_until(rig.loop.get(), [&] { return !rig.changes.empty(); }));
  CHECK(rig.changes[0] == sub("task_"));
  CHECK(rig.feed.subscriptions().wants(mon::kind_index<mon::task_done>()));
  CHECK_FALSE(rig.feed.subscriptions().wants(mon::kind_index<mon::trace>()));

  const auto before = unix_ms();
  rig.feed.publish(mon::trace{"in", "SUBMIT", "t0", "c", "client", 0, ""});
  rig.feed.publish(mon::worker_joined{"W1", 2, "127.0.0.1"});
  rig.feed.publish(mon::task_done{"t1", "W1", 12.5});
  rig.feed.publish(mon::task_failed{"t2", "task_error", "boom", "W1"});
  auto e1 = rig.next(*s);
  REQUIRE(e1);
  CHECK(e1->content == mon::body{mon::task_done{"t1", "W1", 12.5}});
  CHECK(e1->time_ms >= before);
  auto e2 = rig.next(*s);
  REQUIRE(e2);
  CHECK(e2->content == mon::body{mon::task_failed{"t2", "task_error", "boom", "W1"}});
  CHECK_FALSE(rig.next(*s, 200ms).has_value());
  CHECK(rig.feed.dropped_total() == 0);
}

TEST_CASE("subscriptions reach the owner as they come and go; a departed subscriber's prefix is unsubscribed") {
  feed_rig rig;
  auto a = rig.subscriber({"trace"});
  REQUIRE(pump_until(rig.loop.get(), [&] { return rig.changes.size() == 1; }));
  auto b = rig.subscriber({"stats", "worker_"});
  REQUIRE(pump_until(rig.loop.get(), [&] { return rig.changes.size() == 3; }));
  CHECK(rig.feed.subscriptions().wants(mon::kind_index<mon::stats>()));
  CHECK(rig.feed.subscriptions().wants(mon::kind_index<mon::worker_left>()));
  a->close();
  REQUIRE(pump_until(rig.loop.get(), [&] { return rig.changes.size() == 4; }));
  CHECK(rig.changes[3] == unsub("trace"));
  CHECK_FALSE(rig.feed.subscriptions().wants(mon::kind_index<mon::trace>()));
  CHECK(rig.feed.subscriptions().wants(mon::kind_index<mon::stats>()));
  b->set(zmq::sockopt::unsubscribe, "stats");
  REQUIRE(pump_until(rig.loop.get(), [&] { return rig.changes.size() == 5; }));
  CHECK(rig.changes[4] == unsub("stats"));
  CHECK_FALSE(rig.feed.subscriptions().wants(mon::kind_index<mon::stats>()));
  CHECK(rig.feed.subscriptions().wants(mon::kind_index<mon::worker_joined>()));
}

TEST_CASE("a message that is not a subscription is ignored") {
  feed_rig rig;
  zmq::socket_t x(rig.ctx, zmq::socket_type::xsub);
  x.set(zmq::sockopt::linger, 0);
  x.connect(rig.feed.endpoint());
  const std::string junk = "\x07not a subscription";
  REQUIRE(x.send(zmq::buffer(junk), zmq::send_flags::none));
  const std::string real = sub("busy");
  REQUIRE(x.send(zmq::buffer(real), zmq::send_flags::none));
  REQUIRE(pump_until(rig.loop.get(), [&] { return !rig.changes.empty(); }));
  pump_for(rig.loop.get(), 50ms);
  CHECK(rig.changes == std::vector<std::string>{real});
  CHECK(rig.feed.subscriptions().wanted() == (1u << mon::kind_index<mon::busy>()));
}

TEST_CASE("with nobody subscribed, publishing never waits and drops nothing") {
  feed_rig rig;
  for (int i = 0; i < 20000; ++i) rig.feed.publish(mon::task_progress{"t", 1, "x"});
  CHECK(rig.feed.dropped_total() == 0);
  CHECK(rig.feed.take_dropped() == 0);
}

TEST_CASE("a subscriber that stops reading loses events; each lost one is counted, and every other arrives") {
  feed_rig rig("inproc://argon-test-feed");  // no kernel buffers: the pipe holds exactly its high-water marks
  auto slow = rig.subscriber({""}, 100);
  REQUIRE(pump_until(rig.loop.get(), [&] { return !rig.changes.empty(); }));
  constexpr int published = broker::event_feed::send_hwm * 3;
  for (int i = 0; i < published; ++i) rig.feed.publish(mon::task_progress{fmt::format("t{}", i), 1, ""});
  const auto dropped = rig.feed.dropped_total();
  CHECK(dropped > 0);
  CHECK(dropped < static_cast<std::uint64_t>(published));
  CHECK(rig.feed.take_dropped() == dropped);
  CHECK(rig.feed.take_dropped() == 0);  // taken once
  CHECK(rig.feed.dropped_total() == dropped);  // the total stays
  int arrived = 0;
  std::string last_id;
  while (auto e = rig.next(*slow, 500ms)) {
    ++arrived;
    last_id = std::get<mon::task_progress>(e->content).id;
  }
  CHECK(arrived + dropped == static_cast<std::uint64_t>(published));
  CHECK(last_id == fmt::format("t{}", arrived - 1));  // what arrived is the head, in order, whole
  // Once the subscriber has caught up, events flow again and nothing more is dropped.
  rig.feed.publish(mon::task_progress{"after", 100, ""});
  auto e = rig.next(*slow);
  REQUIRE(e);
  CHECK(std::get<mon::task_progress>(e->content).id == "after");
  CHECK(rig.feed.take_dropped() == 0);
}

TEST_CASE("an endpoint the feed cannot bind is a config_error naming it") {
  zmq::context_t ctx;
  event_loop loop;
  fake_clock clk;
  CHECK_THROWS_WITH_AS(broker::event_feed(ctx, loop.get(), "tcp://256.0.0.1:1", nullptr, clk, nullptr),
                       doctest::Contains("cannot listen for monitors on tcp://256.0.0.1:1"), config_error);
}
}
