// Progress from a handler thread reaches the control channel coalesced: at
// most one PROGRESS per min_gap per task, always the latest, none after the
// task ends; and task_context clamps what it is given.
#include <doctest/doctest.h>

#include <future>
#include <thread>

#include "argon/task_context.hpp"
#include "progress_relay.hpp"

using namespace argon::worker;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

// A loop on its own thread with a relay whose PROGRESS messages are collected.
struct relay_rig {
  event_loop loop;
  completion_queue posts{loop.get()};
  std::vector<progress_msg> sent;  // touched on the loop thread only, read after stop
  std::vector<std::chrono::steady_clock::time_point> sent_at;  // when each was sent
  progress_sender sender = [this](const progress_msg& m) {
    sent.push_back(m);
    sent_at.push_back(std::chrono::steady_clock::now());
  };
  progress_relay relay{loop.get(), posts, sender};
  timer keep_alive{loop.get(), [] {}};
  async_wake stop{loop.get(), [this] {
                    keep_alive.stop();
                    loop.stop();
                  }};

  // Runs fn on the loop thread and waits for it.
  void on_loop(std::function<void()> fn) {
    std::promise<void> done;
    posts.post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
};

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a flood of progress is coalesced to at most one message per gap, ending with the latest") {
  relay_rig rig;
  rig.keep_alive.start(10s);
  std::thread io([&] { rig.loop.run(); });
  rig.on_loop([&] { rig.relay.begin("t1"); });
  const auto t0 = std::chrono::steady_clock::now();
  for (unsigned i = 0; i <= 1000; ++i) {
    rig.relay.offer(i / 10, "step " + std::to_string(i));
    std::this_thread::sleep_for(1ms);
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  std::this_thread::sleep_for(progress_relay::min_gap + 100ms);
  rig.on_loop([&] { rig.relay.end(); });
  rig.stop.send();
  io.join();
  REQUIRE(!rig.sent.empty());
  CHECK(rig.sent.size() <= static_cast<std::size_t>(elapsed / progress_relay::min_gap) + 2);
  CHECK(rig.sent.size() >= 2);
  for (std::size_t i = 1; i < rig.sent_at.size(); ++i) CHECK(rig.sent_at[i] - rig.sent_at[i - 1] >= progress_relay::min_gap - 1ms);
  CHECK(rig.sent.back().id == "t1");
  CHECK(rig.sent.back().percent == 100);
  CHECK(rig.sent.back().message == "step 1000");
}

TEST_CASE("progress offered between tasks, or not yet sent when a task ends, is dropped") {
  relay_rig rig;
  rig.keep_alive.start(10s);
  std::thread io([&] { rig.loop.run(); });
  rig.relay.offer(10, "no task yet");
  rig.on_loop([&] { rig.relay.begin("t2"); });
  rig.relay.offer(20, "first");
  std::this_thread::sleep_for(50ms);
  rig.relay.offer(30, "superseded by DONE");
  rig.on_loop([&] { rig.relay.end(); });
  std::this_thread::sleep_for(progress_relay::min_gap + 100ms);
  rig.stop.send();
  io.join();
  REQUIRE(rig.sent.size() == 1);
  CHECK(rig.sent[0].message == "first");
  CHECK(rig.sent[0].id == "t2");
}

TEST_CASE("task_context clamps percent, cuts long messages at a character boundary, and reads the cancel flag") {
  std::atomic<bool> cancelled{false};
  std::vector<std::pair<unsigned, std::string>> got;
  task_context ctx({"id1", "name", 2, std::nullopt, {}}, cancelled,
                   [&](unsigned p, std::string m) { got.emplace_back(p, std::move(m)); });
  ctx.progress(250, "over");
  std::string long_text(1023, 'x');
  long_text += "\xc3\xa9tail";  // a two-byte character across the 1,024-byte limit
  ctx.progress(5, long_text);
  REQUIRE(got.size() == 2);
  CHECK(got[0].first == 100);
  CHECK(got[1].second == std::string(1023, 'x'));
  CHECK_FALSE(ctx.cancelled());
  cancelled = true;
  CHECK(ctx.cancelled());
  CHECK(ctx.attempt() == 2);
  CHECK_FALSE(ctx.deadline().has_value());
  CHECK_THROWS_AS(throw task_error("invalid_input", "x"), task_error);
}
}
