// mixed_load: the makespan of a batch of sleep tasks of mixed lengths, all
// submitted at once by one client, beside the best any scheduler could do.
//
// Draws COUNT durations uniformly from [MIN, MAX] ms: std::mt19937_64 seeded
// with SEED, reduced with explicit arithmetic (MIN + draw mod span) rather
// than std::uniform_int_distribution, whose algorithm the standard leaves to
// each library, so a seed gives the same tasks everywhere. (The modulo bias
// of a 64-bit draw over a span of a few thousand is below 1e-15.) Every task
// is handed to the client library at once; the broker takes what its queue
// limit allows and answers BUSY to the rest, which the library keeps and
// sends again as room appears (docs/architecture.md, room signalling).
//
// Prints the tasks, ok and failed counts, the total of the durations, the
// broker's connected slots, the ideal makespan max(total / slots, longest
// task), the measured one (first submit to last outcome) and their ratio;
// the last line is key=value. Exits 0 when every task ended ok, 1 when any
// failed, and as Argon's programs do on other errors.
//
//   mixed_load --broker tcp://127.0.0.1:5555 --seed 1 --count 2000 --min-ms 10 --max-ms 2000
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <mutex>
#include <numeric>
#include <random>
#include <vector>

#include "argon/client.hpp"
#include "cli_parse.hpp"
#include "terminal_text.hpp"

namespace {

using steady = std::chrono::steady_clock;

struct flags {
  std::string broker;           // --broker
  std::uint64_t seed = 1;       // --seed
  std::size_t count = 2000;     // --count
  std::uint32_t min_ms = 10;    // --min-ms
  std::uint32_t max_ms = 2000;  // --max-ms
};

// What the outcomes say so far; written on the client's I/O thread, read after `finished`.
struct tally {
  std::mutex lock;                  // guards the fields below
  std::size_t outcomes = 0;         // tasks finished, ok or not
  std::size_t failed = 0;           // of which not ok
  steady::time_point last{};        // when the latest outcome came
  std::promise<void> finished;      // set at the last outcome
};

std::vector<std::uint32_t> draw_durations(const flags& f) {
  std::mt19937_64 draw(f.seed);
  const std::uint64_t span = std::uint64_t{f.max_ms} - f.min_ms + 1;
  std::vector<std::uint32_t> ms(f.count);
  for (auto& d : ms) d = f.min_ms + static_cast<std::uint32_t>(draw() % span);
  return ms;
}

void on_outcome(tally& t, std::size_t total, std::size_t i, const argon::result& r) {
  std::lock_guard<std::mutex> hold(t.lock);
  t.last = steady::now();
  if (!r.ok() && t.failed++ < 5)
    std::fprintf(stderr, "mixed_load: task %zu failed (%s): %s\n", i, argon::common::printable(r.error_kind()).c_str(),
                 argon::common::printable(r.error_message()).c_str());
  if (++t.outcomes == total) t.finished.set_value();
}

// Submits every task, waits for every outcome; returns the measured makespan in seconds.
double run_batch(argon::client& c, const std::vector<std::uint32_t>& ms, tally& t) {
  auto finished = t.finished.get_future();
  const auto first_submit = steady::now();
  for (std::size_t i = 0; i < ms.size(); ++i)
    c.submit("sleep", std::to_string(ms[i]), {}, [&t, &ms, i](argon::result r) { on_outcome(t, ms.size(), i, r); });
  finished.wait();
  std::lock_guard<std::mutex> hold(t.lock);
  return std::chrono::duration<double>(t.last - first_submit).count();
}

void print_report(const flags& f, const std::vector<std::uint32_t>& ms, std::uint64_t slots, double makespan, const tally& t) {
  const double total = static_cast<double>(std::accumulate(ms.begin(), ms.end(), std::uint64_t{0})) / 1000.0;
  const double longest = static_cast<double>(*std::max_element(ms.begin(), ms.end())) / 1000.0;
  const double ideal = std::max(total / static_cast<double>(slots), longest);
  const double ratio = makespan / ideal;
  std::printf("mixed_load: %zu sleep tasks of %u-%u ms (seed %llu) on %llu slots\n", ms.size(), f.min_ms, f.max_ms,
              static_cast<unsigned long long>(f.seed), static_cast<unsigned long long>(slots));
  std::printf("  tasks            %zu (%zu ok, %zu failed)\n", ms.size(), ms.size() - t.failed, t.failed);
  std::printf("  total duration   %.3f s (longest task %.3f s)\n", total, longest);
  std::printf("  ideal makespan   %.3f s = max(total / %llu slots, longest task)\n", ideal, static_cast<unsigned long long>(slots));
  std::printf("  measured         %.3f s, first submit to last outcome\n", makespan);
  std::printf("  ratio            %.4f\n", ratio);
  std::printf("tasks=%zu ok=%zu failed=%zu total_s=%.3f slots=%llu ideal_s=%.3f makespan_s=%.3f ratio=%.4f\n", ms.size(),
              ms.size() - t.failed, t.failed, total, static_cast<unsigned long long>(slots), ideal, makespan, ratio);
}

int run(const flags& f) {
  argon::client_options o;
  o.broker = f.broker;
  o.insecure = true;
  argon::client c(o);
  const std::uint64_t slots = c.status().slots;
  if (slots == 0) throw argon::config_error("the broker has no worker slots connected; start the workers first");
  const auto ms = draw_durations(f);
  tally t;
  const double makespan = run_batch(c, ms, t);
  print_report(f, ms, slots, makespan, t);
  return t.failed == 0 ? argon::exit_ok : argon::exit_task_failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mixed_load: submit a batch of sleep tasks of random lengths at once; compare the makespan to the ideal"};
  flags f;
  app.add_option("--broker", f.broker, "Broker endpoint (tcp://host:port or host:port); plaintext")->required();
  app.add_option("--seed", f.seed, "Seed of the durations (default 1)");
  app.add_option("--count,-n", f.count, "How many tasks (default 2000)")->check(CLI::Range(1, 1000000));
  app.add_option("--min-ms", f.min_ms, "Shortest task, ms (default 10)")->check(CLI::Range(0, 86400000));
  app.add_option("--max-ms", f.max_ms, "Longest task, ms (default 2000)")->check(CLI::Range(0, 86400000));
  if (auto code = argon::common::parse_or_exit(app, argc, argv, "mixed_load")) return *code;
  if (f.min_ms > f.max_ms) {
    std::fprintf(stderr, "mixed_load: error: --min-ms %u is over --max-ms %u\n", f.min_ms, f.max_ms);
    return argon::exit_usage;
  }
  try {
    return run(f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixed_load: error: %s\n", e.what());
    return argon::exit_code_of(e);
  }
}
