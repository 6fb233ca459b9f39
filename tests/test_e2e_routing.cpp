// End to end: workers that run different tasks behind one broker. Each task
// reaches a worker that runs it, never one that would fail it for lack of a
// handler or of --allow-exec; a task nobody runs fails at once. A worker
// with --lanes high keeps its slots for high-priority tasks, and clients
// take turns within a lane.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <future>
#include <thread>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "raw_peer.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// Waits for every future and returns "ok" or the first failure, with its task's index.
std::string first_failure(std::vector<std::future<result>>& runs, const std::function<std::string(int)>& expected) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].wait_for(60s) != std::future_status::ready) return "task " + std::to_string(i) + " did not finish";
    result r = runs[i].get();
    if (!r.ok()) return "task " + std::to_string(i) + ": " + r.error_kind() + ": " + r.error_message();
    if (r.value() != expected(static_cast<int>(i))) return "task " + std::to_string(i) + ": wrong output " + r.value();
  }
  return "ok";
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a named task reaches only the worker that defines it, and shared names use every worker") {
  argon_system sys({.secure = false, .workers = 0});
  sys.add_worker(2, {"--exec", "upper=tr a-z A-Z"});
  sys.add_worker(2);
  REQUIRE(sys.wait_for_slots(4));
  client c(client_options_for(sys));
  std::vector<std::future<result>> upper, echo;
  for (int i = 0; i < 40; ++i) upper.push_back(c.submit("upper", fmt::format("word {}", i)));
  for (int i = 0; i < 40; ++i) echo.push_back(c.submit("echo", fmt::format("e{}", i)));
  CHECK(first_failure(upper, [](int i) { return fmt::format("WORD {}", i); }) == "ok");
  CHECK(first_failure(echo, [](int i) { return fmt::format("e{}", i); }) == "ok");
  result unknown = c.call("no-such-task", "x");
  CHECK(unknown.error_kind() == "unknown_task");
  CHECK(unknown.error_message().find("no-such-task") != std::string::npos);
}

TEST_CASE("client-named programs reach only a worker that allows them; others are refused by the broker") {
  argon_system sys({.secure = false, .workers = 0});
  sys.add_worker(2);
  sys.add_worker(2, {"--allow-exec", "/usr/bin/*"});
  REQUIRE(sys.wait_for_slots(4));
  client c(client_options_for(sys));
  std::vector<std::future<result>> runs;
  for (int i = 0; i < 40; ++i) runs.push_back(c.exec({"/usr/bin/tr", "a-z", "A-Z"}, fmt::format("p{}", i)));
  CHECK(first_failure(runs, [](int i) { return fmt::format("P{}", i); }) == "ok");
  result refused = c.exec({"/bin/ls", "/"}, "").get();
  CHECK(refused.error_kind() == "not_allowed");
  CHECK(refused.error_message().find("no connected worker allows /bin/ls") != std::string::npos);
  auto st = c.status();
  CHECK(st.completed == 40);
  CHECK(st.busy_slots == 0);
}

TEST_CASE("a worker with --lanes high keeps its slot for high tasks while low ones fill the rest, aged or not") {
  argon_system sys({.workers = 0, .broker_args = {"--queue-limit", "20"}});
  sys.add_worker(3);
  sys.add_worker(1, {"--lanes", "high"});
  REQUIRE(sys.wait_for_slots(4));
  client c(client_options_for(sys));
  submit_options low;
  low.pri = common::priority::low;
  std::vector<std::future<result>> long_low;
  for (int i = 0; i < 5; ++i) long_low.push_back(c.submit("sleep", "7000", low));  // three run, two wait
  // The two waiting ones age (after a second or so in each lane) into the high lane, yet stay low tasks.
  const auto aging_until = std::chrono::steady_clock::now() + 6s;
  while (nlohmann::json::parse(sys.status_json())["queue_high"] != 2 && std::chrono::steady_clock::now() < aging_until)
    std::this_thread::sleep_for(100ms);
  auto st = nlohmann::json::parse(sys.status_json());
  REQUIRE(st["queue_high"] == 2);
  CHECK(st["busy_slots"] == 3);  // the reserved slot is still free
  submit_options high;
  high.pri = common::priority::high;
  const auto sent = std::chrono::steady_clock::now();
  CHECK(c.submit("echo", "urgent", high).get().value() == "urgent");
  const auto took = std::chrono::steady_clock::now() - sent;
  MESSAGE("the high task's round trip behind 3 long low tasks and 2 aged ones: "
          << std::chrono::duration<double, std::milli>(took).count() << " ms");
  CHECK(took < 1s);  // not behind a 7 s low task
  const auto waited = std::chrono::steady_clock::now();
  for (auto& f : long_low) CHECK(f.get().value() == "7000");
  CHECK(std::chrono::steady_clock::now() - waited > 2s);  // the aged low tasks waited for a general slot
  auto bad = run({exe("ARGON_WORKER"), "--broker", sys.endpoint, "--insecure", "--capacity", "1", "--lanes", "high,urgent"}, "", 30s);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("urgent") != std::string::npos);
}

