// End to end: several brokers. Clients with several brokers
// (client_options::brokers): when one broker is killed, the tasks it owed
// move to another within about liveness x heartbeat, and every task still
// ends with exactly one outcome at its client, with a broker that never
// comes back and with one killed and restarted every 3-5 s for 30 s. The
// CLI and the monitor with several brokers. A worker serving two brokers
// never runs more than --capacity tasks at once, and its capacity moves to
// the broker that has the work.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <csignal>
#include <random>
#include <thread>
#include <vector>

#include "argon/client.hpp"
#include "event_log.hpp"
#include "process.hpp"
#include "system.hpp"
#include "windowed_client.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

constexpr auto heartbeat = 200ms;
constexpr int liveness = 3;
constexpr auto run_time = 100ms;  // each task sleeps this long

system_options one_broker() { return {.secure = false, .workers = 0, .broker_args = fast_beats}; }

// A client of every broker given, with the same fast heartbeat as the brokers.
client_options brokers_of(const std::vector<argon_system*>& systems) {
  client_options o;
  for (auto* s : systems) o.brokers.push_back(s->endpoint);
  o.insecure = true;
  o.heartbeat = heartbeat;
  o.liveness = liveness;
  return o;
}

windowed_client::planner sleeps() {
  return [](std::size_t) {
    planned_task t{"sleep", std::to_string(run_time.count()), {}, std::to_string(run_time.count())};
    t.opts.max_attempts = 5;  // a task can be on a broker that dies with it more than once
    return t;
  };
}

// Fails the test for each fault of the delivery guarantee, and for any
// outcome but a result: with another broker always up, nothing may fail.
void check(windowed_client& c, int number) {
  auto faults = c.faults();
  for (const auto& [kind, n] : c.kinds())
    if (kind != "done") faults["an outcome other than a result: " + kind].push_back(std::to_string(n));
  for (const auto& [sort, list] : faults) {
    for (std::size_t i = 0; i < list.size() && i < 5; ++i) FAIL_CHECK("client ", number, ": ", sort, ": ", list[i]);
    FAIL_CHECK("client ", number, ": ", list.size(), " of ", c.records().size(), " tasks: ", sort);
  }
}

std::chrono::milliseconds longest_wait(windowed_client& c) {
  std::chrono::milliseconds most{0};
  for (const auto& r : c.records()) most = std::max(most, std::chrono::duration_cast<std::chrono::milliseconds>(r.ended - r.submitted));
  return most;
}

bool wait_drained(std::vector<std::unique_ptr<windowed_client>>& clients, std::chrono::seconds limit) {
  const auto end = steady::now() + limit;
  for (auto& c : clients) {
    c->stop_feeding();
    while (!c->drained() && steady::now() < end) std::this_thread::sleep_for(20ms);
    if (!c->drained()) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a broker that never comes back: its clients' tasks complete on the other, each once") {
  argon_system a(one_broker()), b(one_broker());
  a.add_worker(4, fast_beats);
  b.add_worker(4, fast_beats);
  REQUIRE(a.wait_for_slots(4));
  REQUIRE(b.wait_for_slots(4));
  std::vector<std::unique_ptr<windowed_client>> clients;
  clients.push_back(std::make_unique<windowed_client>(brokers_of({&a, &b}), 8, sleeps()));
  std::this_thread::sleep_for(1s);
  const auto status = nlohmann::json::parse(a.status_json());
  CHECK(status["busy_slots"].get<int>() > 0);  // the first broker had tasks when it died
  REQUIRE(a.broker->stop(SIGKILL, 5s) != 0);
  std::this_thread::sleep_for(3s);
  REQUIRE(wait_drained(clients, 20s));
  check(*clients[0], 0);
  const auto most = longest_wait(*clients[0]);
  MESSAGE(clients[0]->records().size() << " tasks; the longest took " << most.count() << " ms");
  CHECK(most < liveness * heartbeat + 2 * heartbeat + 2 * run_time + 1s);  // moved, not waiting for the dead broker
}

TEST_CASE("three brokers, one killed and restarted every 3-5 s for 30 s: every task has exactly one outcome, none unreachable") {
  argon_system b0(one_broker()), b1(one_broker()), b2(one_broker());
  std::vector<argon_system*> systems{&b0, &b1, &b2};
  for (std::size_t i = 0; i < systems.size(); ++i) {  // three workers of 8 slots, each serving all three brokers
    std::vector<std::string> flags = fast_beats;
    for (std::size_t j = 1; j < systems.size(); ++j) flags.insert(flags.end(), {"--broker", systems[(i + j) % 3]->endpoint});
    systems[i]->add_worker(8, flags);
  }
  for (auto* s : systems) REQUIRE(s->wait_for_slots(8));  // each worker's 8 permits go round: 3, 3 and 2
  std::vector<std::unique_ptr<windowed_client>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<windowed_client>(brokers_of(systems), 16, sleeps()));
  std::mt19937 rng(7);
  int restarts = 0;
  const auto end = steady::now() + 30s;
  while (steady::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(3000, 5000)(rng)));
    systems[std::uniform_int_distribution<std::size_t>(0, 2)(rng)]->restart_broker(SIGKILL);
    ++restarts;
  }
  REQUIRE(wait_drained(clients, 30s));
  std::size_t tasks = 0;
  std::chrono::milliseconds most{0};
  for (std::size_t i = 0; i < clients.size(); ++i) {
    check(*clients[i], static_cast<int>(i));
    tasks += clients[i]->records().size();
    most = std::max(most, longest_wait(*clients[i]));
  }
  MESSAGE(tasks << " tasks through " << restarts << " broker restarts; the longest took " << most.count() << " ms");
  CHECK(tasks > 1000);
  // A task on a killed broker waits for the loss to be noticed, then runs elsewhere:
  // far less than the 3-5 s until that broker is back.
  CHECK(most < liveness * heartbeat + 2 * heartbeat + 2 * run_time + 1s);
}
}

