// queue_cost: what the broker's task queue costs per dispatched task, with
// lanes, fair turns between clients and aging bookkeeping.
//
// For each setup (clients with tasks queued, queue depth, routes) the queue
// is filled to the depth, spread round-robin over the clients, routes and
// the three lanes; then each step takes the best task (pop_for, as a slot
// that runs every route does) and queues it again for the same client, so
// the depth stays put, and every 64 steps runs the aging check. Prints one
// markdown row per setup: nanoseconds per step (one pop and one push),
// the median of ROUNDS rounds of STEPS steps. A step is what one dispatched
// task costs the queue; the broker's whole CPU per task is in bench/cpu.sh.
//
//   queue_cost [--steps 200000] [--rounds 5]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "cli_parse.hpp"
#include "task_queue.hpp"

namespace {

using namespace argon;

struct setup {
  std::size_t clients;  // clients with tasks queued
  std::size_t depth;    // tasks queued
  std::size_t routes;   // distinct routes (task names)
};

double ns_per_step(const setup& s, std::size_t steps) {
  std::deque<broker::task> store;
  broker::task_queue q;
  common::fake_clock clk;
  for (std::size_t i = 0; i < s.depth; ++i) {
    auto& t = store.emplace_back();
    t.client = "client-";
    t.client += std::to_string(i % s.clients);
    t.id = std::to_string(i);
    t.route = "task-";
    t.route += std::to_string(i % s.routes);
    t.pri = t.lane = static_cast<common::priority>(i % 3);
    q.push(t, clk.now());
  }
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < steps; ++i) {
    broker::task* t = q.pop_for([](std::string_view) { return true; });
    t->lane = t->pri;
    q.push(*t, clk.now());
    if (i % 64 == 0) {
      clk.advance(std::chrono::microseconds(100));
      (void)q.promote(clk.now(), common::millis(1000));
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::nano>(took).count() / static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"queue_cost: nanoseconds per dispatched task in the broker's task queue"};
  std::size_t steps = 200000, rounds = 5;
  app.add_option("--steps", steps, "pop-and-push steps per round")->check(CLI::Range(std::size_t{1000}, std::size_t{100000000}));
  app.add_option("--rounds", rounds, "rounds per setup; the median is printed")->check(CLI::Range(1, 101));
  if (auto code = common::parse_or_exit(app, argc, argv, "queue_cost")) return *code;
  const setup setups[] = {{1, 24, 1}, {1, 2000, 1}, {16, 2000, 1}, {1000, 2000, 1}, {16, 2000, 8}, {1000, 100000, 8}};
  std::printf("| clients | depth | routes | ns per dispatch |\n|---|---|---|---|\n");
  for (const auto& s : setups) {
    std::vector<double> r;
    for (std::size_t i = 0; i < rounds; ++i) r.push_back(ns_per_step(s, steps));
    std::sort(r.begin(), r.end());
    std::printf("| %zu | %zu | %zu | %.0f |\n", s.clients, s.depth, s.routes, r[r.size() / 2]);
  }
  return 0;
}
