// End to end: real tasks through the real broker and workers, via the C++
// client library and the argon CLI.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include <deque>
#include <future>
#include <nlohmann/json.hpp>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

bool ready_within(std::future<result>& f, std::chrono::milliseconds limit) {
  return f.wait_for(limit) == std::future_status::ready;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("1,000 tasks through 2 workers x 4 slots all return their own results") {
  argon_system sys({.secure = true, .workers = 2, .capacity = 4});
  REQUIRE(sys.wait_for_slots(8));
  client c(client_options_for(sys));
  std::deque<std::pair<int, std::future<result>>> window;
  int ok = 0;
  auto collect_oldest = [&] {
    auto& [i, f] = window.front();
    REQUIRE(ready_within(f, 30s));
    result r = f.get();
    CHECK(r.ok());
    if (r.ok() && r.value() == "payload-" + std::to_string(i)) ++ok;
    window.pop_front();
  };
  for (int i = 0; i < 1000; ++i) {
    if (window.size() >= 24) collect_oldest();
    window.emplace_back(i, c.submit("echo", "payload-" + std::to_string(i)));
  }
  while (!window.empty()) collect_oldest();
  CHECK(ok == 1000);
  auto status = nlohmann::json::parse(sys.status_json());
  CHECK(status["completed"] == 1000);
  CHECK(status["submitted"] == 1000);
  CHECK(status["busy_slots"] == 0);
}

TEST_CASE("short tasks go to free slots while two slots run a long sleep") {
  argon_system sys({.secure = false, .workers = 1, .capacity = 4});
  REQUIRE(sys.wait_for_slots(4));
  client c(client_options_for(sys));
  auto long1 = c.submit("sleep", "6000");
  auto long2 = c.submit("sleep", "6000");
  std::vector<std::future<result>> shorts;
  for (int i = 0; i < 40; ++i) {
    shorts.push_back(c.submit("echo", "short-" + std::to_string(i)));
    if (shorts.size() % 4 == 0) REQUIRE(ready_within(shorts.back(), 5s));
  }
  for (std::size_t i = 0; i < shorts.size(); ++i) {
    REQUIRE(ready_within(shorts[i], 5s));
    CHECK(shorts[i].get().value() == "short-" + std::to_string(i));
  }
  // All short tasks finished while both long ones were still running.
  CHECK_FALSE(ready_within(long1, 0ms));
  CHECK_FALSE(ready_within(long2, 0ms));
  CHECK(long1.get().value() == "6000");
  CHECK(long2.get().value() == "6000");
}

TEST_CASE("the CLI passes bytes through unchanged and reports failures by exit code") {
  argon_system sys({.secure = true, .workers = 1, .capacity = 2});
  REQUIRE(sys.wait_for_slots(2));
  std::string binary("line one\nline two\0\x01\xff end", 23);
  auto echo = run(sys.cli("submit", {"echo"}), binary, 30s);
  CHECK(echo.exit_code == 0);
  CHECK(echo.out == binary);
  auto failed = run(sys.cli("submit", {"fail", "disk full"}), "", 30s);
  CHECK(failed.exit_code == 1);
  CHECK(failed.err.find("disk full") != std::string::npos);
  CHECK(failed.out.empty());
  auto unknown = run(sys.cli("submit", {"no-such-task", "x"}), "", 30s);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("no connected worker serves task 'no-such-task'") != std::string::npos);
  CHECK(unknown.err.find("unknown_task") != std::string::npos);
  auto high = run(sys.cli("submit", {"--priority", "high", "sleep", "10"}), "", 30s);
  CHECK(high.exit_code == 0);
  CHECK(high.out == "10");
  auto usage = run(sys.cli("submit", {"--priority", "urgent", "echo", "x"}), "", 30s);
  CHECK(usage.exit_code == 2);
  // A task name over the protocol's 128 bytes: refused before it is sent (the broker would
  // fail it by its id too), so the CLI ends instead of waiting.
  auto long_name = run(sys.cli("submit", {std::string(129, 'n'), "x"}), "", 30s);
  CHECK(long_name.exit_code == 1);
  CHECK(long_name.err.find("task failed (protocol_error)") != std::string::npos);
  CHECK(long_name.err.find("at most 128 bytes") != std::string::npos);
}

TEST_CASE("a failed task throws task_failed from value(), as Argon's result croaked") {
  argon_system sys({.secure = false, .workers = 1, .capacity = 1});
  REQUIRE(sys.wait_for_slots(1));
  client c(client_options_for(sys));
  result r = c.call("fail", "bad input");
  CHECK_FALSE(r.ok());
  CHECK(r.error_kind() == "task_error");
  CHECK_THROWS_AS((void)r.value(), task_failed);
  CHECK(c.call("echo", "fine").value() == "fine");
}

