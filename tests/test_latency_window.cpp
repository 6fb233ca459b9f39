// The latency window: percentiles within the bins' error, a window that
// forgets old seconds, and fixed memory whatever the number of samples.
#include <doctest/doctest.h>

#include "latency_window.hpp"

using namespace argon;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("percentiles of known samples are within the bins' 9 % error") {
  common::fake_clock clk;
  broker::latency_window w(10);
  for (int ms = 1; ms <= 100; ++ms) w.add(clk.now(), std::chrono::milliseconds(ms));
  CHECK(w.count(clk.now()) == 100);
  CHECK(w.percentile_ms(clk.now(), 0.50) == doctest::Approx(50).epsilon(0.09));
  CHECK(w.percentile_ms(clk.now(), 0.95) == doctest::Approx(95).epsilon(0.09));
  CHECK(w.percentile_ms(clk.now(), 0.99) == doctest::Approx(99).epsilon(0.09));
  CHECK(w.percentile_ms(clk.now(), 1.0) == doctest::Approx(100).epsilon(0.09));
}

TEST_CASE("an empty window reports zero, and tiny or huge durations stay in range") {
  common::fake_clock clk;
  broker::latency_window w(5);
  CHECK(w.percentile_ms(clk.now(), 0.5) == 0);
  w.add(clk.now(), 0ns);
  w.add(clk.now(), std::chrono::hours(100));
  CHECK(w.percentile_ms(clk.now(), 0.5) < 0.002);
  CHECK(w.percentile_ms(clk.now(), 1.0) > 3600.0 * 1000);
}

TEST_CASE("seconds older than the window are forgotten") {
  common::fake_clock clk;
  broker::latency_window w(3);
  for (int i = 0; i < 50; ++i) w.add(clk.now(), 100ms);
  clk.advance(1s);
  for (int i = 0; i < 50; ++i) w.add(clk.now(), 1ms);
  CHECK(w.count(clk.now()) == 100);
  CHECK(w.percentile_ms(clk.now(), 0.99) == doctest::Approx(100).epsilon(0.09));
  clk.advance(2s);  // the 100 ms second has left the 3 s window
  CHECK(w.count(clk.now()) == 50);
  CHECK(w.percentile_ms(clk.now(), 0.99) == doctest::Approx(1).epsilon(0.09));
  clk.advance(10s);
  CHECK(w.count(clk.now()) == 0);
  w.add(clk.now(), 7ms);  // a reused place starts empty
  CHECK(w.count(clk.now()) == 1);
  CHECK(w.percentile_ms(clk.now(), 0.5) == doctest::Approx(7).epsilon(0.09));
}

TEST_CASE("a million samples take no more memory than one") {
  common::fake_clock clk;
  broker::latency_window w(2);
  for (int i = 0; i < 1000000; ++i) w.add(clk.now(), std::chrono::microseconds(i % 5000));
  CHECK(w.count(clk.now()) == 1000000);
  CHECK(w.percentile_ms(clk.now(), 0.5) == doctest::Approx(2.5).epsilon(0.09));
  CHECK(sizeof(w) < 64);  // samples live in the fixed ring, never in a growing list
}
}
