// End to end: the broker's monitor stream as argon-monitor prints it, and
// argon status --workers, with the real broker, workers and CLI.
#include <doctest/doctest.h>

#include <optional>

#include <signal.h>
#include <sodium.h>

#include <fmt/format.h>

#include <future>
#include <memory>
#include <thread>
#include <map>
#include <set>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "event_log.hpp"
#include "raw_peer.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A broker with one worker slot, watched three ways at once: plain lines
// (with a --filter), the trace, and JSON. The constructor returns once all
// three are working (JSON ready, a stats line printed).
struct three_views {
  three_views(bool secure, const std::string& line_filter)
      : sys({.secure = secure, .workers = 1, .capacity = 1, .broker_args = {"--monitor", endpoint}}) {
    REQUIRE(sys.wait_for_slots(1));
    lines.emplace(sys, endpoint, std::vector<std::string>{"--filter", line_filter}, "plain.txt");
    trace.emplace(sys, endpoint, std::vector<std::string>{"--trace"}, "trace.txt");
    log.emplace(sys, endpoint, std::vector<std::string>{"--json"}, "monitor.log");
    REQUIRE(log->wait_ready());
    REQUIRE(lines->wait_for([&](const auto&) { return lines->text().find(" stats ") != std::string::npos; }, 10s));
  }
  std::string endpoint = monitor_endpoint();  // the broker's --monitor
  argon_system sys;                            // broker and one worker
  std::optional<event_log> lines, trace, log;  // the three monitors
};

// Text a peer chose to set the terminal's title (OSC 0, ended by BEL) and wipe the screen (CSI 2J).
const std::string hostile = "x\033]0;pwned\007\033[2J";
// The same text as a person should see it.
const std::string hostile_shown = R"(x\x1b]0;pwned\x07\x1b[2J)";

// Whether text holds a character a terminal would act on: a C0 control other
// than the newline ending each line, DEL, or a C1 control (U+0080-U+009F).
bool has_control_bytes(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b < 0x20 && b != '\n') || b == 0x7f) return true;
    if (b == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f) return true;
  }
  return false;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("each task's submitted, dispatched and done events reach a monitor in that order") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = true, .workers = 2, .capacity = 2, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(4));
  event_log log(sys, mon, {"--json"}, "monitor.log");
  REQUIRE(log.wait_ready());
  client c(client_options_for(sys));
  std::vector<std::future<result>> results;
  for (int i = 0; i < 60; ++i) results.push_back(c.submit(i % 10 ? "echo" : "fail", fmt::format("x{}", i)));
  for (auto& r : results) REQUIRE(r.wait_for(30s) == std::future_status::ready);
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "task_done") + count_named(evs, "task_failed") >= 60; }, 10s));
  const auto evs = log.events();
  std::map<std::string, std::vector<std::string>> story;  // task id -> its events in order
  for (auto& e : evs) {
    const std::string name = e.value("event", "");
    if (name.starts_with("task_")) story[e.value("id", "")].push_back(name);
    CHECK(e["time"].get<std::string>().size() == 24);  // 2026-11-25T19:01:02.345Z
  }
  CHECK(story.size() == 60);
  int done = 0, failed = 0;
  for (auto& [id, names] : story) {
    CAPTURE(id);
    REQUIRE(names.size() == 3);
    CHECK(names[0] == "task_submitted");
    CHECK(names[1] == "task_dispatched");
    CHECK((names[2] == "task_done" || names[2] == "task_failed"));
    done += names[2] == "task_done";
    failed += names[2] == "task_failed";
  }
  CHECK(done == 54);
  CHECK(failed == 6);
  auto submitted = log.named("task_submitted");
  REQUIRE_FALSE(submitted.empty());
  CHECK(submitted[0]["priority"] == "normal");
  CHECK(submitted[0]["payload_bytes"].get<int>() >= 2);
  auto joined = log.named("worker_joined");  // replayed to the new subscriber
  CHECK(joined.size() >= 2);
  auto stats = log.named("stats");
  CHECK(stats.back()["slots"] == 4);
  CHECK(c.call("no-such-task", "").error_kind() == "unknown_task");  // refused at once: still shown
  CHECK(log.wait_for([](const auto& evs) {
    for (auto& e : evs)
      if (e.value("event", "") == "task_failed" && e.value("kind", "") == "unknown_task") return true;
    return false;
  }, 5s));
}

