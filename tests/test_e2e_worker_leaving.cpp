// End to end, workers that stop or send what the broker cannot take: no task
// that never started uses up an attempt, no result is dropped unseen, and no
// slot is leaked.
// - Workers stopped with SIGTERM in a loop while a client keeps tasks of
//   max_attempts 1 in flight: every task runs exactly once and completes;
//   none fails worker_lost, which would mean it was sent to a slot that was
//   closing, or counted as started although it never ran.
// - A result over the broker's frame limit (told to workers in LIMITS) fails
//   its task as result_too_large at once, and the slot goes on working.
// - A slot whose worker has no control channel gets no task: nobody could
//   declare a task on it dead.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <csignal>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "argon/client.hpp"
#include "codec.hpp"
#include "outcome_ledger.hpp"
#include "raw_peer.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {



client_options insecure_client(const argon_system& sys) {
  client_options o;
  o.broker = sys.endpoint;
  o.insecure = true;
  return o;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("workers stopped with SIGTERM over and over: every task of max_attempts 1 runs once and completes") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  const std::string runs = sys.dir.file("runs");
  // Each run appends its input to the record (O_APPEND: one line per run), echoes it,
  // and takes a little while, so the 6 tasks in flight keep the slots turning over.
  const std::vector<std::string> worker_args{"--heartbeat-ms", "200", "--liveness", "3", "--exec",
                                             "record=sh -c 'tee -a " + runs + "; sleep 0.03'"};
  std::vector<child_process*> live{&sys.add_worker(2, worker_args), &sys.add_worker(2, worker_args)};
  REQUIRE(sys.wait_for_slots(4));
  client c(insecure_client(sys));
  outcome_ledger book;
  std::mt19937 rng(20261201);
  const int tasks = 600;
  int sent = 0, stopped = 0;
  auto next_stop = std::chrono::steady_clock::now() + 200ms;
  const auto give_up = std::chrono::steady_clock::now() + 90s;
  while (book.resolved() < static_cast<std::size_t>(tasks) && std::chrono::steady_clock::now() < give_up) {
    while (sent < tasks && sent - static_cast<int>(book.resolved()) < 6) {
      std::string input = fmt::format("task-{}\n", sent++);
      submit_options so;
      so.max_attempts = 1;
      c.submit("record", input, so, [&book, input](result r) { book.record(input, r); });
    }
    if (sent < tasks && std::chrono::steady_clock::now() >= next_stop) {
      live.front()->signal(SIGTERM);  // the oldest drains and exits; a fresh one takes its place
      live.erase(live.begin());
      live.push_back(&sys.add_worker(2, worker_args));
      ++stopped;
      next_stop = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 400)(rng));
    }
    std::this_thread::sleep_for(5ms);
  }
  MESSAGE("workers stopped with SIGTERM: " << stopped << "; tasks done: " << book.done);
  std::lock_guard lock(book.mutex);
  CHECK(book.outcomes.size() == tasks);
  for (auto& [id, n] : book.outcomes) CHECK_MESSAGE(n == 1, id << " had " << n << " outcomes");
  for (auto& f : book.other) FAIL_CHECK(f);
  CHECK(book.done == tasks);
  std::map<std::string, int> ran;
  std::istringstream record(read_file(runs));
  for (std::string line; std::getline(record, line);) ++ran[line + "\n"];
  CHECK(ran.size() == tasks);
  for (auto& [input, n] : ran) CHECK_MESSAGE(n == 1, input << " ran " << n << " times");
  CHECK(stopped >= 10);
}

TEST_CASE("a result over the broker's frame limit fails as result_too_large at once, and its slot works on") {
  // --max-payload 100000: the broker's frame limit (LIMITS max_result) is 4 × (100,000 + 65,536) = 662,144 bytes.
  argon_system sys({.secure = false, .workers = 0, .broker_args = {"--max-payload", "100000"}});
  sys.add_worker(1, {"--max-result-bytes", "50000000", "--exec", "zeros=head -c 5000000 /dev/zero", "--exec", "cat=cat"});
  REQUIRE(sys.wait_for_slots(1));
  client c(insecure_client(sys));
  auto pending = c.submit("zeros", "");
  REQUIRE(pending.wait_for(5s) == std::future_status::ready);  // not left to the client's timeout
  result big = pending.get();
  REQUIRE_FALSE(big.ok());
  CHECK(big.error_kind() == "result_too_large");
  CHECK_MESSAGE(big.error_message().find("662144") != std::string::npos, big.error_message());
  result small = c.submit("cat", "still here").get();
  REQUIRE(small.ok());
  CHECK(small.value() == "still here");
  auto st = nlohmann::json::parse(sys.status_json());
  CHECK(st["busy_slots"] == 0);
  CHECK(st["slots"] == 1);
}

TEST_CASE("a slot whose worker never said HELLO gets no task; a worker with a control channel runs it") {
  argon_system sys({.secure = false, .workers = 0});
  raw_peer slot(sys.endpoint, nullptr, nullptr);  // a DEALER speaking as a slot
  slot.send(common::role::slot, common::ready_msg{"nohello", std::nullopt});
  REQUIRE(sys.wait_for_slots(1, false));  // connected, though it takes no task
  client c(insecure_client(sys));
  auto pending = c.submit("echo", "x");
  std::this_thread::sleep_for(500ms);
  auto st = nlohmann::json::parse(sys.status_json());
  CHECK(st["queue_depth"] == 1);  // waits rather than run where it could hang
  CHECK(st["busy_slots"] == 0);
  sys.add_worker(1);
  REQUIRE(pending.wait_for(10s) == std::future_status::ready);
  result r = pending.get();
  REQUIRE(r.ok());
  CHECK(r.value() == "x");
  CHECK_FALSE(slot.receive(200ms).has_value());  // the watchless slot was never sent it
}
}
