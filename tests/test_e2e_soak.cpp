// End to end, soak: a real broker and workers on loopback serve several
// clients at once for ARGON_SOAK_SECONDS (default 30) while faults are
// injected at random, and afterwards every task is accounted for.
//
// Three argon::client objects keep windows of tasks in flight, each with its
// own ledger by submission and by task id: two run echo and sleep (most with
// max_attempts 10, one in ten with 1), one runs wc with max_attempts 1. wc
// comes from the example plugin, which only two of the six workers load, and
// those are never killed or frozen, only stopped with SIGTERM. A slow reader
// (tests/support/slow_reader: a raw DEALER with a receive high-water mark of
// a few messages) keeps SUBMITs in flight while it stops reading for seconds
// at a time, and resubmits what is unanswered when PONG names a new broker.
// Meanwhile workers are killed (SIGKILL), frozen (SIGSTOP, SIGCONT after
// 0.1-3 s) or stopped (SIGTERM, which must end in exit 0), each killed or
// stopped one replaced by a fresh one; the broker is killed -9 and restarted
// on the same endpoint every 5-10 s; and raw SUBMITs out of range (a payload
// over --max-payload, a 129-byte task name, a priority past 2, max_attempts
// past 1,000) must each get exactly one FAILED naming their id, one with
// max_attempts 0 (read as 1) exactly one outcome.
//
// At the end, once the faults stop and the clients drain (bounded waits):
// every library task has exactly one outcome, its own output or worker_lost
// after all of its attempts, no task id has two, and no wc task fails as
// worker_lost except around a broker restart; every slow-reader id has an
// outcome; the broker has no queued task and no busy slot and counts exactly
// the pool's slots; and no broker's VmRSS passed the bound computed below
// from its flags. The faults come from a seeded RNG: the seed is printed,
// and ARGON_SOAK_SEED=N replays it; ARGON_SOAK_LOGS=DIR keeps the broker and
// worker logs.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "slow_reader.hpp"
#include "submit_probe.hpp"
#include "system.hpp"
#include "windowed_client.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

constexpr int start_workers = 4;             // workers for echo and sleep, kept at this many
constexpr int capacity = 4;                  // slots per worker
constexpr int plugin_workers = 2;            // workers that also run wc (the example plugin), never killed or frozen
constexpr int plugin_capacity = 2;           // slots per plugin worker
constexpr int pool_slots = start_workers * capacity + plugin_workers * plugin_capacity;  // slots the pool keeps
constexpr std::size_t max_payload = 65536;   // the broker's --max-payload
constexpr std::size_t queue_limit = 2000;    // its --queue-limit: far above what is in flight, so no BUSY
constexpr std::size_t queue_bytes = 32u << 20;   // its --queue-bytes
constexpr std::size_t result_bytes = 16u << 20;  // its --result-bytes
constexpr int library_clients = 3;           // argon::client objects
constexpr std::size_t library_window = 40;   // tasks each keeps in flight
constexpr std::size_t library_payload = 4096;  // their largest echo payload
constexpr std::size_t slow_window = 1000;    // SUBMITs the slow reader keeps unanswered
constexpr std::size_t slow_payload = 16384;  // its largest echo payload

int soak_seconds() {
  const char* s = std::getenv("ARGON_SOAK_SECONDS");
  return s ? std::max(1, std::atoi(s)) : 30;
}

std::uint64_t soak_seed() {
  const char* s = std::getenv("ARGON_SOAK_SEED");
  return s && *s ? std::strtoull(s, nullptr, 10) : std::random_device{}();
}

template <class T> T between(std::mt19937_64& rng, T lo, T hi) { return std::uniform_int_distribution<T>(lo, hi)(rng); }

// What the broker was given: the terms of the memory bound below.
std::vector<std::string> broker_flags() {
  std::vector<std::string> f = fast_beats;
  f.insert(f.end(), {"--queue-limit", std::to_string(queue_limit), "--max-payload", std::to_string(max_payload),
                     "--queue-bytes", std::to_string(queue_bytes), "--result-bytes", std::to_string(result_bytes)});
  return f;
}

