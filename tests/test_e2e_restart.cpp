// End to end: the broker is killed and restarted, or frozen, while a client
// has many tasks outstanding. The client notices the new broker instance (or
// gives the frozen one up and reconnects), submits its unfinished tasks
// again, and every task ends once, with its own value. The same holds for a
// client that was idle (sending nothing) when the broker restarted or froze.
#include <doctest/doctest.h>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {


// Every outcome the client delivered, by task index.
struct tally {
  std::mutex m;                         // guards everything below
  std::condition_variable changed;      // signalled on each outcome
  std::vector<int> calls;               // outcomes per task; 1 is right
  std::vector<std::string> values;      // the last value or error per task
  std::vector<bool> ok;                 // whether the last outcome was a success
  int resolved = 0;                     // tasks with at least one outcome

  explicit tally(std::size_t n) : calls(n, 0), values(n), ok(n, false) {}

  void record(std::size_t i, const result& r) {
    std::lock_guard lock(m);
    if (calls[i]++ == 0) ++resolved;
    ok[i] = r.ok();
    values[i] = r.ok() ? r.value() : r.error_kind() + ": " + r.error_message();
    changed.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds limit) {
    std::unique_lock lock(m);
    return changed.wait_for(lock, limit, [&] { return resolved >= n; });
  }
};

// Sleep tasks of 100 to 199 ms: each payload, and so each value, is distinct.
std::string payload_for(std::size_t i) { return std::to_string(100 + i); }

// How the broker is interrupted while tasks are outstanding.
enum class outage {
  restart,                // SIGKILL, then a new broker on the same endpoint
  restart_fresh_workers,  // the same, and two more workers start
  freeze,                 // SIGSTOP for longer than the client's liveness, then SIGCONT
};

void interrupt(argon_system& sys, outage o) {
  if (o == outage::freeze) {
    sys.broker->signal(SIGSTOP);
    std::this_thread::sleep_for(2s);  // the client gives the broker up after 3 x 200 ms and reconnects
    sys.broker->signal(SIGCONT);
    return;
  }
  sys.restart_broker(SIGKILL);
  if (o == outage::restart_fresh_workers) {
    sys.add_worker(4, fast_beats);
    sys.add_worker(4, fast_beats);
  }
}

// Submits n sleep tasks, lets some finish, interrupts the broker, then checks every outcome.
void run_under_load(outage o, bool secure) {
  constexpr std::size_t n = 100;
  argon_system sys({.secure = secure, .workers = 0, .broker_args = fast_beats});
  sys.add_worker(4, fast_beats);
  sys.add_worker(4, fast_beats);
  REQUIRE(sys.wait_for_slots(8));
  client c(client_options_for(sys));
  tally t(n);
  for (std::size_t i = 0; i < n; ++i) c.submit("sleep", payload_for(i), {}, [&t, i](result r) { t.record(i, r); });
  REQUIRE(t.wait_for(8, 20s));  // the system works; most tasks are still queued or running
  interrupt(sys, o);
  const bool all = t.wait_for(n, 60s);
  std::this_thread::sleep_for(1s);  // time for any duplicate outcome to arrive
  std::lock_guard lock(t.m);
  const std::string log = read_file(sys.dir.file(o == outage::freeze ? "broker.log" : "broker2.log"));
  INFO("resolved ", t.resolved, " of ", n, "; broker log: ", log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  REQUIRE(all);
  for (std::size_t i = 0; i < n; ++i) {
    INFO("task ", i);
    CHECK(t.calls[i] == 1);
    CHECK(t.ok[i]);
    CHECK(t.values[i] == payload_for(i));
  }
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("the broker killed and restarted under load: all 100 tasks resolve once, with their own values") {
  run_under_load(outage::restart, false);
}

TEST_CASE("the broker killed and restarted under load, fresh workers join: all 100 tasks resolve once") {
  run_under_load(outage::restart_fresh_workers, false);
}

TEST_CASE("a CURVE broker frozen past the client's liveness: the client reconnects with its keys, all 100 tasks resolve once") {
  run_under_load(outage::freeze, true);
}

TEST_CASE("an idle client's next task runs once after the broker restarted, or froze, while it was idle") {
  argon_system sys({.workers = 0, .broker_args = fast_beats});
  sys.add_worker(2, fast_beats);
  REQUIRE(sys.wait_for_slots(2));
  client_options o = client_options_for(sys);
  o.heartbeat = 200ms;
  client c(o);
  CHECK(c.submit("echo", "before").get().value() == "before");
  std::this_thread::sleep_for(1s);  // idle for more than liveness x heartbeat: not given up, nothing sent
  sys.restart_broker(SIGKILL);
  REQUIRE(sys.wait_for_slots(2));
  CHECK(c.submit("echo", "after restart").get().value() == "after restart");
  std::this_thread::sleep_for(1s);
  sys.broker->signal(SIGSTOP);
  auto frozen = c.submit("echo", "while frozen");  // silence counts from here: lost after 600 ms, then reconnects
  std::this_thread::sleep_for(1500ms);
  sys.broker->signal(SIGCONT);
  REQUIRE(frozen.wait_for(20s) == std::future_status::ready);
  CHECK(frozen.get().value() == "while frozen");
}
}
