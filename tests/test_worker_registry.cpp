// Ready-slot choice: fewest busy slots per worker first, then least recently used.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include "worker_registry.hpp"

using namespace argon::broker;

namespace {

// The best ready slot of any worker, marked busy; null when none is ready.
slot* take_any(worker_registry& r) { return r.take_ready_if([](const worker_record&) { return true; }); }

// Marks n slots of worker w ready, named "<lower-case w>.<i>": "a.0", "a.1" ...
void ready_slots(worker_registry& r, const std::string& w, int n) {
  for (int i = 0; i < n; ++i) r.mark_ready(std::string(1, static_cast<char>(std::tolower(w[0]))) + "." + std::to_string(i), w);
}

// Registers each worker's control channel, so its slots may be offered work.
void watch(worker_registry& r, std::initializer_list<const char*> workers) {
  for (const char* w : workers) r.hello(w, std::string("c") + w, argon::common::time_point{});
}

}  // namespace

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
  watch(r, {"A", "B"});
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.mark_ready("b.0", "B");
  r.mark_ready("b.1", "B");
  slot* s1 = take_any(r);
  slot* s2 = take_any(r);
  REQUIRE(s1);
  REQUIRE(s2);
  CHECK(s1->worker != s2->worker);  // spread across processes
  slot* s3 = take_any(r);
  slot* s4 = take_any(r);
  REQUIRE(s3);
  REQUIRE(s4);
  CHECK(s3->worker != s4->worker);
  CHECK(take_any(r) == nullptr);
  CHECK(r.busy_count() == 4);
  CHECK(s1->state == slot_state::busy);
  CHECK(s1->running == nullptr);  // the task table links a task to it
}

TEST_CASE("ties go to the least recently used slot") {
  worker_registry r;
  watch(r, {"A"});
  ready_slots(r, "A", 3);
  slot* first = take_any(r);
  CHECK(first->routing_id == "a.0");
  r.mark_ready("a.0", "A");  // done: back to the end of the line
  CHECK(take_any(r)->routing_id == "a.1");
  CHECK(take_any(r)->routing_id == "a.2");
  CHECK(take_any(r)->routing_id == "a.0");
}

TEST_CASE("removing a slot frees its count") {
  worker_registry r;
  r.mark_ready("a.0", "A");
  r.mark_ready("b.0", "B");
  watch(r, {"A"});
  slot* s = take_any(r);
  REQUIRE(s);
  CHECK(s->worker->id == "A");
  r.remove(*s);
  CHECK(r.slot_count() == 1);
  CHECK(r.busy_count() == 0);
  CHECK(r.worker_count() == 2);  // A stays known while it is watched
  r.remove(*r.find("b.0"));
  CHECK(r.slot_count() == 0);
  CHECK(r.ready_count() == 0);
  CHECK(r.worker_count() == 1);
  r.remove_worker("A");
  CHECK(r.worker_count() == 0);
}

TEST_CASE("a slot is offered work only while its worker has a control channel") {
  argon::common::fake_clock clk;
  worker_registry r;
  r.mark_ready("a.0", "A");  // READY before HELLO, as a starting worker's slot may
  CHECK(r.ready_count() == 1);
  CHECK(take_any(r) == nullptr);  // nobody could declare a task on it dead
  r.hello("A", "cA", clk.now());
  slot* s = take_any(r);
  REQUIRE(s);
  CHECK(s->routing_id == "a.0");
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.remove_worker("A");  // expired: forgotten with its slots, never offered again
  r.mark_ready("a.0", "A");  // a late READY registers the slot but not the worker's liveness
  CHECK(take_any(r) == nullptr);
}

TEST_CASE("BYE forgets the idle slots and names them, so each can be told") {
  worker_registry r;
  watch(r, {"A"});
  ready_slots(r, "A", 3);
  slot* busy = take_any(r);
  REQUIRE(busy);
  auto idle = r.retire("A");
  std::sort(idle.begin(), idle.end());
  CHECK(idle == std::vector<std::string>{"a.1", "a.2"});
  CHECK(r.slot_count() == 1);
  CHECK(r.leaving("A"));
  CHECK(take_any(r) == nullptr);
  CHECK(r.retire("nobody").empty());
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
TEST_CASE("workers with a control channel expire oldest first after silence; slots alone too, after the watched") {
  argon::common::fake_clock clk;
  worker_registry r;
  r.hello("A", "wA", clk.now());
  clk.advance(std::chrono::milliseconds(500));
  r.hello("B", "wB", clk.now());
  r.mark_ready("c.0", "C");  // no control channel: forgotten once silent, after the watched ones
  r.touch("C", clk.now());
  clk.advance(std::chrono::milliseconds(2600));
  CHECK(r.expired(clk.now(), argon::common::millis(3000)) == std::vector<std::string>{"A"});
  r.touch("A", clk.now());  // a sign of life moves A to the back
  clk.advance(std::chrono::milliseconds(500));
  CHECK(r.expired(clk.now(), argon::common::millis(3000)) == std::vector<std::string>{"B", "C"});
  clk.advance(std::chrono::milliseconds(10000));
  CHECK(r.expired(clk.now(), argon::common::millis(3000)) == std::vector<std::string>{"B", "A", "C"});
  CHECK_FALSE(r.touch("nobody", clk.now()));
}

TEST_CASE("removing a worker frees every slot, busy or ready") {
  argon::common::fake_clock clk;
  worker_registry r;
  r.hello("A", "wA", clk.now());
  r.mark_ready("a.0", "A");
  r.mark_ready("a.1", "A");
  r.mark_ready("a.2", "A");
  r.mark_ready("b.0", "B");
  r.hello("B", "wB", clk.now());
  slot* s1 = take_any(r);
  slot* s2 = take_any(r);
  REQUIRE(s1);
  REQUIRE(s2);
  std::size_t of_a = 0;
  r.each_slot_of("A", [&](const slot&) { ++of_a; });
  CHECK(of_a == 3);
  r.remove_worker("A");
  CHECK(r.slot_count() == 1);
  CHECK(r.busy_count() == 1);
  CHECK(r.worker_count() == 1);
  CHECK(r.expired(clk.now() + std::chrono::hours(1), argon::common::millis(1)) == std::vector<std::string>{"B"});
  r.remove_worker("A");  // already gone: nothing happens
  CHECK(r.slot_count() == 1);
  of_a = 0;
  r.each_slot_of("A", [&](const slot&) { ++of_a; });
  CHECK(of_a == 0);
}
}