TEST_CASE("each monitor gets the workers replayed to it alone: others starting later do not repeat them") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.workers = 2, .capacity = 1, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(2));
  event_log first(sys, mon, {"--json"}, "first.log");
  REQUIRE(first.wait_ready());
  REQUIRE(first.wait_for([](const auto& evs) { return count_named(evs, "worker_joined") >= 2; }, 10s));
  std::vector<std::unique_ptr<event_log>> later;
  for (int i = 0; i < 3; ++i) {
    later.push_back(std::make_unique<event_log>(sys, mon, std::vector<std::string>{"--json"}, fmt::format("later{}.log", i)));
    REQUIRE(later.back()->wait_ready());
  }
  for (auto& l : later)  // each later monitor learns both workers ...
    CHECK(l->wait_for([](const auto& evs) { return count_named(evs, "worker_joined") >= 2; }, 10s));
  std::this_thread::sleep_for(1500ms);  // past a tick, when a replay held back would go out
  CHECK(first.named("worker_joined").size() == 2);  // ... and the first one sees no repeat
}

TEST_CASE("a wrong keyfile and an unknown key each give an auth_failed event within 2 s") {
  auth_watch watch;
  argon_system& sys = watch.sys;
  event_log& log = watch.log;
  const std::string& wrong = watch.wrong_key;
  const auto wrong_keys = common::load_keys(wrong);  // derived before the clock starts
  const auto start = std::chrono::steady_clock::now();
  raw_peer stray(sys.endpoint, &wrong_keys.client, &wrong_keys.broker);
  stray.send(common::role::client, common::ping_msg{});
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "auth_failed") >= 1; }, 2s));
  MESSAGE("auth_failed after " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
                               << " ms");
  auto first = log.named("auth_failed").at(0);
  CHECK(first["mechanism"] == "CURVE");
  CHECK(first["why"].get<std::string>().find("decrypt") != std::string::npos);
  // The address is best effort: libzmq names the connection only in ACCEPTED, and a
  // handshake on loopback can fail and close before the broker reads that event.
  const std::string address = first["address"];
  CHECK((address.empty() || address.starts_with("127.0.0.1:")));
  // The CLI with that keyfile: it gives up (exit 4) and its attempts show too.
  const std::size_t before = log.named("auth_failed").size();
  auto cli = run({exe("ARGON_CLI"), "submit", "--broker", sys.endpoint, "--key", wrong, "--connect-timeout", "2", "echo", "x"}, "", 30s);
  CHECK(cli.exit_code == 4);
  CHECK(log.wait_for([&](const auto& evs) { return count_named(evs, "auth_failed") > before; }, 5s));
  // A key that knows the broker but is no role key: the ZAP handler refuses it, with the peer's address.
  auto keys = common::load_keys(sys.keyfile);
  common::keypair stranger;
  crypto_box_keypair(stranger.public_key.data(), stranger.secret_key.data());
  raw_peer intruder(sys.endpoint, &stranger, &keys.broker);
  intruder.send(common::role::client, common::ping_msg{});
  json refused;
  REQUIRE(log.wait_for([&](const auto& evs) {
    for (auto& e : evs)
      if (e.value("event", "") == "auth_failed" && e.value("why", "").find("unknown CURVE key") != std::string::npos) refused = e;
    return !refused.is_null();
  }, 2s));
  CHECK(refused["address"] == "127.0.0.1");
  CHECK(refused["mechanism"] == "CURVE");
}

TEST_CASE("a killed worker leaves as disconnected, a frozen one as expired") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = false, .workers = 0,
                    .broker_args = {"--monitor", mon, "--heartbeat-ms", "200", "--liveness", "3"}});
  auto& killed = sys.add_worker(1, {"--heartbeat-ms", "200"});
  auto& frozen = sys.add_worker(1, {"--heartbeat-ms", "200"});
  REQUIRE(sys.wait_for_slots(2));
  event_log log(sys, mon, {"--json"}, "monitor.log");
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "worker_joined") >= 2; }, 10s));
  killed.signal(SIGKILL);
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "worker_left") >= 1; }, 5s));
  CHECK(log.named("worker_left").at(0)["reason"] == "disconnected");
  frozen.signal(SIGSTOP);
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "worker_left") >= 2; }, 5s));
  CHECK(log.named("worker_left").at(1)["reason"] == "expired");
  CHECK(log.named("worker_left").at(0)["worker"] != log.named("worker_left").at(1)["worker"]);
  frozen.signal(SIGCONT);
}

