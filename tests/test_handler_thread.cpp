// A slot's handler thread and the completion queue: each job runs off the
// loop thread, on the same thread every time, one at a time and in order;
// its continuation runs afterwards on the loop thread and sees what the
// job wrote; posts from many threads each run once on the loop; and the
// destructor waits for a running job. The loop is pumped by the test.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "handler_thread.hpp"
#include "loop_pump.hpp"

using namespace argon::worker;
using namespace argon::common;
using namespace argon::test;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("a job runs off the loop thread and its continuation runs on the loop thread with the job's outcome") {
  event_loop loop;
  completion_queue done(loop.get());
  handler_thread runner(done);
  const auto loop_thread = std::this_thread::get_id();  // this thread pumps the loop
  std::thread::id job_thread, then_thread;
  std::string outcome;     // written by the job, read by the continuation
  std::string seen;        // what the continuation read
  bool finished = false;
  runner.run([&] {
    job_thread = std::this_thread::get_id();
    outcome = "forty-two";
  }, [&] {
    then_thread = std::this_thread::get_id();
    seen = outcome;
    finished = true;
  });
  REQUIRE(pump_until(loop.get(), [&] { return finished; }));
  CHECK(job_thread != loop_thread);
  CHECK(job_thread != std::thread::id());
  CHECK(then_thread == loop_thread);
  CHECK(seen == "forty-two");
}

TEST_CASE("the continuation waits for the job: a job still running has no continuation yet") {
  event_loop loop;
  completion_queue done(loop.get());
  handler_thread runner(done);
  std::promise<void> release;
  auto released = release.get_future();
  std::atomic<bool> started{false};
  bool finished = false;
  runner.run([&] {
    started = true;
    released.wait();
  }, [&] { finished = true; });
  REQUIRE(pump_until(loop.get(), [&] { return started.load(); }));
  pump_for(loop.get(), 100ms);
  CHECK_FALSE(finished);  // the job is blocked, so its continuation cannot have run
  release.set_value();
  CHECK(pump_until(loop.get(), [&] { return finished; }));
}

TEST_CASE("successive jobs run one at a time, in order, on the same thread") {
  event_loop loop;
  completion_queue done(loop.get());
  handler_thread runner(done);
  std::vector<int> order;  // appended by jobs and by continuations, never at once
  std::vector<std::thread::id> threads;
  int continued = 0;
  // Each continuation starts the next job, as a slot's DONE leads to its next TASK.
  std::function<void(int)> start = [&](int n) {
    runner.run([&, n] {
      order.push_back(n);
      threads.push_back(std::this_thread::get_id());
    }, [&, n] {
      ++continued;
      if (n < 5) start(n + 1);
    });
  };
  start(1);
  REQUIRE(pump_until(loop.get(), [&] { return continued == 5; }));
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5});
  REQUIRE(threads.size() == 5);
  for (auto& t : threads) CHECK(t == threads[0]);
  CHECK(threads[0] != std::this_thread::get_id());
}

TEST_CASE("every post from any thread runs exactly once on the loop thread") {
  event_loop loop;
  completion_queue done(loop.get());
  const auto loop_thread = std::this_thread::get_id();
  constexpr int threads = 4, per_thread = 500;
  std::vector<int> runs(threads * per_thread, 0);  // touched on the loop thread only
  int off_loop = 0;
  std::vector<std::thread> posters;
  for (int t = 0; t < threads; ++t)
    posters.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        done.post([&, k = t * per_thread + i] {
          ++runs[k];
          if (std::this_thread::get_id() != loop_thread) ++off_loop;
        });
    });
  for (auto& p : posters) p.join();
  auto all_ran = [&] {
    for (int r : runs)
      if (r == 0) return false;
    return true;
  };
  REQUIRE(pump_until(loop.get(), all_ran));
  pump_for(loop.get(), 50ms);  // nothing runs twice
  for (int r : runs) CHECK(r == 1);
  CHECK(off_loop == 0);
}

TEST_CASE("destroying a handler thread waits for its running job to end") {
  event_loop loop;
  completion_queue done(loop.get());
  std::atomic<bool> started{false}, job_ended{false};
  std::promise<void> release;
  auto released = release.get_future();
  std::thread releaser;
  {
    handler_thread runner(done);
    runner.run([&] {
      started = true;
      released.wait();
      job_ended = true;
    }, [] {});
    REQUIRE(pump_until(loop.get(), [&] { return started.load(); }));
    releaser = std::thread([&] {
      std::this_thread::sleep_for(50ms);
      release.set_value();
    });
  }  // ~handler_thread joins here
  CHECK(job_ended.load());
  releaser.join();
  pump_for(loop.get(), 20ms);  // the posted continuation still runs safely
}
}