// The formula under "Memory" in docs/operations.md allows far more for these flags
// (2 × --client-backlog-bytes per client alone is 128 MiB), since it must hold for a
// client that never reads; these clients all read in the end, so this bound is
// tighter, in KiB, the sum of: 16 MiB for the process (code,
// libraries, libzmq's context and I/O buffers, and what malloc keeps after a free;
// an idle broker has about 2 MiB); --queue-bytes (payloads waiting); --result-bytes
// (kept outcomes); one --max-payload per slot of every worker started (inputs of
// running tasks); the outputs owed to every client's window at its largest
// payload (the slow reader's wait in the broker's send queue while it is not
// reading); and 2 KiB of bookkeeping per task of --queue-limit. Under
// AddressSanitizer its quarantine (16 MiB, see shrink_sanitizer_quarantine) is
// added and the sum doubled for shadow memory and redzones.
long rss_bound_kib(std::size_t slots_ever) {
  const std::size_t owed = library_clients * library_window * library_payload + slow_window * slow_payload;
  std::size_t bytes = (16u << 20) + queue_bytes + result_bytes + slots_ever * max_payload + owed + queue_limit * 2048;
#if defined(__SANITIZE_ADDRESS__)
  bytes = 2 * (bytes + (16u << 20));
#endif
  return static_cast<long>(bytes / 1024);
}

// A stretch of time around a broker restart: from the kill until a few seconds
// after the new broker started, while workers and clients find it again.
struct restart_window {
  steady::time_point from;  // just before the kill
  steady::time_point to;    // a few seconds after the new broker started
};

bool near_restart(const task_record& r, const std::vector<restart_window>& restarts) {
  for (const auto& w : restarts)
    if (r.submitted <= w.to && r.ended >= w.from) return true;
  return false;
}

client_options library_options(const argon_system& sys) {
  client_options o = client_options_for(sys);
  o.heartbeat = 250ms;        // hears a restarted broker within a quarter second
  o.reconnect_timeout = 60s;  // restarts take well under a second: no task may become unreachable
  return o;
}

// Echo and sleep tasks at random priorities, for any worker: max_attempts 10, or
// 1 for one task in ten. An echo's input names its client and submission, so an
// output given to the wrong task shows.
windowed_client::planner mixed_tasks(int number, std::uint64_t seed) {
  return [number, rng = std::mt19937_64(seed)](std::size_t i) mutable {
    planned_task t;
    t.opts.pri = static_cast<common::priority>(between(rng, 0, 2));
    t.opts.max_attempts = between(rng, 0, 9) == 0 ? 1 : 10;
    if (between(rng, 0, 2) == 0) {
      t.name = "sleep";
      t.input = std::to_string(between(rng, 20, 300));
    } else {
      t.name = "echo";
      t.input = fmt::format("client {} task {} ", number, i);
      t.input.resize(std::max(between<std::size_t>(rng, 1, library_payload), t.input.size()), static_cast<char>('a' + i % 26));
    }
    t.expected = t.input;
    return t;
  };
}

// wc tasks with max_attempts 1: only the plugin workers run wc, and they are
// never killed or frozen, only stopped.
windowed_client::planner wc_tasks(int number, std::uint64_t seed) {
  return [number, rng = std::mt19937_64(seed)](std::size_t i) mutable {
    planned_task t;
    t.name = "wc";
    t.opts.pri = static_cast<common::priority>(between(rng, 0, 2));
    t.opts.max_attempts = 1;
    const std::size_t filler = between<std::size_t>(rng, 0, 200);
    t.input = fmt::format("client {} task {}", number, i);
    for (std::size_t k = 0; k < filler; ++k) t.input += " w";
    t.expected = fmt::format("0 {} {}\n", 4 + filler, t.input.size());
    return t;
  };
}