TEST_SUITE("e2e") {
TEST_CASE("argon with several brokers: --broker repeated or ARGON_BROKER=A,B; status prints each and a total, exit 4 when one is down") {
  argon_system a(one_broker()), b(one_broker());
  a.add_worker(2, fast_beats);
  b.add_worker(3, fast_beats);
  REQUIRE(a.wait_for_slots(2));
  REQUIRE(b.wait_for_slots(3));
  auto both = run({exe("ARGON_CLI"), "status", "--insecure", "--broker", a.endpoint, "--broker", b.endpoint}, "", 30s);
  REQUIRE(both.exit_code == 0);
  auto j = nlohmann::json::parse(both.out);
  REQUIRE(j["brokers"].size() == 2);
  CHECK(j["brokers"][0]["endpoint"] == a.endpoint);
  CHECK(j["brokers"][1]["status"]["slots"] == 3);
  CHECK(j["total"]["slots"] == 5);
  CHECK(j["total"]["workers"] == 2);
  auto submitted = run({exe("ARGON_CLI"), "submit", "--insecure", "--broker", a.endpoint + "," + b.endpoint, "echo", "hi"}, "", 30s);
  CHECK(submitted.exit_code == 0);
  CHECK(submitted.out == "hi");
  REQUIRE(a.broker->stop(SIGKILL, 5s) != 0);
  auto one_down = run({"/usr/bin/env", "ARGON_BROKER=" + a.endpoint + "," + b.endpoint, exe("ARGON_CLI"), "status", "--insecure",
                       "--connect-timeout", "1"}, "", 30s);
  CHECK(one_down.exit_code == 4);
  j = nlohmann::json::parse(one_down.out);
  CHECK(j["brokers"][0]["error"].get<std::string>().find("did not answer") != std::string::npos);
  CHECK(j["total"]["slots"] == 3);
  // A task still runs: the broker that is down never answers, the other does.
  auto moved = run({"/usr/bin/env", "ARGON_BROKER=" + a.endpoint + "," + b.endpoint, exe("ARGON_CLI"), "submit", "--insecure", "echo", "still"},
                   "", 30s);
  CHECK(moved.exit_code == 0);
  CHECK(moved.out == "still");
}

TEST_CASE("argon-monitor watches several brokers at once and labels each event with its broker") {
  const std::string mon_a = monitor_endpoint(), mon_b = monitor_endpoint();
  argon_system a({.secure = false, .workers = 0, .broker_args = {"--monitor", mon_a}});
  argon_system b({.secure = false, .workers = 0, .broker_args = {"--monitor", mon_b}});
  a.add_worker(1);
  b.add_worker(1);
  REQUIRE(a.wait_for_slots(1));
  REQUIRE(b.wait_for_slots(1));
  event_log log(a, mon_a + "," + mon_b, {"--json"}, "monitor.log");
  auto stats_from = [&](const std::string& ep) {
    return log.wait_for([&](const auto& evs) {
      for (auto& e : evs)
        if (e.value("event", "") == "stats" && e.value("broker", "") == ep) return true;
      return false;
    }, 10s);
  };
  REQUIRE(stats_from(mon_a));
  REQUIRE(stats_from(mon_b));
  REQUIRE(run(a.cli("submit", {"echo", "to-a"}), "", 30s).exit_code == 0);
  REQUIRE(run(b.cli("submit", {"echo", "to-b"}), "", 30s).exit_code == 0);
  CHECK(log.wait_for([&](const auto& evs) {
    int a_done = 0, b_done = 0;
    for (auto& e : evs)
      if (e.value("event", "") == "task_done") (e.value("broker", "") == mon_a ? a_done : b_done) += 1;
    return a_done == 1 && b_done == 1;
  }, 10s));
  for (auto& e : log.named("worker_joined")) CHECK((e.value("broker", "") == mon_a || e.value("broker", "") == mon_b));
}

// A program task that notes its start and end in a log, so the test can count how many ran at once.
std::string recording_script(const argon_system& sys, const std::string& log) {
  const std::string path = sys.dir.file("record.sh");
  std::ofstream(path) << "#!/bin/sh\necho \"s $(date +%s%N)\" >> " << log << "\nsleep 0.2\necho \"e $(date +%s%N)\" >> " << log << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

// The most tasks that ran at once, from a log of "s NS" and "e NS" lines.
int most_at_once(const std::string& log) {
  std::vector<std::pair<long long, int>> marks;  // time, +1 start / -1 end
  std::istringstream in(read_file(log));
  for (std::string kind; in >> kind;) {
    long long ns = 0;
    in >> ns;
    marks.emplace_back(ns, kind == "s" ? 1 : -1);
  }
  std::sort(marks.begin(), marks.end());  // at the same ns an end (-1) goes before a start
  int now = 0, most = 0;
  for (auto& [ns, d] : marks) most = std::max(most, now += d);
  return most;
}

TEST_CASE("a worker serving two brokers never runs more than --capacity tasks at once, and its capacity goes where the work is") {
  argon_system a(one_broker()), b(one_broker());
  const std::string log = a.dir.file("runs.log");
  a.add_worker(2, {"--broker", b.endpoint, "--heartbeat-ms", "200", "--liveness", "3", "--exec", "rec=" + recording_script(a, log)});
  // Its slots announce themselves to both: two permits, one READY at each broker at first.
  std::vector<std::unique_ptr<windowed_client>> clients;
  auto records = [](std::size_t) { return planned_task{"rec", "", {}, ""}; };
  REQUIRE(a.wait_for_slots(1));
  REQUIRE(b.wait_for_slots(1));
  clients.push_back(std::make_unique<windowed_client>(brokers_of({&a}), 4, records));
  clients.push_back(std::make_unique<windowed_client>(brokers_of({&b}), 4, records));
  std::this_thread::sleep_for(4s);
  REQUIRE(wait_drained(clients, 30s));
  for (std::size_t i = 0; i < clients.size(); ++i) check(*clients[i], static_cast<int>(i));
  const int most = most_at_once(log);
  const std::size_t both = clients[0]->records().size() + clients[1]->records().size();
  MESSAGE("tasks through two brokers: " << both << "; at most " << most << " ran at once");
  CHECK(most <= 2);
  CHECK(most == 2);
  CHECK(clients[0]->records().size() > 5);
  CHECK(clients[1]->records().size() > 5);
  // Work only at the second broker: within a few heartbeats both permits move there.
  clients.clear();
  clients.push_back(std::make_unique<windowed_client>(brokers_of({&b}), 8, records));
  int busy = 0;
  const auto until = steady::now() + 10s;
  while (busy < 2 && steady::now() < until) {
    std::this_thread::sleep_for(100ms);
    busy = nlohmann::json::parse(b.status_json())["busy_slots"].get<int>();
  }
  CHECK(busy == 2);
  REQUIRE(wait_drained(clients, 30s));
  check(*clients[0], 2);
  CHECK(most_at_once(log) <= 2);
}
}