TEST_CASE("the trace shows every message of a task's round trip, in order") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = true, .workers = 1, .capacity = 1, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(1));
  event_log log(sys, mon, {"--json", "--trace", "--filter", "stats"}, "trace.log");
  event_log lines(sys, mon, {"--trace"}, "trace.txt");
  REQUIRE(log.wait_ready());
  REQUIRE(lines.wait_for([&](const auto&) { return lines.text().find("HEARTBEAT") != std::string::npos; }, 10s));
  auto o = run(sys.cli("submit", {"echo", "round trip"}), "", 30s);
  REQUIRE(o.exit_code == 0);
  std::string id;
  auto round_trip = [&](const std::vector<json>& evs) {
    std::vector<std::string> seen;
    for (auto& e : evs) {
      if (e.value("event", "") != "trace") continue;
      if (id.empty() && e["command"] == "SUBMIT") id = e["id"];
      if (!id.empty() && e["id"] == id) seen.push_back(e["direction"].get<std::string>() + " " + e["command"].get<std::string>());
    }
    return seen == std::vector<std::string>{"in SUBMIT", "out TASK", "in DONE", "out RESULT"};
  };
  REQUIRE(log.wait_for(round_trip, 5s));
  for (auto& e : log.named("trace")) {
    if (e["id"] != id) continue;
    if (e["command"] == "SUBMIT" || e["command"] == "RESULT") CHECK(e["role"] == "client");
    if (e["command"] == "TASK" || e["command"] == "DONE") CHECK(e["role"] == "slot");
    CHECK(e["payload_bytes"] == 10);
  }
  CHECK(lines.wait_for([&](const auto&) {
    return lines.text().find(fmt::format("→ SUBMIT id={} task=echo pri=normal 10 B", id)) != std::string::npos;
  }, 5s));
  CHECK(lines.text().find(fmt::format("← TASK id={} task=echo attempt=1 10 B", id)) != std::string::npos);
  CHECK(lines.text().find(fmt::format("← RESULT id={}", id)) != std::string::npos);
  CHECK(lines.text().find("task_submitted") == std::string::npos);  // --trace alone prints only the trace
}

TEST_CASE("argon status --workers lists each worker with its capacity, address and work") {
  argon_system sys({.secure = true, .workers = 0});
  sys.add_worker(2);
  sys.add_worker(3);
  REQUIRE(sys.wait_for_slots(5));
  REQUIRE(run(sys.cli("submit", {"echo", "x"}), "", 30s).exit_code == 0);
  auto o = run(sys.cli("status", {"--workers"}), "", 30s);
  REQUIRE(o.exit_code == 0);
  auto j = json::parse(o.out);
  CHECK(j["workers"] == 2);
  REQUIRE(j["worker_list"].size() == 2);
  std::multiset<int> capacities;
  std::uint64_t done = 0;
  for (auto& w : j["worker_list"]) {
    capacities.insert(w["capacity"].get<int>());
    CHECK(w["slots"] == w["capacity"]);
    CHECK(w["address"] == "127.0.0.1");
    CHECK(w["busy"] == 0);
    CHECK(w["last_heartbeat_ms"].get<int>() < 3000);
    CHECK(w["id"].get<std::string>().size() == 8);
    done += w["done"].get<std::uint64_t>();
  }
  CHECK(capacities == std::multiset<int>{2, 3});
  CHECK(done == 1);
  auto plain = json::parse(run(sys.cli("status"), "", 30s).out);
  CHECK_FALSE(plain.contains("worker_list"));
}

TEST_CASE("a failed task's hostile message is shown escaped in the monitor's lines and on the CLI's stderr") {
  three_views views(true, "task_failed,stats");
  argon_system& sys = views.sys;
  event_log &lines = *views.lines, &trace = *views.trace, &log = *views.log;
  auto failed = run(sys.cli("submit", {"fail", hostile}), "", 30s);
  CHECK(failed.exit_code == 1);
  CHECK(failed.out.empty());
  CHECK(failed.err.find("argon: task failed (task_error): " + hostile_shown + "\n") != std::string::npos);
  CHECK_FALSE(has_control_bytes(failed.err));
  REQUIRE(lines.wait_for([&](const auto&) { return lines.text().find("task_failed") != std::string::npos; }, 5s));
  CHECK(lines.text().find(" message=" + hostile_shown + " ") != std::string::npos);
  CHECK_FALSE(has_control_bytes(lines.text()));
  REQUIRE(trace.wait_for([&](const auto&) { return trace.text().find("FAILED") != std::string::npos; }, 5s));
  CHECK_FALSE(has_control_bytes(trace.text()));
  // JSON lines carry the message exactly, with JSON's own escapes.
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "task_failed") >= 1; }, 5s));
  CHECK(log.named("task_failed").at(0)["message"] == hostile);
  CHECK_FALSE(has_control_bytes(log.text()));
}