// Every task of the client ended once, as the guarantee allows, and no wc task
// was lost with its worker except around a broker restart: a stopped worker
// finishes what it runs and takes nothing new (docs/operations.md). Up to five
// faults of each sort are shown, then their number.
void check(windowed_client& c, int number, const std::vector<restart_window>& restarts) {
  auto faults = c.faults();
  for (const auto& r : c.records())
    if (r.name == "wc" && r.kind == "worker_lost" && !near_restart(r, restarts))
      faults["wc lost with its worker, away from any broker restart"].push_back(r.id);
  const std::size_t tasks = c.records().size();
  for (const auto& [sort, list] : faults) {
    for (std::size_t i = 0; i < list.size() && i < 5; ++i) FAIL_CHECK("client ", number, ": ", sort, ": ", list[i]);
    FAIL_CHECK("client ", number, ": ", list.size(), " of ", tasks, " tasks: ", sort);
  }
}

// What was done to the system, for the summary.
struct fault_counts {
  int killed = 0;      // workers sent SIGKILL
  int frozen = 0;      // workers sent SIGSTOP (and SIGCONT later)
  int terminated = 0;  // workers sent SIGTERM
  int restarts = 0;    // brokers killed -9 and started again
  int probes = 0;      // raw SUBMITs out of range (or with max_attempts 0)
};

// The flags of a worker of the pool: plugin workers also run wc.
std::vector<std::string> worker_flags(bool plugin) {
  std::vector<std::string> f = fast_beats;
  if (plugin) f.insert(f.end(), {"--plugin", exe("ARGON_TASKS_PLUGIN")});
  return f;
}

// Starts the pool of workers and injects faults into it at random from its own
// seeded RNG, one every 0.3-1.2 s, and restarts the broker every 5-10 s.
// Killed and stopped workers are replaced; frozen ones are thawed. Plugin
// workers are only ever stopped with SIGTERM. Only workers that have run for a
// second are chosen, so that each signal meets a worker that has set up its
// handlers.
class fault_injector {
 public:
  fault_injector(argon_system& sys, std::uint64_t seed) : sys_(sys), rng_(seed) {
    for (int i = 0; i < start_workers + plugin_workers; ++i) {
      const bool plugin = i >= start_workers;
      pool_.push_back({&sys.add_worker(plugin ? plugin_capacity : capacity, worker_flags(plugin)), plugin, steady::now(), {}});
    }
  }

  void run(std::chrono::seconds length) {
    const auto end = steady::now() + length;
    auto next_restart = steady::now() + std::chrono::milliseconds(between(rng_, 5000, 10000));
    while (steady::now() < end) {
      const auto next = steady::now() + std::chrono::milliseconds(between(rng_, 300, 1200));
      while (steady::now() < next) {
        thaw(steady::now());
        sample_rss();
        std::this_thread::sleep_for(50ms);
      }
      if (steady::now() >= next_restart) {
        restart_broker();
        next_restart = steady::now() + std::chrono::milliseconds(between(rng_, 5000, 10000));
        continue;
      }
      const int pick = between(rng_, 0, 8);
      if (pick <= 2) kill_worker();
      else if (pick <= 4) freeze_worker();
      else if (pick <= 6) terminate_worker(pick == 6);
      else probe_submit();
    }
    thaw(steady::time_point::max());
  }
  void sample_rss() { max_rss_kib = std::max(max_rss_kib, rss_kib(sys_.broker->pid())); }

  fault_counts counts;                  // faults injected
  std::vector<std::string> defects;     // what the system did that it must not
  std::vector<restart_window> restarts; // when the broker was restarted
  long max_rss_kib = 0;                 // the largest broker VmRSS seen
  std::size_t slots_ever = pool_slots;  // slots of every worker started

 private:
  struct member {
    child_process* process;                       // the worker
    bool plugin;                                  // runs wc too; only ever stopped with SIGTERM
    steady::time_point started;                   // when it was started
    std::optional<steady::time_point> thaw_at;    // frozen until then
  };

