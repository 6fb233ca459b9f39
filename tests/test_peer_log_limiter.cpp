// The per-peer log limiter, on a fake clock: a peer's first line is written,
// the rest of its interval is held back and counted, the count is written
// with the peer's next line or by expire() when the interval ends, peers
// do not hold each other back, and the table of peers stays bounded.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "clock.hpp"
#include "peer_log_limiter.hpp"

using namespace argon;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("a peer's first line is written and the rest of its 10 s are held back") {
  common::fake_clock clk;
  broker::peer_log_limiter limit(10s);
  auto first = limit.admit("10.0.0.7", "refused connection from 10.0.0.7:1: x", clk.now());
  REQUIRE(first.has_value());
  CHECK(*first == "refused connection from 10.0.0.7:1: x");
  for (int i = 0; i < 12; ++i) {
    clk.advance(150ms);
    CHECK_FALSE(limit.admit("10.0.0.7", "refused connection from 10.0.0.7:2: x", clk.now()).has_value());
  }
  CHECK(limit.expire(clk.now()).empty());  // the interval has not ended yet
}

TEST_CASE("the held-back count comes with the peer's next line after its interval") {
  common::fake_clock clk;
  broker::peer_log_limiter limit(10s);
  REQUIRE(limit.admit("10.0.0.7", "a", clk.now()));
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limit.admit("10.0.0.7", "b", clk.now()));
  clk.advance(10s);
  auto next = limit.admit("10.0.0.7", "c", clk.now());
  REQUIRE(next.has_value());
  CHECK(*next == "c (5 more from 10.0.0.7 not logged)");
  CHECK_FALSE(limit.admit("10.0.0.7", "d", clk.now()));  // a new interval began with "c"
}

TEST_CASE("expire writes the last held-back line with the count once the interval is over") {
  common::fake_clock clk;
  broker::peer_log_limiter limit(10s);
  REQUIRE(limit.admit("10.0.0.7", "a", clk.now()));
  for (int i = 0; i < 12; ++i) CHECK_FALSE(limit.admit("10.0.0.7", fmt::format("b{}", i), clk.now()));
  clk.advance(9s);
  CHECK(limit.expire(clk.now()).empty());
  clk.advance(1s);
  auto lines = limit.expire(clk.now());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "b11 (11 more from 10.0.0.7 not logged)");
  CHECK(limit.expire(clk.now()).empty());  // said once
  // The summary counts as the interval's line: the peer's next event within it is held.
  CHECK_FALSE(limit.admit("10.0.0.7", "c", clk.now()));
  clk.advance(10s);
  lines = limit.expire(clk.now());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "c");  // one held back: written as it was, nothing more to count
  clk.advance(10s);
  CHECK(limit.expire(clk.now()).empty());
  CHECK(limit.peers() == 0);  // a quiet peer is forgotten
  CHECK(limit.admit("10.0.0.7", "d", clk.now()) == std::optional<std::string>("d"));
}

TEST_CASE("peers do not hold each other back") {
  common::fake_clock clk;
  broker::peer_log_limiter limit(10s);
  CHECK(limit.admit("10.0.0.7", "a", clk.now()));
  CHECK(limit.admit("10.0.0.8", "b", clk.now()));
  CHECK_FALSE(limit.admit("10.0.0.7", "a", clk.now()));
  CHECK_FALSE(limit.admit("10.0.0.8", "b", clk.now()));
  CHECK(limit.peers() == 2);
}

TEST_CASE("with the table full, new peers share one entry, so a flood of addresses stays bounded") {
  common::fake_clock clk;
  broker::peer_log_limiter limit(10s, 4);
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += limit.admit("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "x", clk.now()).has_value();
  CHECK(written == 5);  // four peers, then one line for all the others
  CHECK(limit.peers() == 5);
  clk.advance(10s);
  auto lines = limit.expire(clk.now());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "x (994 more from other addresses not logged)");
  clk.advance(10s);
  CHECK(limit.expire(clk.now()).empty());
  CHECK(limit.peers() == 0);
}
}
