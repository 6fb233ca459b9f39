// The broker's bounded three-lane queue: order, byte accounting, removal, aging.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "task_queue.hpp"

using namespace argon;
using argon::common::priority;

namespace {
// A task on route "" unless one is given.
broker::task& make(std::deque<broker::task>& store, const std::string& id, priority p, std::size_t bytes = 0,
                   const std::string& route = "") {
  auto& t = store.emplace_back();
  t.id = id;
  t.route = route;
  t.pri = t.lane = p;
  t.payload.rebuild(bytes);
  return t;
}
}  // namespace

TEST_SUITE("unit") {
TEST_CASE("lanes are served high, normal, low and FIFO within a lane") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  q.push(make(store, "n1", priority::normal), clk.now());
  q.push(make(store, "l1", priority::low), clk.now());
  q.push(make(store, "h1", priority::high), clk.now());
  q.push(make(store, "n2", priority::normal), clk.now());
  q.push(make(store, "h2", priority::high), clk.now());
  CHECK(q.size() == 5);
  CHECK(q.size(priority::normal) == 2);
  std::string order;
  while (auto* t = q.pop()) order += t->id + " ";
  CHECK(order == "h1 h2 n1 n2 l1 ");
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
}

TEST_CASE("bytes are counted in and out, and push_front goes first") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  auto& a = make(store, "a", priority::normal, 100);
  auto& b = make(store, "b", priority::normal, 50);
  q.push(a, clk.now());
  q.push(b, clk.now());
  CHECK(q.bytes() == 150);
  q.remove(a);
  CHECK(q.bytes() == 50);
  CHECK(q.size() == 1);
  q.push_front(a);
  CHECK(q.pop() == &a);
  CHECK(q.pop() == &b);
  CHECK(q.bytes() == 0);
}

TEST_CASE("a task that waits too long moves up one lane, and only one") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  auto& low = make(store, "low", priority::low);
  q.push(low, clk.now());
  clk.advance(std::chrono::milliseconds(500));
  CHECK(q.promote(clk.now(), common::millis(1000)) == 0);
  clk.advance(std::chrono::milliseconds(600));
  q.push(make(store, "normal", priority::normal), clk.now());
  CHECK(q.promote(clk.now(), common::millis(1000)) == 1);
  CHECK(low.lane == priority::normal);
  CHECK(low.pri == priority::low);
  CHECK(q.size(priority::low) == 0);
  // It joined the back of the normal lane with its age reset.
  CHECK(q.pop()->id == "normal");
  CHECK(q.pop()->id == "low");
}

TEST_CASE("aging lifts a starving low task above later normal work") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  q.push(make(store, "old-low", priority::low), clk.now());
  clk.advance(std::chrono::seconds(3));
  q.promote(clk.now(), common::millis(1000));  // low -> normal
  clk.advance(std::chrono::seconds(3));
  q.push(make(store, "new-normal", priority::normal), clk.now());
  q.promote(clk.now(), common::millis(1000));  // normal -> high
  CHECK(q.pop()->id == "old-low");
}
}

TEST_SUITE("unit") {
TEST_CASE("pop_for takes the best task among the routes it may take, lane first, then arrival") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  auto routed = [&](const std::string& id, const std::string& route, priority p) -> broker::task& {
    auto& t = make(store, id, p);
    t.route = route;
    q.push(t, clk.now());
    return t;
  };
  routed("a1", "a", priority::normal);
  routed("b1", "b", priority::normal);
  routed("a2", "a", priority::high);
  routed("c1", "c", priority::low);
  auto only = [](std::string r) { return [r](std::string_view route) { return route == r; }; };
  CHECK(q.pop_for(only("x")) == nullptr);
  CHECK(q.pop_for(only("b"))->id == "b1");
  CHECK(q.size() == 3);
  auto a_or_c = [](std::string_view r) { return r == "a" || r == "c"; };
  CHECK(q.pop_for(a_or_c)->id == "a2");
  auto& b2 = routed("b2", "b", priority::normal);
  q.remove(b2);
  q.push_front(b2);  // a requeued task goes before everything in its lane, across routes
  CHECK(q.pop()->id == "b2");
  CHECK(q.pop()->id == "a1");
  CHECK(q.size(priority::low) == 1);
  CHECK(q.pop_for(a_or_c)->id == "c1");
  CHECK(q.empty());
  CHECK(q.size(priority::normal) == 0);
}