  // A worker that has run for a second and is not frozen: a plugin one only when asked for.
  member* victim(bool plugin) {
    std::vector<member*> ready;
    for (auto& m : pool_)
      if (m.plugin == plugin && !m.thaw_at && steady::now() - m.started >= 1s) ready.push_back(&m);
    return ready.empty() ? nullptr : ready[between<std::size_t>(rng_, 0, ready.size() - 1)];
  }
  void replace(member& m) {
    const int slots = m.plugin ? plugin_capacity : capacity;
    m = {&sys_.add_worker(slots, worker_flags(m.plugin)), m.plugin, steady::now(), {}};
    slots_ever += slots;
  }
  void kill_worker() {
    if (member* m = victim(false)) {
      m->process->stop(SIGKILL, 5s);
      ++counts.killed;
      replace(*m);
    }
  }
  void freeze_worker() {
    if (member* m = victim(false)) {
      m->process->signal(SIGSTOP);
      m->thaw_at = steady::now() + std::chrono::milliseconds(between(rng_, 100, 3000));
      ++counts.frozen;
    }
  }
  // A worker told to stop finishes its running tasks and exits 0 (docs/operations.md).
  void terminate_worker(bool plugin) {
    member* m = victim(plugin);
    if (!m) return;
    const pid_t pid = m->process->pid();
    const int code = m->process->stop(SIGTERM, 15s);
    if (code != 0) defects.push_back(fmt::format("worker {} ended with {} after SIGTERM (-1: still running after 15 s)", pid, code));
    ++counts.terminated;
    replace(*m);
  }
  void thaw(steady::time_point now) {
    for (auto& m : pool_)
      if (m.thaw_at && *m.thaw_at <= now) {
        m.process->signal(SIGCONT);
        m.thaw_at.reset();
      }
  }
  void restart_broker() {
    sample_rss();
    const auto from = steady::now();
    sys_.restart_broker(SIGKILL);
    restarts.push_back({from, steady::now() + 3s});
    ++counts.restarts;
  }
  void probe_submit() {
    const submit_probe p = make_submit_probe(rng_, ++counts.probes, max_payload);
    if (std::string bad = run_submit_probe(sys_.endpoint, p); !bad.empty()) defects.push_back(std::move(bad));
  }

  argon_system& sys_;          // the broker and the workers
  std::mt19937_64 rng_;        // every choice of fault
  std::vector<member> pool_;   // the workers faults may hit
};

// Every slow-reader id answered, and nothing it saw against the protocol.
void check(const slow_reader_report& r) {
  for (std::size_t i = 0; i < r.unanswered.size() && i < 10; ++i) FAIL_CHECK("slow reader: ", r.unanswered[i], " has no outcome");
  CHECK_MESSAGE(r.unanswered.empty(), "slow reader: ", r.unanswered.size(), " of ", r.ids, " ids have no outcome");
  for (const auto& d : r.defects) FAIL_CHECK("slow reader: ", d);
}

// Once the clients are drained: no task queued, no slot busy, and exactly the
// pool's slots (frozen workers thawed and back, dead ones forgotten).
void check_idle(windowed_client& c) {
  common::status_reply_msg st;
  for (const auto end = steady::now() + 20s; steady::now() < end; std::this_thread::sleep_for(200ms)) {
    st = c.status();
    if (st.queue_depth == 0 && st.busy_slots == 0 && st.slots == pool_slots) break;
  }
  CHECK(st.queue_depth == 0);
  CHECK(st.busy_slots == 0);
  CHECK(st.slots == pool_slots);
}

std::string kinds_text(const std::map<std::string, long>& kinds) {
  std::string s;
  for (const auto& [kind, n] : kinds) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", kind, n);
  return s;
}

