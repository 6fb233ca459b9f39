// End to end: a monitor that stops reading cannot hurt the broker. 10,000
// tasks run once with no monitor and once while a subscriber to the trace
// and every task event is SIGSTOPped; all finish, the broker's memory stays
// within a generous bound, and the events it could not deliver are counted
// as dropped. The measured times, memory and drops are printed.
#include <doctest/doctest.h>

#include <signal.h>

#include <cstdlib>
#include <deque>
#include <future>

#include "argon/client.hpp"
#include "event_log.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// Runs n echo tasks keeping 64 in flight (within the queue limit, so none is refused
// as busy); returns the seconds taken, or -1 if one failed.
double run_tasks(client& c, int n) {
  const auto start = std::chrono::steady_clock::now();
  std::deque<std::future<result>> window;
  int ok = 0;
  auto collect = [&] {
    if (window.front().wait_for(60s) == std::future_status::ready && window.front().get().ok()) ++ok;
    window.pop_front();
  };
  for (int i = 0; i < n; ++i) {
    if (window.size() >= 64) collect();
    window.push_back(c.submit("echo", "payload-" + std::to_string(i)));
  }
  while (!window.empty()) collect();
  if (ok != n) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a SIGSTOPped monitor neither blocks the broker nor grows its memory") {
  shrink_sanitizer_quarantine();
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = false, .workers = 2, .capacity = 4, .broker_args = {"--monitor", mon, "--queue-limit", "256"}});
  REQUIRE(sys.wait_for_slots(8));
  client_options o;
  o.broker = sys.endpoint;
  o.insecure = true;
  client c(o);
  const double alone = run_tasks(c, 10000);
  REQUIRE(alone > 0);
  event_log log(sys, mon, {"--json", "--trace", "--filter", "stats,task_submitted,task_dispatched,task_done"}, "monitor.log");
  REQUIRE(log.wait_ready());
  const long rss_before = rss_kib(sys.broker->pid());
  log.process->signal(SIGSTOP);
  const double watched = run_tasks(c, 10000);
  const long rss_after = rss_kib(sys.broker->pid());
  REQUIRE(watched > 0);  // every task finished
  log.process->signal(SIGCONT);
  std::uint64_t dropped = 0;
  CHECK(log.wait_for([&](const auto& evs) {
    for (auto& e : evs)
      if (e.value("event", "") == "stats") dropped = std::max<std::uint64_t>(dropped, e.value("dropped_total", 0));
    return dropped > 0;
  }, 20s));
  MESSAGE("10,000 tasks: " << alone << " s with no monitor, " << watched << " s with a SIGSTOPped monitor");
  MESSAGE("broker VmRSS: " << rss_before << " KiB before, " << rss_after << " KiB after; events dropped: " << dropped);
  CHECK(rss_after - rss_before < 200 * 1024);
  CHECK(watched < 20 * alone + 30);  // generous: the stopped monitor must not stall the run
  CHECK(sys.broker->running());
  CHECK(read_file(sys.dir.file("broker.log")).find("event(s) dropped") != std::string::npos);
}
}
