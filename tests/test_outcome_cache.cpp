// The finished-task cache: outcomes are kept for their TTL, found by key,
// replaced on a second put, and forced out oldest first by the byte budget.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "outcome_cache.hpp"

using namespace argon;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

zmq::message_t bytes(std::size_t n) { return zmq::message_t(std::string(n, 'x')); }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("an outcome is found until its TTL passes") {
  fake_clock clk;
  broker::outcome_cache c(60s, 1 << 20);
  c.put("c1\nt1", result_msg{"t1"}, zmq::message_t(std::string("out")), clk.now());
  const auto* f = c.find("c1\nt1");
  REQUIRE(f);
  CHECK(std::get<result_msg>(f->outcome).id == "t1");
  CHECK(f->output.to_string() == "out");
  CHECK_FALSE(c.find("c2\nt1"));
  clk.advance(59s);
  CHECK(c.expire(clk.now()) == 0);
  CHECK(c.find("c1\nt1"));
  clk.advance(1s);
  CHECK(c.expire(clk.now()) == 1);
  CHECK_FALSE(c.find("c1\nt1"));
  CHECK(c.size() == 0);
  CHECK(c.bytes() == 0);
}

TEST_CASE("entries expire oldest first and only when due") {
  fake_clock clk;
  broker::outcome_cache c(10s, 1 << 20);
  c.put("a", failed_msg{"a", "task_error", "no"}, zmq::message_t(), clk.now());
  clk.advance(5s);
  c.put("b", result_msg{"b"}, bytes(10), clk.now());
  clk.advance(5s);
  CHECK(c.expire(clk.now()) == 1);
  CHECK_FALSE(c.find("a"));
  CHECK(c.find("b"));
  clk.advance(5s);
  CHECK(c.expire(clk.now()) == 1);
  CHECK(c.size() == 0);
}

TEST_CASE("a second put replaces the first and charges once") {
  fake_clock clk;
  broker::outcome_cache c(10s, 1 << 20);
  c.put("k", result_msg{"k"}, bytes(100), clk.now());
  const std::size_t one = c.bytes();
  c.put("k", result_msg{"k"}, bytes(100), clk.now());
  CHECK(c.size() == 1);
  CHECK(c.bytes() == one);
}

TEST_CASE("the byte budget forces out the oldest outcomes, never more than needed") {
  fake_clock clk;
  broker::outcome_cache c(60s, 4096);
  for (int i = 0; i < 10; ++i) c.put(fmt::format("k{}", i), result_msg{"x"}, bytes(1000), clk.now());
  CHECK(c.bytes() <= 4096);
  CHECK(c.size() == 3);
  CHECK_FALSE(c.find("k6"));
  CHECK(c.find("k7"));
  CHECK(c.find("k9"));
}

TEST_CASE("an outcome larger than the whole budget is not kept and evicts nothing") {
  fake_clock clk;
  broker::outcome_cache c(60s, 4096);
  c.put("small", result_msg{"s"}, bytes(10), clk.now());
  c.put("huge", result_msg{"h"}, bytes(5000), clk.now());
  CHECK(c.find("small"));
  CHECK_FALSE(c.find("huge"));
}
}