// ARGON_SOAK_LOGS=DIR keeps the broker and worker logs there, to read after a failure.
void keep_logs(const argon_system& sys) {
  const char* dir = std::getenv("ARGON_SOAK_LOGS");
  if (!dir || !*dir) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (const auto& f : std::filesystem::directory_iterator(sys.dir.path(), ec))
    std::filesystem::copy(f.path(), std::filesystem::path(dir) / f.path().filename(),
                          std::filesystem::copy_options::overwrite_existing, ec);
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("soak: clients, a slow reader and refused SUBMITs under random faults; every task ends once") {
  shrink_sanitizer_quarantine();
  const std::uint64_t seed = soak_seed();
  const int seconds = soak_seconds();
  MESSAGE("ARGON_SOAK_SEED=", seed, " ARGON_SOAK_SECONDS=", seconds);
  argon_system sys({.secure = false, .workers = 0, .broker_args = broker_flags()});
  fault_injector faults(sys, seed);  // starts the pool
  REQUIRE(sys.wait_for_slots(pool_slots));

  std::vector<std::unique_ptr<windowed_client>> clients;
  for (int k = 1; k <= library_clients; ++k)
    clients.push_back(std::make_unique<windowed_client>(library_options(sys), library_window,
                                                        k == 1 ? wc_tasks(k, seed + k) : mixed_tasks(k, seed + k)));
  slow_reader slow(sys.endpoint, seed + 100, {.window = slow_window, .largest_payload = slow_payload, .receive_hwm = 4});
  faults.run(std::chrono::seconds(seconds));

  for (auto& c : clients) c->stop_feeding();
  slow.stop_feeding();
  const auto drain_end = steady::now() + 120s;
  auto drained = [&] {
    bool all = slow.drained();
    for (auto& c : clients) all = all && c->drained();
    return all;
  };
  while (!drained() && steady::now() < drain_end) std::this_thread::sleep_for(100ms);
  slow.join();

  keep_logs(sys);
  std::map<std::string, long> library_kinds;
  std::string lost;  // ids of library tasks that failed as worker_lost, to find in the logs
  std::size_t library_tasks = 0;
  for (int k = 1; k <= library_clients; ++k) {
    windowed_client& c = *clients[k - 1];
    check(c, k, faults.restarts);
    for (const auto& [kind, n] : c.kinds()) library_kinds[kind] += n;
    for (const auto& r : c.records())
      if (r.kind == "worker_lost") lost += fmt::format(" {}", r.id);
    library_tasks += c.records().size();
  }
  const slow_reader_report slow_seen = slow.report();
  check(slow_seen);
  for (const auto& d : faults.defects) FAIL_CHECK(d);
  check_idle(*clients.front());

  faults.sample_rss();
  const long bound = rss_bound_kib(faults.slots_ever);
  CHECK_MESSAGE(faults.max_rss_kib < bound, "broker VmRSS reached ", faults.max_rss_kib, " KiB; the bound is ", bound, " KiB");

  MESSAGE(fmt::format("soak of {} s, seed {}: {} library tasks: {}; slow reader: {} ids: {}; {} sent again after a "
                      "restart, {} second outcomes for those, {} BUSY, {} read pauses, {} broker instances",
                      seconds, seed, library_tasks, kinds_text(library_kinds), slow_seen.ids, kinds_text(slow_seen.kinds),
                      slow_seen.resent, slow_seen.second_outcomes, slow_seen.busy, slow_seen.pauses, slow_seen.instances));
  MESSAGE("library tasks that failed as worker_lost:", lost);
  MESSAGE(fmt::format("faults: {} workers killed, {} frozen, {} stopped with SIGTERM, {} broker restarts, {} refused "
                      "SUBMITs probed; broker VmRSS at most {} KiB (bound {} KiB), {} KiB at the end",
                      faults.counts.killed, faults.counts.frozen, faults.counts.terminated, faults.counts.restarts,
                      faults.counts.probes, faults.max_rss_kib, bound, rss_kib(sys.broker->pid())));
}
}