TEST_CASE("a client's few tasks pass another client's flood: clients take turns within a lane") {
  argon_system sys({.workers = 0, .broker_args = {"--queue-limit", "2000"}});
  sys.add_worker(4);
  REQUIRE(sys.wait_for_slots(4));
  client flood(client_options_for(sys)), few(client_options_for(sys));
  std::vector<std::future<result>> flooded;
  for (int i = 0; i < 1000; ++i) flooded.push_back(flood.submit("sleep", "20"));  // 5 s of work on 4 slots
  std::this_thread::sleep_for(300ms);
  CHECK(nlohmann::json::parse(sys.status_json())["queued_clients"] == 1);  // argon status: one client waits
  const auto sent = std::chrono::steady_clock::now();
  std::vector<std::future<result>> mine;
  for (int i = 0; i < 8; ++i) mine.push_back(few.submit("sleep", "20"));
  for (auto& f : mine) CHECK(f.get().value() == "20");
  const auto took = std::chrono::steady_clock::now() - sent;
  MESSAGE("8 tasks of 20 ms behind a flood of 1,000 on 4 slots took " << std::chrono::duration<double, std::milli>(took).count()
                                                                       << " ms");
  CHECK(took < 500ms);  // first come, first served would have taken the rest of the flood, about 4.5 s
  std::size_t unfinished = 0;
  for (auto& f : flooded) unfinished += f.wait_for(0s) != std::future_status::ready;
  CHECK(unfinished > 100);  // the flood was still queued: the few did pass it
  for (auto& f : flooded) CHECK(f.get().ok());
}

TEST_CASE("at the default queue limit, a client's SUBMITs are admitted while another floods; the flood hears client_share") {
  argon_system sys({.secure = false, .workers = 0});
  sys.add_worker(4);  // the default limit: 3 per slot, 12
  REQUIRE(sys.wait_for_slots(4));
  client flood(client_options_for(sys));
  std::vector<std::future<result>> flooded;
  for (int i = 0; i < 40; ++i) flooded.push_back(flood.submit("sleep", "3000"));  // 4 run, 12 wait, the rest stay with the client
  auto depth = [&] { return nlohmann::json::parse(sys.status_json())["queue_depth"].get<int>(); };
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (depth() != 12 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  REQUIRE(depth() == 12);  // the flood holds the whole queue, for the next 3 s
  test::raw_peer few(sys.endpoint, nullptr, nullptr);
  for (int i = 0; i < 6; ++i) {  // its share: 12 places over 2 clients
    common::submit_msg m{"few-" + std::to_string(i), "echo", common::priority::normal, 0, 1, {}};
    few.send(common::role::client, m, "x");
  }
  const auto queued_until = std::chrono::steady_clock::now() + 2s;
  while (depth() != 18 && std::chrono::steady_clock::now() < queued_until) std::this_thread::sleep_for(20ms);
  CHECK(depth() == 18);  // all six were queued beside the flood's twelve, while its tasks still run
  int results = 0;
  std::string other;
  while (results < 6) {
    auto r = few.receive(20s);
    if (!r) break;
    if (std::holds_alternative<common::result_msg>(r->content)) ++results;
    else other += std::string(common::command_name(common::command_of(r->content))) + " ";
  }
  CHECK(results == 6);
  CHECK(other == "");  // no BUSY among the answers
  auto st = nlohmann::json::parse(sys.status_json());
  CHECK(st["busy_replies"].get<int>() > 0);  // the flood, not the few, was held back
  std::size_t unfinished = 0;
  for (auto& f : flooded) unfinished += f.wait_for(0s) != std::future_status::ready;
  CHECK(unfinished > 20);  // the few passed the flood
}

TEST_CASE("--lane-share low=50 on 4 slots: a low flood runs on 2, and a normal task starts at once") {
  argon_system sys({.workers = 1, .capacity = 4, .broker_args = {"--lane-share", "low=50", "--queue-limit", "20"}});
  REQUIRE(sys.wait_for_slots(4));
  client c(client_options_for(sys));
  submit_options low;
  low.pri = common::priority::low;
  std::vector<std::future<result>> flood;
  for (int i = 0; i < 6; ++i) flood.push_back(c.submit("sleep", "3000", low));
  std::this_thread::sleep_for(500ms);
  auto st = nlohmann::json::parse(sys.status_json());
  CHECK(st["busy_slots"] == 2);
  CHECK(st["queue_low"] == 4);
  const auto sent = std::chrono::steady_clock::now();
  CHECK(c.submit("echo", "normal").get().value() == "normal");
  CHECK(std::chrono::steady_clock::now() - sent < 2s);  // not behind a 3 s low task
  for (auto& f : flood) CHECK(f.get().ok());
  auto bad = run({exe("ARGON_BROKER_PROGRAM"), "--insecure", "--bind", "tcp://127.0.0.1:0", "--lane-share", "low=150"}, "", 30s);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("low=150") != std::string::npos);
}
}
