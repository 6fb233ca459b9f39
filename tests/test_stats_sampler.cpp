// The stats event's numbers: state copied from the snapshot, rates from the
// counters' change over the time between samples, percentiles from the
// recorded durations, and the feed's drop counts passed through.
#include <doctest/doctest.h>

#include "stats_sampler.hpp"

using namespace argon;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("rates come from the counters' change since the previous sample") {
  common::fake_clock clk;
  broker::stats_sampler s(10);
  common::status_reply_msg snap;
  snap.workers = 2;
  snap.slots = 8;
  snap.busy_slots = 3;
  snap.queue_high = 1;
  snap.queue_normal = 4;
  snap.queue_low = 2;
  snap.queue_limit = 24;
  snap.completed = 100;
  snap.failed = 10;
  snap.busy_replies = 5;
  auto first = s.sample(clk.now(), snap, 0, 0);
  CHECK(first.tasks_per_s == 0);  // nothing to compare with yet
  CHECK(first.workers == 2);
  CHECK(first.busy_slots == 3);
  CHECK(first.queue_normal == 4);
  CHECK(first.queue_limit == 24);
  clk.advance(2s);
  snap.completed = 300;
  snap.failed = 30;
  snap.busy_replies = 25;
  auto second = s.sample(clk.now(), snap, 7, 70);
  CHECK(second.tasks_per_s == doctest::Approx(110));
  CHECK(second.busy_per_s == doctest::Approx(10));
  CHECK(second.dropped == 7);
  CHECK(second.dropped_total == 70);
  CHECK(second.window_s == 10);
}

TEST_CASE("queue wait and run time have percentiles of their own") {
  common::fake_clock clk;
  broker::stats_sampler s(10);
  for (int i = 1; i <= 100; ++i) {
    s.record_wait(clk.now(), std::chrono::microseconds(100 * i));  // 0.1 .. 10 ms
    s.record_run(clk.now(), std::chrono::milliseconds(10 * i));    // 10 .. 1000 ms
  }
  auto e = s.sample(clk.now(), {}, 0, 0);
  CHECK(e.wait_p50_ms == doctest::Approx(5).epsilon(0.09));
  CHECK(e.wait_p99_ms == doctest::Approx(9.9).epsilon(0.09));
  CHECK(e.run_p50_ms == doctest::Approx(500).epsilon(0.09));
  CHECK(e.run_p95_ms == doctest::Approx(950).epsilon(0.09));
  clk.advance(11s);
  auto later = s.sample(clk.now(), {}, 0, 0);
  CHECK(later.wait_p50_ms == 0);  // the window has moved past them
  CHECK(later.run_p99_ms == 0);
}
}
