// argon bench: echo tasks with W in flight; throughput and latency percentiles.
//
// Each completion callback (on the client's I/O thread) checks the result
// and submits the next task, so the window stays full without a thread hop.
// A task that fails as unreachable (the broker did not answer within
// --connect-timeout, or was lost for good) ends the run: no more tasks are
// sent, and once those in flight are back it exits 4 with the reason.
#include <algorithm>
#include <cstdio>
#include <future>
#include <vector>

#include "cli.hpp"
#include "terminal_text.hpp"

namespace argon::cli {
namespace {

struct bench_flags {
  connection_flags conn;     // broker and key
  std::size_t tasks = 10000; // --tasks
  std::size_t window = 64;   // --window
  std::size_t payload = 64;  // --payload
} bench_flags_given;

// The run's state; touched only on the client's I/O thread once started.
struct bench_run {
  client* c = nullptr;                       // the client
  std::vector<std::string> payloads;         // one per task, distinct
  std::vector<std::chrono::steady_clock::time_point> started;  // per task
  std::vector<std::uint32_t> latency_us;     // per finished task
  std::size_t next = 0;                      // next task to submit
  std::size_t finished = 0;                  // results seen
  std::size_t wrong = 0;                     // failures or mismatches
  std::string unreachable;                   // why the broker could not be reached; "" while it could
  std::promise<void> all_done;               // set when every task sent is back and no more will be

  void submit_next() { submit(next++); }
  void submit(std::size_t i) {
    started[i] = std::chrono::steady_clock::now();
    c->submit("echo", payloads[i], {}, [this, i](result r) { on_result(i, r); });
  }
  void on_result(std::size_t i, const result& r) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started[i]);
    latency_us.push_back(static_cast<std::uint32_t>(us.count()));
    if (!r.ok() && r.error_kind() == "unreachable") {
      ++wrong;
      if (unreachable.empty()) unreachable = r.error_message();  // one line for all of them, at the end
    } else if (!r.ok() || r.value() != payloads[i]) {
      if (wrong++ < 5)
        std::fprintf(stderr, "argon bench: task %zu: %s\n", i, r.ok() ? "wrong result" : common::printable(r.error_message()).c_str());
    }
    if (next < payloads.size() && unreachable.empty()) submit_next();
    if (++finished == (unreachable.empty() ? payloads.size() : next)) all_done.set_value();
  }
};

std::string payload_for(std::size_t i, std::size_t size) {
  std::string p(size, 'x');
  std::string tag = std::to_string(i);
  std::copy_n(tag.begin(), std::min(tag.size(), size), p.begin());
  return p;
}

std::uint32_t percentile(std::vector<std::uint32_t> v, double q) {
  if (v.empty()) return 0;
  std::size_t k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Run echo tasks against a live broker; print tasks/s and latency");
  add_connection_flags(*cmd, bench_flags_given.conn);
  cmd->add_option("--tasks,-n", bench_flags_given.tasks, "How many tasks (default 10000)")->check(CLI::Range(1, 100000000));
  cmd->add_option("--window,-w", bench_flags_given.window, "Tasks in flight at once (default 64)")->check(CLI::Range(1, 100000));
  cmd->add_option("--payload", bench_flags_given.payload, "Payload bytes per task (default 64)")->check(CLI::Range(0, 16 << 20));
}

int run_bench(CLI::App&) {
  client c(to_options(bench_flags_given.conn));
  bench_run run;
  run.c = &c;
  for (std::size_t i = 0; i < bench_flags_given.tasks; ++i) run.payloads.push_back(payload_for(i, bench_flags_given.payload));
  run.started.resize(bench_flags_given.tasks);
  run.latency_us.reserve(bench_flags_given.tasks);
  auto finished = run.all_done.get_future();
  const auto t0 = std::chrono::steady_clock::now();
  // The first window goes out from this thread; from then on only the I/O thread advances `next`.
  const std::size_t first = std::min(bench_flags_given.window, bench_flags_given.tasks);
  run.next = first;
  for (std::size_t i = 0; i < first; ++i) run.submit(i);
  finished.wait();
  if (!run.unreachable.empty()) {
    std::fprintf(stderr, "argon bench: %s; gave up after %zu of %zu tasks\n", common::printable(run.unreachable).c_str(),
                 run.finished, bench_flags_given.tasks);
    return unreachable;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto rate = static_cast<long>(static_cast<double>(bench_flags_given.tasks) / seconds);
  std::printf("argon bench: %zu echo tasks, window %zu, payload %zu bytes, %.3f s, %zu failed or wrong\n",
              bench_flags_given.tasks, bench_flags_given.window, bench_flags_given.payload, seconds, run.wrong);
  std::printf("tasks_per_s=%ld p50_us=%u p99_us=%u\n", rate, percentile(run.latency_us, 0.50), percentile(run.latency_us, 0.99));
  return run.wrong == 0 ? done : task_failed_code;
}

}  // namespace argon::cli
