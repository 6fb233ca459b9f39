// A worker's control channel against a scripted broker: HELLO at start with
// the worker's id and capacity; HEARTBEAT every interval and in answer to
// each of the broker's; a CANCEL reaches the worker; a new broker instance
// brings HELLO again and broker_restarted; a silent broker brings a new
// socket (same routing id), HELLO (and BYE, once said) and broker_lost;
// PROGRESS and BYE go out; refusals and messages the channel does not
// expect change nothing. The channel's timer and silence run on real time,
// so the timing cases use short intervals and generous deadlines.
#include <doctest/doctest.h>

#include <optional>

#include "control_channel.hpp"
#include "worker_rig.hpp"

using namespace argon::worker;
using namespace argon::common;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// A control channel's world: the worker rig, and the events the channel raised.
struct channel_rig : worker_rig {
  slot_env env = slot_env_for(std::nullopt, {});
  int restarted = 0;                 // broker_restarted calls
  int lost = 0;                      // broker_lost calls
  std::vector<std::string> cancels;  // cancel calls
  std::vector<std::uint64_t> limits;  // limits calls
  std::unique_ptr<control_channel> channel;

  ~channel_rig() { channel.reset(); }  // before the loop and the context

  // interval: heartbeat interval; a long one keeps the channel's own beats out of the way.
  void start(millis interval = 60s, unsigned liveness = 3) {
    control_events ev{[this] { ++restarted; }, [this] { ++lost; },
                      [this](const std::string& id) { cancels.push_back(id); },
                      [this](std::uint64_t max_result) { limits.push_back(max_result); }};
    channel = std::make_unique<control_channel>(env, control_settings{3, interval, liveness}, std::move(ev));
  }
  // Starts the channel, waits for its HELLO and returns the channel's routing id.
  std::string start_until_hello(millis interval = 60s, unsigned liveness = 3) {
    start(interval, liveness);
    return expect<hello_msg>().from;
  }
};

// Starts the channel and lets the broker name its instance once; returns the
// channel's routing id.
std::string start_with_instance(channel_rig& rig, const std::string& instance) {
  const std::string control = rig.start_until_hello();
  rig.broker.send(control, heartbeat_msg{instance});
  REQUIRE(rig.next_of(command::heartbeat));
  return control;
}