TEST_CASE("a full queue answers busy, with depth and limit, and stores nothing; other clients get their share, up to twice the limit") {
  argon_system sys({.secure = false, .workers = 1, .capacity = 1, .broker_args = {"--queue-limit", "2"}});
  REQUIRE(sys.wait_for_slots(1));
  client c(client_options_for(sys)), second(client_options_for(sys)), third(client_options_for(sys));
  submit_options no_retry;
  no_retry.retry = false;
  auto running = c.submit("sleep", "3000", no_retry);
  auto queued1 = c.submit("sleep", "10", no_retry);
  auto queued2 = c.submit("sleep", "20", no_retry);
  result refused = c.submit("echo", "x", no_retry).get();
  CHECK(refused.error_kind() == "busy");
  REQUIRE(refused.busy().has_value());
  CHECK(refused.busy()->depth == 2);
  CHECK(refused.busy()->limit == 2);
  CHECK(refused.busy()->capacity == 1);
  CHECK(refused.busy()->reason == "queue_full");  // alone in the queue: its own limit
  // Another client's share of the full queue is ceil(2 / 2) = 1, a third's ceil(2 / 3) = 1.
  auto shared = second.submit("echo", "second", no_retry);
  result over_share = second.submit("echo", "again", no_retry).get();
  CHECK(over_share.error_kind() == "busy");
  REQUIRE(over_share.busy().has_value());
  CHECK(over_share.busy()->reason == "client_share");
  auto last = third.submit("echo", "third", no_retry);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (nlohmann::json::parse(sys.status_json())["queue_depth"] != 4 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  auto cli = run(sys.cli("submit", {"--no-retry", "echo", "y"}), "", 30s);  // twice the limit: nobody more
  CHECK(cli.exit_code == 3);
  CHECK(cli.err.find("busy") != std::string::npos);
  auto status = nlohmann::json::parse(sys.status_json());
  CHECK(status["queue_depth"] == 4);
  CHECK(status["busy_replies"] == 3);
  CHECK(status["submitted"] == 5);
  CHECK(running.get().value() == "3000");
  CHECK(queued1.get().value() == "10");
  CHECK(queued2.get().value() == "20");
  CHECK(shared.get().value() == "second");
  CHECK(last.get().value() == "third");
}

TEST_CASE("with no workers every task is refused busy, and retry waits for a worker") {
  argon_system sys({.secure = false, .workers = 0});
  auto refused = run(sys.cli("submit", {"--no-retry", "echo", "x"}), "", 30s);
  CHECK(refused.exit_code == 3);
  client_options o = client_options_for(sys);
  o.retry.base_seconds = 0.2;
  client c(o);
  auto later = c.submit("echo", "worth the wait");
  CHECK_FALSE(ready_within(later, 1000ms));
  sys.add_worker(1);
  REQUIRE(ready_within(later, 20s));
  CHECK(later.get().value() == "worth the wait");
}

TEST_CASE("the examples: a worker with its own handlers and a batch client") {
  argon_system sys({.secure = true, .workers = 0});
  child_process worker({exe("ARGON_EXAMPLE_WORKER"), "--broker", sys.endpoint, "--key", sys.keyfile, "--capacity", "2"},
                       sys.dir.file("example-worker.log"));
  REQUIRE(sys.wait_for_slots(2));
  auto o = run({exe("ARGON_EXAMPLE_CLIENT"), "--broker", sys.endpoint, "--key", sys.keyfile, "wordcount",
                "the quick brown fox", "reverse", "stressed", "reverse", ""}, "", 30s);
  CHECK(o.out.find("wordcount the quick brown fox -> 4\n") != std::string::npos);
  CHECK(o.out.find("reverse stressed -> desserts\n") != std::string::npos);
  CHECK(o.out.find("failed (task_error): reverse needs some text") != std::string::npos);
  CHECK(o.exit_code == 1);  // one task of the batch failed
}

TEST_CASE("an unreachable broker gives exit 4, not a hang") {
  std::string nowhere = "tcp://127.0.0.1:" + std::to_string(free_port());
  auto o = run({exe("ARGON_CLI"), "submit", "--broker", nowhere, "--insecure", "--connect-timeout", "1", "echo", "x"}, "", 30s);
  CHECK(o.exit_code == 4);
  CHECK(o.err.find("did not answer") != std::string::npos);
}

TEST_CASE("a malformed endpoint is a usage error in every program, not a crash") {
  auto cli = run({exe("ARGON_CLI"), "submit", "--broker", "foo:bar", "--insecure", "echo", "x"}, "", 30s);
  CHECK(cli.exit_code == 2);
  CHECK(cli.err.find("foo:bar") != std::string::npos);
  auto worker = run({exe("ARGON_WORKER"), "--broker", "foo:bar", "--insecure", "--capacity", "1"}, "", 30s);
  CHECK(worker.exit_code == 2);
  auto broker = run({exe("ARGON_BROKER_PROGRAM"), "--bind", "foo:bar", "--insecure"}, "", 30s);
  CHECK(broker.exit_code == 2);
}
}
