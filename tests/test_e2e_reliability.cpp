// End to end: workers that die or freeze mid-task lose no task and double none.
#include <doctest/doctest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {


nlohmann::json status(argon_system& sys) { return nlohmann::json::parse(sys.status_json()); }

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a worker killed mid-task: the task completes on another worker, one result") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  auto& first = sys.add_worker(1, fast_beats);
  REQUIRE(sys.wait_for_slots(1));
  client c(client_options_for(sys));
  auto f = c.submit("sleep", "1500");
  std::this_thread::sleep_for(300ms);  // the task is running on the first worker
  REQUIRE(status(sys)["busy_slots"] == 1);
  sys.add_worker(1, fast_beats);
  REQUIRE(sys.wait_for_slots(2));
  first.signal(SIGKILL);
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  CHECK(f.get().value() == "1500");
  auto st = status(sys);
  CHECK(st["completed"] == 1);
  CHECK(st["failed"] == 0);
  CHECK(st["slots"] == 1);  // the dead worker's slot was forgotten: no leaked capacity
  CHECK(st["busy_slots"] == 0);
}

TEST_CASE("a frozen worker is declared dead, its task runs elsewhere, and its late result is dropped") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  auto& frozen = sys.add_worker(1, fast_beats);
  REQUIRE(sys.wait_for_slots(1));
  client c(client_options_for(sys));
  auto f = c.submit("sleep", "1000");
  std::this_thread::sleep_for(300ms);
  sys.add_worker(1, fast_beats);
  REQUIRE(sys.wait_for_slots(2));
  frozen.signal(SIGSTOP);
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  CHECK(f.get().value() == "1000");
  frozen.signal(SIGCONT);  // it finishes its copy of the task and reports it
  std::this_thread::sleep_for(2500ms);
  auto st = status(sys);
  CHECK(st["completed"] == 1);  // delivered once, not twice
  CHECK(read_file(sys.dir.file("broker.log")).find("dropped a result") != std::string::npos);
}

TEST_CASE("a worker whose slots are all busy on long tasks stays alive") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  sys.add_worker(2, fast_beats);
  REQUIRE(sys.wait_for_slots(2));
  client c(client_options_for(sys));
  auto a = c.submit("sleep", "3000");
  auto b = c.submit("sleep", "3000");
  CHECK(a.get().value() == "3000");
  CHECK(b.get().value() == "3000");
  std::string log = read_file(sys.dir.file("broker.log"));
  INFO("broker log: ", log);
  CHECK(log.find("is gone") == std::string::npos);
  CHECK(status(sys)["slots"] == 2);
}
}

TEST_SUITE("e2e") {
TEST_CASE("a worker told to stop says BYE: no new work for it, its running task finishes, exit 0") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  auto& leaving = sys.add_worker(2, fast_beats);
  REQUIRE(sys.wait_for_slots(2));
  client c(client_options_for(sys));
  auto running = c.submit("sleep", "2000");
  std::this_thread::sleep_for(300ms);
  sys.add_worker(1, fast_beats);
  REQUIRE(sys.wait_for_slots(3));
  leaving.signal(SIGTERM);
  bool idle_slot_dropped = false;  // the leaving worker's idle slot is forgotten at once
  for (int i = 0; i < 50 && !idle_slot_dropped; ++i) {
    idle_slot_dropped = status(sys)["slots"] == 2;
    if (!idle_slot_dropped) std::this_thread::sleep_for(100ms);
  }
  CHECK(idle_slot_dropped);
  for (int i = 0; i < 5; ++i) CHECK(c.call("echo", "after bye " + std::to_string(i)).value() == "after bye " + std::to_string(i));
  CHECK(running.get().value() == "2000");
  CHECK(leaving.stop(0, 10s) == 0);  // signal 0: just wait for the exit the first SIGTERM began
  auto st = status(sys);
  CHECK(st["completed"] == 6);
  CHECK(st["failed"] == 0);
  CHECK(st["slots"] == 1);
  std::string log = read_file(sys.dir.file("broker.log"));
  INFO("broker log: ", log);
  CHECK(log.find("is leaving") != std::string::npos);
  CHECK(log.find("is gone") == std::string::npos);
}
}

TEST_SUITE("e2e") {
TEST_CASE("SIGTERM on the broker drains: running tasks finish, their clients get results, new ones get busy, exit 0") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  sys.add_worker(2, fast_beats);
  REQUIRE(sys.wait_for_slots(2));
  client c(client_options_for(sys));
  auto a = c.submit("sleep", "1500");
  auto b = c.submit("sleep", "1500");
  std::this_thread::sleep_for(300ms);
  REQUIRE(status(sys)["busy_slots"] == 2);
  sys.broker->signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  auto refused = run(sys.cli("submit", {"--no-retry", "echo", "late"}), "", 10s);
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("draining") != std::string::npos);
  CHECK(a.get().value() == "1500");
  CHECK(b.get().value() == "1500");
  CHECK(sys.broker->stop(0, 10s) == 0);
  std::string log = read_file(sys.dir.file("broker.log"));
  INFO("broker log: ", log);
  CHECK(log.find("drained") != std::string::npos);
}

TEST_CASE("a task past its timeout fails as timeout, its worker is told to stop, and its slot is not counted twice") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  sys.add_worker(1, fast_beats);
  REQUIRE(sys.wait_for_slots(1));
  auto timed_out = run(sys.cli("submit", {"--timeout", "1", "sleep", "3000"}), "", 15s);
  CHECK(timed_out.exit_code == 4);
  CHECK(timed_out.err.find("timeout") != std::string::npos);
  auto st = status(sys);
  CHECK(st["busy_slots"] == 1);  // the handler still runs: the slot is not handed out meanwhile
  CHECK(st["slots"] == 1);
  std::this_thread::sleep_for(2500ms);
  st = status(sys);
  CHECK(st["busy_slots"] == 0);
  CHECK(st["completed"] == 0);
  CHECK(st["failed"] == 1);
  auto after = run(sys.cli("submit", {"echo", "next"}), "", 15s);
  CHECK(after.exit_code == 0);
  CHECK(after.out == "next");
  std::string log = read_file(sys.dir.file("broker.log"));
  INFO("broker log: ", log);
  // The client sends what is left of its 1 s when the SUBMIT leaves (1000 ms, a little less under load).
  const auto at = log.find(" ms timeout while running");
  REQUIRE(at != std::string::npos);
  const auto from = log.rfind("passed its ", at);
  REQUIRE(from != std::string::npos);
  const int ms = std::stoi(log.substr(from + 11, at - from - 11));
  CHECK(ms > 500);
  CHECK(ms <= 1000);
}
}