// The channel said HELLO again, with its capacity, and told the worker to
// announce its idle slots again (broker_restarted), without counting the broker lost.
void check_announced_again(channel_rig& rig, const std::string& control) {
  auto hello = rig.next_of(command::hello);
  REQUIRE(hello);
  CHECK(hello->from == control);
  CHECK(std::get<hello_msg>(hello->message.content).capacity == 3);
  CHECK(rig.restarted == 1);
  CHECK(rig.lost == 0);
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("the channel says HELLO at start with the worker's id, capacity and version") {
  channel_rig rig;
  rig.start();
  const hello_msg hello = rig.expect_announcement<hello_msg>("wW1", role::control);
  CHECK(hello.capacity == 3);
  CHECK(hello.version == ARGON_VERSION);
}

TEST_CASE("the channel sends HEARTBEAT every interval while the broker answers") {
  channel_rig rig;
  const std::string control = rig.start_until_hello(50ms, 1000);  // a silence limit far beyond the test
  for (int i = 0; i < 3; ++i) {
    auto r = rig.next_of(command::heartbeat);
    REQUIRE(r);
    CHECK(r->from == control);
    CHECK(std::get<heartbeat_msg>(r->message.content).sender == "W1");
  }
  CHECK(rig.lost == 0);
}

TEST_CASE("each broker HEARTBEAT is answered with one, and the first instance named is no restart") {
  channel_rig rig;
  const std::string control = rig.start_until_hello();
  rig.broker.send(control, heartbeat_msg{"instance-A"});
  const received r = rig.expect<heartbeat_msg>();
  CHECK(std::get<heartbeat_msg>(r.message.content).sender == "W1");
  rig.broker.send(control, heartbeat_msg{"instance-A"});
  REQUIRE(rig.next_of(command::heartbeat));
  CHECK_FALSE(rig.next(200ms).has_value());  // no HELLO: same broker
  CHECK(rig.restarted == 0);
}

TEST_CASE("a new broker instance brings HELLO again and broker_restarted") {
  channel_rig rig;
  const std::string control = start_with_instance(rig, "instance-A");
  rig.broker.send(control, heartbeat_msg{"instance-B"});
  check_announced_again(rig, control);
}

TEST_CASE("unknown_worker: the worker announces itself and its idle slots once, at the broker's next HEARTBEAT") {
  channel_rig rig;
  const std::string control = start_with_instance(rig, "instance-A");
  rig.broker.send(control, error_msg{"unknown_worker", "worker W1 is not known here; say HELLO"});
  CHECK_FALSE(rig.next_of(command::hello, 200ms));  // the next HEARTBEAT tells which broker forgot it
  SUBCASE("the same instance: it declared the worker dead while it was frozen") {
    rig.broker.send(control, heartbeat_msg{"instance-A"});
    check_announced_again(rig, control);
  }
  SUBCASE("a new instance: it restarted, and heard a heartbeat before it knew the worker") {
    rig.broker.send(control, heartbeat_msg{"instance-B"});
    check_announced_again(rig, control);
    rig.broker.send(control, heartbeat_msg{"instance-B"});
    CHECK_FALSE(rig.next_of(command::hello, 300ms));  // once: a second announcement would make idle slots drop TASKs on their way
    CHECK(rig.restarted == 1);
  }
}

TEST_CASE("a CANCEL from the broker reaches the worker with its task id") {
  channel_rig rig;
  const std::string control = rig.start_until_hello();
  rig.broker.send(control, cancel_msg{"t7"});
  REQUIRE(pump_until(rig.loop.get(), [&] { return !rig.cancels.empty(); }));
  CHECK(rig.cancels == std::vector<std::string>{"t7"});
  rig.broker.send(control, cancel_msg{"t8"});
  REQUIRE(pump_until(rig.loop.get(), [&] { return rig.cancels.size() == 2; }));
  CHECK(rig.cancels[1] == "t8");
}

TEST_CASE("the broker's LIMITS reach the worker, each time they come") {
  channel_rig rig;
  const std::string control = rig.start_until_hello();
  rig.broker.send(control, limits_msg{662144});
  REQUIRE(pump_until(rig.loop.get(), [&] { return !rig.limits.empty(); }));
  CHECK(rig.limits == std::vector<std::uint64_t>{662144});
  rig.broker.send(control, limits_msg{1u << 26});  // a restarted broker with another --max-payload
  REQUIRE(pump_until(rig.loop.get(), [&] { return rig.limits.size() == 2; }));
  CHECK(rig.limits[1] == 1u << 26);
}

TEST_CASE("refusals and messages the channel does not expect change nothing") {
  channel_rig rig;
  const std::string control = rig.start_until_hello();
  rig.broker.send(control, error_msg{"protocol_error", "scripted refusal"});
  rig.broker.send(control, pong_msg{"x"});
  rig.broker.send(control, task_msg{"t1", "echo", 1, 0, {}});
  CHECK_FALSE(rig.next(200ms).has_value());  // nothing answered
  CHECK(rig.cancels.empty());
  CHECK(rig.restarted == 0);
  rig.broker.send(control, cancel_msg{"t2"});  // and the channel goes on
  CHECK(pump_until(rig.loop.get(), [&] { return rig.cancels.size() == 1; }));
}

TEST_CASE("send_progress and say_bye reach the broker; heartbeats go on after BYE") {
  channel_rig rig;
  const std::string control = rig.start_until_hello(50ms, 1000);
  rig.channel->send_progress(progress_msg{"t3", 60, "most of it"});
  auto p = rig.next_of(command::progress);
  REQUIRE(p);
  CHECK(p->from == control);
  auto& pm = std::get<progress_msg>(p->message.content);
  CHECK(pm.id == "t3");
  CHECK(pm.percent == 60);
  CHECK(pm.message == "most of it");
  rig.channel->say_bye();
  auto bye = rig.next_of(command::bye);
  REQUIRE(bye);
  CHECK(std::get<bye_msg>(bye->message.content).worker_id == "W1");
  CHECK(rig.next_of(command::heartbeat).has_value());
}

TEST_CASE("a silent broker: the channel reconnects with the same routing id, says HELLO and BYE again, and tells the worker") {
  channel_rig rig;
  const std::string control = rig.start_until_hello(50ms, 2);  // silent for 100 ms counts as lost
  rig.channel->say_bye();
  REQUIRE(rig.next_of(command::bye));
  auto hello = rig.next_of(command::hello);  // the scripted broker never answers
  REQUIRE(hello);
  CHECK(hello->from == control);
  CHECK(rig.lost >= 1);
  auto bye = rig.next();  // BYE follows HELLO, so a broker that missed it knows
  REQUIRE(bye);
  CHECK(std::holds_alternative<bye_msg>(bye->message.content));
  CHECK(rig.restarted == 0);
}

TEST_CASE("a broker that keeps speaking is never counted lost") {
  channel_rig rig;
  const std::string control = rig.start_until_hello(50ms, 16);  // silent for 800 ms counts as lost; the broker speaks every 50 ms for 2 s
  const auto end = std::chrono::steady_clock::now() + 2s;
  auto next_beat = std::chrono::steady_clock::now();
  int hellos = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (std::chrono::steady_clock::now() >= next_beat) {
      rig.broker.send(control, heartbeat_msg{"instance-A"});
      next_beat += 50ms;
    }
    auto r = rig.next(10ms);
    if (r && command_of(r->message.content) == command::hello) ++hellos;
  }
  CHECK(hellos == 0);
  CHECK(rig.lost == 0);
}
}
