// End to end: workers that run different tasks behind one broker. Each task
// reaches a worker that runs it, never one that would fail it for lack of a
// handler or of --allow-exec; a task nobody runs fails at once.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <future>

#include "argon/client.hpp"
#include "client_for.hpp"
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
}
