// Ready-slot choice: fewest busy slots per worker first, then least recently used.
#include <doctest/doctest.h>

#include "worker_registry.hpp"

using namespace argon::broker;

TEST_SUITE("unit") {
TEST_CASE("slots are known from READY and counted per worker") {
  worker_registry r;
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.mark_ready("b.0", "B");
  CHECK(r.slot_count() == 3);
  CHECK(r.worker_count() == 2);
  CHECK(r.ready_count() == 3);
  CHECK(r.busy_count() == 0);
  r.mark_ready("a.0", "A");  // READY again from a ready slot changes nothing
  CHECK(r.slot_count() == 3);
  CHECK(r.ready_count() == 3);
}

TEST_CASE("the worker with the fewest busy slots gets the next task") {
  worker_registry r;
  task t1, t2, t3, t4;
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.mark_ready("b.0", "B");
  r.mark_ready("b.1", "B");
  slot* s1 = r.take_ready(t1);
  slot* s2 = r.take_ready(t2);
  REQUIRE(s1);
  REQUIRE(s2);
  CHECK(s1->worker != s2->worker);  // spread across processes
  slot* s3 = r.take_ready(t3);
  slot* s4 = r.take_ready(t4);
  REQUIRE(s3);
  REQUIRE(s4);
  CHECK(s3->worker != s4->worker);
  CHECK(r.take_ready(t4) == nullptr);
  CHECK(r.busy_count() == 4);
  CHECK(s1->running == &t1);
  CHECK(s1->state == slot_state::busy);
}

TEST_CASE("ties go to the least recently used slot") {
  worker_registry r;
  task t;
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.mark_ready("a.2", "A");
  slot* first = r.take_ready(t);
  CHECK(first->routing_id == "a.0");
  r.mark_ready("a.0", "A");  // done: back to the end of the line
  CHECK(r.take_ready(t)->routing_id == "a.1");
  CHECK(r.take_ready(t)->routing_id == "a.2");
  CHECK(r.take_ready(t)->routing_id == "a.0");
}

TEST_CASE("removing a slot frees its count and returns its task") {
  worker_registry r;
  task t;
  r.mark_ready("a.0", "A");
  r.mark_ready("b.0", "B");
  slot* s = r.take_ready(t);
  REQUIRE(s);
  std::string gone_worker = s->worker->id;
  CHECK(r.remove(*s) == &t);
  CHECK(r.slot_count() == 1);
  CHECK(r.busy_count() == 0);
  CHECK(r.worker_count() == 1);
  slot* other = r.find(gone_worker == "A" ? "b.0" : "a.0");
  REQUIRE(other);
  CHECK(r.remove(*other) == nullptr);
  CHECK(r.slot_count() == 0);
  CHECK(r.ready_count() == 0);
  CHECK(r.worker_count() == 0);
}

TEST_CASE("a routing id reused by another worker moves to that worker") {
  worker_registry r;
  r.mark_ready("x", "A");
  slot& s = r.mark_ready("x", "B");
  CHECK(s.worker->id == "B");
  CHECK(r.worker_count() == 1);
  CHECK(r.slot_count() == 1);
}
}

TEST_SUITE("unit") {
TEST_CASE("workers with a control channel expire oldest first after silence; slots alone never do") {
  argon::common::fake_clock clk;
  worker_registry r;
  r.hello("A", "wA", clk.now());
  clk.advance(std::chrono::milliseconds(500));
  r.hello("B", "wB", clk.now());
  r.mark_ready("c.0", "C");  // no control channel: cannot be judged
  clk.advance(std::chrono::milliseconds(2600));
  CHECK(r.expired(clk.now(), argon::common::millis(3000)) == std::vector<std::string>{"A"});
  r.touch("A", clk.now());  // a sign of life moves A to the back
  clk.advance(std::chrono::milliseconds(500));
  CHECK(r.expired(clk.now(), argon::common::millis(3000)) == std::vector<std::string>{"B"});
  clk.advance(std::chrono::milliseconds(10000));
  CHECK(r.expired(clk.now(), argon::common::millis(3000)) == std::vector<std::string>{"B", "A"});
  CHECK_FALSE(r.touch("nobody", clk.now()));
}

TEST_CASE("removing a worker frees every slot and hands back their running tasks") {
  argon::common::fake_clock clk;
  worker_registry r;
  task t1, t2;
  r.hello("A", "wA", clk.now());
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.mark_ready("a.2", "A");
  r.mark_ready("b.0", "B");
  slot* s1 = r.take_ready(t1);
  slot* s2 = r.take_ready(t2);
  REQUIRE(s1);
  REQUIRE(s2);
  auto lost = r.remove_worker("A");
  CHECK(lost.size() == 1);
  CHECK(r.slot_count() == 1);
  CHECK(r.busy_count() == 1);
  CHECK(r.worker_count() == 1);
  CHECK(r.expired(clk.now() + std::chrono::hours(1), argon::common::millis(1)).empty());
  CHECK(r.remove_worker("A").empty());  // already gone
}
}