TEST_CASE("task names and worker ids with control bytes or invalid UTF-8 are shown escaped, and --json stays JSON") {
  three_views views(false, "worker_joined,task_failed,stats");
  argon_system& sys = views.sys;
  event_log &lines = *views.lines, &trace = *views.trace, &log = *views.log;
  // A task name (the broker refuses ASCII controls in one, not C1 controls
  // or invalid UTF-8): quoted back by the broker's refusal, and in the SUBMIT trace line.
  auto unknown = run(sys.cli("submit", {"ech\xc2\x9b" "2Jo\xff", "x"}), "", 30s);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find(R"(no connected worker serves task 'ech\u009b2Jo\xff')") != std::string::npos);
  CHECK_FALSE(has_control_bytes(unknown.err));
  REQUIRE(trace.wait_for([&](const auto&) { return trace.text().find(R"(task=ech\u009b2Jo\xff pri=normal)") != std::string::npos; }, 5s));
  // A task id, chosen by the client that submits.
  raw_peer client(sys.endpoint, nullptr, nullptr);
  client.send(common::role::client, common::submit_msg{"t\033[2J\r", "echo", common::priority::normal, 0, 1, {}}, "x");
  REQUIRE(trace.wait_for([&](const auto&) { return trace.text().find(R"(← RESULT id=t\x1b[2J\r)") != std::string::npos; }, 5s));
  // A worker id, chosen by whoever says HELLO; and text that is not UTF-8.
  raw_peer stranger(sys.endpoint, nullptr, nullptr);
  stranger.send(common::role::control, common::hello_msg{"w\033[2J\xc2\x9b\xff", 1, "9.9.9"});
  auto bad = run(sys.cli("submit", {"fail", "not \xff UTF-8"}), "", 30s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find(R"(task failed (task_error): not \xff UTF-8)") != std::string::npos);
  REQUIRE(lines.wait_for([&](const auto&) { return lines.text().find(R"(message="not \xff UTF-8")") != std::string::npos; }, 5s));
  CHECK(lines.text().find(R"(worker_joined worker=w\x1b[2J\u009b\xff capacity=1)") != std::string::npos);
  // argon status lists that worker in ASCII JSON (it expires after a few seconds without heartbeats).
  auto status = run(sys.cli("status", {"--workers"}), "", 30s);
  CHECK(status.exit_code == 0);
  CHECK_FALSE(has_control_bytes(status.out));
  CHECK(status.out.find(R"("w\u001b[2J\u009b\ufffd")") != std::string::npos);
  CHECK(json::parse(status.out)["worker_list"].size() == 2);
  CHECK(lines.text().find(R"(task_failed id=)") != std::string::npos);
  CHECK_FALSE(has_control_bytes(lines.text()));
  CHECK_FALSE(has_control_bytes(trace.text()));
  CHECK(trace.text().find(R"(worker=w\x1b[2J\u009b\xff capacity=1)") != std::string::npos);
  // --json keeps going: invalid bytes become U+FFFD, so every line still parses.
  REQUIRE(log.wait_for([](const auto& evs) {
    for (auto& e : evs)
      if (e.value("event", "") == "task_failed" && e.value("message", "") == "not \xef\xbf\xbd UTF-8") return true;
    return false;
  }, 5s));
  CHECK(log.named("worker_joined").size() >= 2);
  CHECK_FALSE(has_control_bytes(log.text()));
  CHECK(log.process->running());
}

TEST_CASE("argon-monitor says so when no events come, and exits 0 on SIGTERM") {
  argon_system sys({.secure = true, .workers = 0});
  event_log log(sys, monitor_endpoint(), {"--json", "--quiet-after", "1"}, "monitor.log");
  REQUIRE(log.wait_for([&](const auto&) { return log.text().find("no events from") != std::string::npos; }, 5s));
  CHECK(log.text().find("is --monitor enabled there and the key right?") != std::string::npos);
  CHECK(log.process->stop(SIGTERM, 5s) == 0);
  auto usage = run({exe("ARGON_MONITOR"), "--monitor", "127.0.0.1:1", "--insecure", "--filter", "nope"}, "", 10s);
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("nope") != std::string::npos);
  auto no_key = run({exe("ARGON_MONITOR"), "--monitor", "127.0.0.1:1"}, "", 10s);
  CHECK(no_key.exit_code == 2);
}
}