TEST_CASE("pop_for takes only from the lanes in its mask, the higher lane first") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  q.push(make(store, "l1", priority::low), clk.now());
  q.push(make(store, "n1", priority::normal), clk.now());
  q.push(make(store, "h1", priority::high), clk.now());
  const std::uint32_t high_only = lane_bit(priority::high), not_high = lane_bit(priority::normal) | lane_bit(priority::low);
  CHECK(q.pop_for({}, not_high)->id == "n1");
  CHECK(q.pop_for({}, not_high)->id == "l1");
  CHECK(q.pop_for({}, not_high) == nullptr);  // h1 is there, but not for this slot
  CHECK(q.pop_for({}, high_only)->id == "h1");
  CHECK(q.empty());
}

TEST_CASE("an aged task keeps the lane it was submitted in for pop_for's mask: aging changes its turn, not its slots") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  auto& low = make(store, "old-low", priority::low);
  q.push(low, clk.now());
  clk.advance(std::chrono::seconds(2));
  q.promote(clk.now(), common::millis(1000));
  clk.advance(std::chrono::seconds(2));
  q.promote(clk.now(), common::millis(1000));
  REQUIRE(low.lane == priority::high);
  CHECK(q.size(priority::high) == 1);
  q.push(make(store, "h1", priority::high), clk.now());
  const std::uint32_t high_only = lane_bit(priority::high), low_only = lane_bit(priority::low);
  CHECK(q.pop_for({}, high_only)->id == "h1");  // the aged low task is first in the high lane, but not a high task
  CHECK(q.pop_for({}, high_only) == nullptr);
  CHECK(q.pop_for({}, low_only)->id == "old-low");
  CHECK(q.empty());
}

TEST_CASE("in a lane, aged and native tasks keep one order of turns") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  q.push(make(store, "n1", priority::normal), clk.now());
  q.push(make(store, "l1", priority::low), clk.now());
  clk.advance(std::chrono::seconds(2));
  q.push(make(store, "n2", priority::normal), clk.now());
  q.promote(clk.now(), common::millis(1000));  // n1 -> high; l1 -> normal, with the turn after n2's
  q.push(make(store, "n3", priority::normal), clk.now());  // the turn after l1's
  CHECK(q.pop()->id == "n1");
  CHECK(q.pop()->id == "n2");
  CHECK(q.pop()->id == "l1");
  CHECK(q.pop()->id == "n3");
}

TEST_CASE("clients take turns within a lane: a late client waits behind one task of the flooding one, not all") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  auto from = [&](const std::string& client, const std::string& id, priority p = priority::normal) -> broker::task& {
    auto& t = make(store, id, p);
    t.client = client;
    q.push(t, clk.now());
    return t;
  };
  auto id = [](char c, int i) {
    std::string s(1, c);
    s += std::to_string(i);
    return s;
  };
  for (int i = 1; i <= 100; ++i) from("A", id('a', i));
  CHECK(q.pop()->id == "a1");
  for (int i = 1; i <= 3; ++i) from("B", id('b', i));
  std::vector<std::string> order;
  for (int i = 0; i < 8; ++i) order.push_back(q.pop()->id);
  CHECK(order == std::vector<std::string>{"a2", "b1", "a3", "b2", "a4", "b3", "a5", "a6"});
  auto& back = *std::find_if(store.begin(), store.end(), [](auto& t) { return t.id == "a6"; });
  q.push_front(back);  // a requeued task still goes before every turn
  CHECK(q.pop()->id == "a6");
  CHECK(q.clients() == 1);  // B's three are gone; A waits with the rest
  from("C", "c1", priority::high);
  CHECK(q.clients() == 2);  // lanes still come first
  CHECK(q.pop()->id == "c1");
  for (int i = 4; i <= 5; ++i) from("B", id('b', i));  // B, back after being idle, gets no
  CHECK(q.pop()->id == "a7");                                          // credit for the turns it did not use
  CHECK(q.pop()->id == "b4");
  CHECK(q.pop()->id == "a8");
  CHECK(q.pop()->id == "b5");
}

TEST_CASE("aging works per route and keeps the lane counts right") {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  auto& old_low = make(store, "old", priority::low, 0, "x");
  q.push(old_low, clk.now());
  clk.advance(std::chrono::milliseconds(500));
  auto& fresh = make(store, "fresh", priority::normal, 0, "y");
  q.push(fresh, clk.now());
  CHECK(q.promote(clk.now(), std::chrono::milliseconds(100)) == 1);
  CHECK(q.size(priority::low) == 0);
  CHECK(q.size(priority::normal) == 2);
  CHECK(q.pop()->id == "fresh");  // it arrived in the normal lane first
  CHECK(q.pop()->id == "old");
}
}
