// End to end, chaos: 2,000 tasks run while workers are killed (SIGKILL) or
// frozen (SIGSTOP) and replaced at random. Every task must be accounted for
// exactly once: done with its own output, or failed as worker_lost after
// its attempts ran out. Nothing may be lost, doubled, or left hanging, and
// the broker must end with no leaked capacity.
//
// ARGON_CHAOS_SECONDS sets how long workers are disturbed (default 30).
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "argon/client.hpp"
#include "outcome_ledger.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {



int chaos_seconds() {
  const char* s = std::getenv("ARGON_CHAOS_SECONDS");
  return s ? std::max(1, std::atoi(s)) : 30;
}

// Kills or freezes a random worker every 0.3-1.5 s and starts a replacement.
void disturb(argon_system& sys, std::chrono::seconds length, std::mt19937& rng, int& killed, int& frozen) {
  const auto end = std::chrono::steady_clock::now() + length;
  std::vector<child_process*> live;
  for (auto& w : sys.workers) live.push_back(w.get());
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 1500)(rng)));
    auto victim = live.begin() + std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng);
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      (*victim)->signal(SIGSTOP);  // frozen for good: only heartbeats can tell
      ++frozen;
    } else {
      (*victim)->signal(SIGKILL);
      ++killed;
    }
    live.erase(victim);
    live.push_back(&sys.add_worker(4, fast_beats));
  }
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("chaos: 2,000 tasks while workers are killed and frozen at random; each is accounted for once") {
  std::vector<std::string> broker_args = fast_beats;
  broker_args.insert(broker_args.end(), {"--queue-limit", "2000"});
  argon_system sys({.secure = false, .workers = 4, .capacity = 4, .broker_args = broker_args});
  REQUIRE(sys.wait_for_slots(16));
  client_options o;
  o.broker = sys.endpoint;
  o.insecure = true;
  client c(o);
  outcome_ledger book("worker_lost");
  std::mt19937 rng(20261125);
  const int tasks = 2000;
  for (int i = 0; i < tasks; ++i) {
    std::string input = std::to_string(std::uniform_int_distribution<int>(50, 300)(rng));
    c.submit("sleep", input, {}, [&book, input](result r) { book.record(input, r); });
  }
  int killed = 0, frozen = 0;
  disturb(sys, std::chrono::seconds(chaos_seconds()), rng, killed, frozen);
  const auto end = std::chrono::steady_clock::now() + 120s;
  while (book.resolved() < tasks && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(100ms);
  MESSAGE("workers killed: " << killed << ", frozen: " << frozen << "; tasks done: " << book.done
                             << ", failed worker_lost: " << book.lost);
  std::lock_guard lock(book.mutex);
  CHECK(book.outcomes.size() == tasks);
  for (auto& [input, n] : book.outcomes) CHECK_MESSAGE(n == 1, input << " had " << n << " outcomes");
  CHECK(book.done + book.lost == tasks);
  for (auto& o : book.other) FAIL_CHECK(o);
  REQUIRE(sys.wait_for_slots(16));
  std::this_thread::sleep_for(1s);  // the last victims' slots expire within liveness
  auto st = nlohmann::json::parse(sys.status_json());
  CHECK(st["slots"] == 16);  // no capacity leaked or left behind by dead workers
  CHECK(st["submitted"] == tasks);
  CHECK(st["completed"].get<std::size_t>() == book.done);
  CHECK(st["failed"].get<std::size_t>() == book.lost);
  CHECK(st["queue_depth"] == 0);
  CHECK(st["busy_slots"] == 0);
}
}
