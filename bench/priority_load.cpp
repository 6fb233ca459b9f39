// priority_load: what the broker's lanes and fairness give one client while
// another floods it, measured through the C++ client library.
//
// `priority_load latency`: one client (the flood) keeps FLOOD low-priority
// `sleep FLOOD_MS` tasks in flight, submitting another as each outcome
// arrives; the broker queues what its limit allows and answers BUSY to the
// rest, which the library holds back and sends again as outcomes signal room
// (docs/architecture.md, room signalling), so every slot that takes low
// tasks stays busy and the queue full (less the tasks that have just gone
// to freed slots, until the library's next ones arrive). Once the low lane
// holds a full queue, a second client submits WARMUP then COUNT high-priority
// `echo` tasks of 64 bytes, one every INTERVAL ms on a fixed schedule
// (whether or not the ones before have ended, so a slow task does not hide
// the waits of those behind it), and times each from submit to outcome (the
// moment the outcome reaches the library's callback); the warm-up ones are
// not counted. A third thread asks the broker's status through the flood
// client every 100 ms while the high tasks run, to show how full the flood
// kept the queue. With --flood 0 there is no flood: the baseline.
//
// `priority_load share`: two clients, A and B, each keep WINDOW `sleep
// TASK_MS` tasks in the normal lane in flight for SECONDS; each outcome that
// arrives within that time counts for its client, and sends the client's
// next task. Then both stop sending and wait for what is still in flight
// (not counted).
//
// Both print what they measured, then one key=value line:
//   latency: sent timed ok failed p50_us p99_us max_us slots queue_limit flood low_done low_failed low_queued_min busy_slots_min samples
//   share:   a_done b_done failed min_max a_b tasks_per_s utilisation slots queue_limit busy_replies
// Percentiles are those of `argon bench`: the value at rank q × (n - 1) of the
// sorted latencies. Exits 0 when every task ended ok, 1 when any failed, and
// as Argon's programs do on other errors.
//
//   priority_load latency --broker tcp://127.0.0.1:5555 --count 300 --interval-ms 20 --flood 200 --flood-ms 50
//   priority_load share --broker tcp://127.0.0.1:5555 --seconds 10 --window 64 --task-ms 5
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "argon/client.hpp"
#include "cli_parse.hpp"
#include "terminal_text.hpp"

namespace {

using steady = std::chrono::steady_clock;
using argon::common::priority;

struct latency_flags {
  std::string broker;             // --broker
  std::size_t count = 300;        // --count: high tasks timed
  std::size_t warmup = 10;        // --warmup: high tasks sent first, not timed
  std::uint32_t interval_ms = 20; // --interval-ms: between two high submits
  std::size_t flood = 0;          // --flood: low tasks kept in flight; 0 = none
  std::uint32_t flood_ms = 50;    // --flood-ms: each low task's sleep
};

struct share_flags {
  std::string broker;           // --broker
  std::uint32_t seconds = 10;   // --seconds: how long the outcomes count
  std::size_t window = 64;      // --window: tasks each client keeps in flight
  std::uint32_t task_ms = 5;    // --task-ms: each task's sleep
};

// One client keeping a window of the same task in flight: each outcome sends the next until stop().
// The counters are written on the client's I/O thread and read by others, under `lock`.
struct stream {
  argon::client* c = nullptr;            // the client that sends
  const char* label = "";                // for messages: "flood", "client A"
  std::string task;                      // task name
  std::string payload;                   // its payload
  argon::submit_options opts;            // its lane
  std::mutex lock;                       // guards the fields below
  std::condition_variable drained;       // notified when in_flight reaches 0 after stop()
  bool running = true;                   // outcomes send the next task
  std::size_t in_flight = 0;             // submitted, no outcome yet
  std::size_t done = 0;                  // outcomes ok
  std::size_t failed = 0;                // outcomes not ok

  // Sends n tasks; from then on each outcome sends one more while running.
  void start(std::size_t n) {
    {
      std::lock_guard<std::mutex> hold(lock);
      in_flight += n;
    }
    for (std::size_t i = 0; i < n; ++i) send();
  }
  // The outcome's slot in the window is taken by the next task, so in_flight counts it still.
  void send() {
    c->submit(task, payload, opts, [this](argon::result r) { on_outcome(r); });
  }
  void on_outcome(const argon::result& r) {
    bool again = false;
    {
      std::lock_guard<std::mutex> hold(lock);
      if (r.ok() && r.value() == payload) {
        ++done;
      } else if (failed++ < 5) {
        std::fprintf(stderr, "priority_load: a %s task of the %s failed (%s): %s\n", task.c_str(), label,
                     argon::common::printable(r.ok() ? std::string("wrong_result") : r.error_kind()).c_str(),
                     argon::common::printable(r.ok() ? r.value() : r.error_message()).c_str());
      }
      again = running;
      if (!again && --in_flight == 0) drained.notify_all();
    }
    if (again) send();
  }
  // Stops sending; returns the tasks done so far (later outcomes are not counted in it).
  std::size_t stop() {
    std::lock_guard<std::mutex> hold(lock);
    running = false;
    return done;
  }
  // Waits for every task in flight to end; returns how many failed in all.
  std::size_t drain() {
    std::unique_lock<std::mutex> hold(lock);
    drained.wait(hold, [this] { return in_flight == 0; });
    return failed;
  }
  std::size_t done_so_far() {
    std::lock_guard<std::mutex> hold(lock);
    return done;
  }
};

argon::client_options options_for(const std::string& broker) {
  argon::client_options o;
  o.broker = broker;
  o.insecure = true;
  return o;
}

std::uint32_t percentile(std::vector<std::uint32_t> v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

double ms(std::uint32_t us) { return static_cast<double>(us) / 1000.0; }

// The broker's low lane and busy slots at their lowest while the high tasks run.
struct flood_watch {
  std::atomic<bool> stop{false};     // set when the high tasks are done
  std::uint64_t low_queued_min = 0;  // lowest queue_low seen
  std::uint64_t busy_slots_min = 0;  // lowest busy_slots seen
  std::size_t samples = 0;           // status replies read
};

// A status the broker does not answer ends the watch; the tasks' outcomes tell the rest.
void watch_flood(argon::client& c, flood_watch& w) {
  while (!w.stop.load()) {
    argon::common::status_reply_msg s;
    try {
      s = c.status();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "priority_load: the broker's status: %s\n", e.what());
      return;
    }
    w.low_queued_min = w.samples == 0 ? s.queue_low : std::min(w.low_queued_min, s.queue_low);
    w.busy_slots_min = w.samples == 0 ? s.busy_slots : std::min(w.busy_slots_min, s.busy_slots);
    ++w.samples;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Waits until the broker's low lane holds a full queue: every slot that takes low tasks is then busy.
void wait_for_full_queue(argon::client& c, std::uint64_t limit) {
  const auto give_up = steady::now() + std::chrono::seconds(30);
  while (c.status().queue_low < limit) {
    if (steady::now() > give_up) throw argon::config_error("the flood never filled the broker's queue in 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The high tasks: each one's latency by its index, written on the client's I/O thread.
struct probe {
  std::mutex lock;                       // guards the fields below
  std::vector<std::uint32_t> latency_us; // submit to outcome, by task
  std::size_t outcomes = 0;              // tasks finished, ok or not
  std::size_t failed = 0;                // of which not ok
  std::promise<void> finished;           // set at the last outcome
};

// Submits high task i now; its outcome records the latency.
void submit_high(argon::client& c, probe& p, std::size_t i, const std::string& payload, const argon::submit_options& high) {
  const auto submitted = steady::now();
  c.submit("echo", payload, high, [&p, &payload, i, submitted](argon::result r) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - submitted);
    std::lock_guard<std::mutex> hold(p.lock);
    p.latency_us[i] = static_cast<std::uint32_t>(us.count());
    if (!(r.ok() && r.value() == payload) && p.failed++ < 5)
      std::fprintf(stderr, "priority_load: high echo task %zu failed (%s): %s\n", i,
                   argon::common::printable(r.ok() ? std::string("wrong_result") : r.error_kind()).c_str(),
                   argon::common::printable(r.ok() ? r.value() : r.error_message()).c_str());
    if (++p.outcomes == p.latency_us.size()) p.finished.set_value();
  });
}

int run_latency(const latency_flags& f) {
  stream flood;  // before the clients: a client that ends with tasks unfinished calls their callbacks
  argon::client high_client(options_for(f.broker));
  argon::client flood_client(options_for(f.broker));
  const auto st = high_client.status();
  if (st.slots == 0) throw argon::config_error("the broker has no worker slots connected; start the workers first");

  flood.c = &flood_client;
  flood.label = "flood";
  flood.task = "sleep";
  flood.payload = std::to_string(f.flood_ms);
  flood.opts.pri = priority::low;
  flood_watch watch;
  std::thread watcher;
  if (f.flood > 0) {
    flood.start(f.flood);
    try {
      wait_for_full_queue(flood_client, st.queue_limit);
    } catch (...) {
      flood.stop();  // the client's end cancels what is in flight: none of it may send again
      throw;
    }
    watcher = std::thread([&] { watch_flood(flood_client, watch); });
  }

  // The high tasks go out on a fixed schedule, whatever the ones before them are doing.
  argon::submit_options high;
  high.pri = priority::high;
  const std::string payload(64, 'h');
  probe p;
  p.latency_us.resize(f.warmup + f.count);
  auto finished = p.finished.get_future();
  std::size_t low_before = 0;
  const auto t0 = steady::now();
  for (std::size_t i = 0; i < f.warmup + f.count; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(std::uint64_t{f.interval_ms} * i));
    if (i == f.warmup) low_before = flood.done_so_far();
    submit_high(high_client, p, i, payload, high);
  }
  finished.wait();
  const std::size_t low_done = flood.stop() - low_before;
  watch.stop = true;
  if (watcher.joinable()) watcher.join();
  const std::size_t low_failed = f.flood > 0 ? flood.drain() : 0;

  std::size_t high_failed = 0;
  std::vector<std::uint32_t> latency_us;
  {
    std::lock_guard<std::mutex> hold(p.lock);
    high_failed = p.failed;
    latency_us.assign(p.latency_us.begin() + static_cast<long>(f.warmup), p.latency_us.end());
  }
  const auto p50 = percentile(latency_us, 0.50), p99 = percentile(latency_us, 0.99);
  const auto max = latency_us.empty() ? 0 : *std::max_element(latency_us.begin(), latency_us.end());
  const auto slots = static_cast<unsigned long long>(st.slots), limit = static_cast<unsigned long long>(st.queue_limit);
  if (f.flood > 0)
    std::printf("priority_load: %zu high echo tasks, one every %u ms, beside %zu low sleep %u ms tasks in flight, on %llu slots (queue limit %llu)\n",
                f.count, f.interval_ms, f.flood, f.flood_ms, slots, limit);
  else
    std::printf("priority_load: %zu high echo tasks, one every %u ms, no flood, on %llu slots (queue limit %llu)\n", f.count,
                f.interval_ms, slots, limit);
  const std::size_t sent = f.warmup + f.count;
  std::printf("  high tasks   %zu sent (%zu ok, %zu failed), the first %zu not timed\n", sent, sent - high_failed, high_failed, f.warmup);
  std::printf("  latency      p50 %.2f ms, p99 %.2f ms, max %.2f ms, submit to outcome\n", ms(p50), ms(p99), ms(max));
  if (f.flood > 0)
    std::printf("  flood        %zu low tasks done meanwhile, %zu failed; at least %llu queued in the low lane and %llu slots busy in %zu samples\n",
                low_done, low_failed, static_cast<unsigned long long>(watch.low_queued_min),
                static_cast<unsigned long long>(watch.busy_slots_min), watch.samples);
  std::printf("sent=%zu timed=%zu ok=%zu failed=%zu p50_us=%u p99_us=%u max_us=%u slots=%llu queue_limit=%llu flood=%zu low_done=%zu "
              "low_failed=%zu low_queued_min=%llu busy_slots_min=%llu samples=%zu\n",
              sent, f.count, sent - high_failed, high_failed, p50, p99, max, slots, limit, f.flood, low_done,
              low_failed, static_cast<unsigned long long>(watch.low_queued_min),
              static_cast<unsigned long long>(watch.busy_slots_min), watch.samples);
  return high_failed + low_failed == 0 ? argon::exit_ok : argon::exit_task_failed;
}

int run_share(const share_flags& f) {
  stream a, b;  // before the clients: a client that ends with tasks unfinished calls their callbacks
  argon::client a_client(options_for(f.broker));
  argon::client b_client(options_for(f.broker));
  const auto st = a_client.status();
  (void)b_client.status();  // both in contact before the clock starts
  if (st.slots == 0) throw argon::config_error("the broker has no worker slots connected; start the workers first");

  a.c = &a_client;
  b.c = &b_client;
  a.label = "client A";
  b.label = "client B";
  for (stream* s : {&a, &b}) {
    s->task = "sleep";
    s->payload = std::to_string(f.task_ms);
    s->opts.pri = priority::normal;
  }
  const auto t0 = steady::now();
  // The windows go out interleaved, so neither client starts ahead.
  {
    std::lock_guard<std::mutex> ha(a.lock);
    std::lock_guard<std::mutex> hb(b.lock);
    a.in_flight = b.in_flight = f.window;
  }
  for (std::size_t i = 0; i < f.window; ++i) {
    a.send();
    b.send();
  }
  std::this_thread::sleep_until(t0 + std::chrono::seconds(f.seconds));
  const std::size_t a_done = a.stop(), b_done = b.stop();
  const double seconds = std::chrono::duration<double>(steady::now() - t0).count();
  const std::size_t failed = a.drain() + b.drain();
  const auto busy = a_client.status().busy_replies;

  const double lo = static_cast<double>(std::min(a_done, b_done)), hi = static_cast<double>(std::max(a_done, b_done));
  const double min_max = hi > 0 ? lo / hi : 0.0;
  const double a_b = b_done > 0 ? static_cast<double>(a_done) / static_cast<double>(b_done) : 0.0;
  const double rate = static_cast<double>(a_done + b_done) / seconds;
  // What the slots could run if they never waited: slots × 1000 / task_ms tasks a second.
  const double ideal = static_cast<double>(st.slots) * 1000.0 / std::max<std::uint32_t>(f.task_ms, 1);
  const double utilisation = f.task_ms > 0 ? rate / ideal : 0.0;
  const auto slots = static_cast<unsigned long long>(st.slots), limit = static_cast<unsigned long long>(st.queue_limit);
  std::printf("priority_load: two clients, each keeping %zu sleep %u ms tasks in flight in the normal lane for %u s, on %llu slots (queue limit %llu)\n",
              f.window, f.task_ms, f.seconds, slots, limit);
  std::printf("  client A     %zu tasks done\n", a_done);
  std::printf("  client B     %zu tasks done\n", b_done);
  std::printf("  ratio        %.4f smaller/larger, %.4f A/B\n", min_max, a_b);
  std::printf("  throughput   %.0f tasks/s", rate);
  if (f.task_ms > 0) std::printf(", %.1f%% of %llu slots x %.0f tasks/s", 100.0 * utilisation, slots, ideal / static_cast<double>(st.slots));
  std::printf("\n  failed       %zu; the broker answered BUSY %llu times\n", failed, static_cast<unsigned long long>(busy));
  std::printf("a_done=%zu b_done=%zu failed=%zu min_max=%.4f a_b=%.4f tasks_per_s=%.0f utilisation=%.4f slots=%llu queue_limit=%llu busy_replies=%llu\n",
              a_done, b_done, failed, min_max, a_b, rate, utilisation, slots, limit, static_cast<unsigned long long>(busy));
  return failed == 0 ? argon::exit_ok : argon::exit_task_failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"priority_load: high-priority latency under a low-priority flood, and the shares of two equal clients"};
  app.require_subcommand(1);
  latency_flags lf;
  auto* lat = app.add_subcommand("latency", "Time high echo tasks one at a time, beside a flood of low sleep tasks or none");
  lat->add_option("--broker", lf.broker, "Broker endpoint (tcp://host:port or host:port); plaintext")->required();
  lat->add_option("--count,-n", lf.count, "High tasks timed (default 300)")->check(CLI::Range(1, 1000000));
  lat->add_option("--warmup", lf.warmup, "High tasks sent first and not timed (default 10)")->check(CLI::Range(0, 1000000));
  lat->add_option("--interval-ms", lf.interval_ms, "From one high submit to the next, ms (default 20)")->check(CLI::Range(0, 60000));
  lat->add_option("--flood", lf.flood, "Low tasks the flood keeps in flight; 0: no flood (default 0)")->check(CLI::Range(0, 1000000));
  lat->add_option("--flood-ms", lf.flood_ms, "Each low task's sleep, ms (default 50)")->check(CLI::Range(0, 86400000));
  share_flags sf;
  auto* share = app.add_subcommand("share", "Two clients with the same window of the same task: how many each gets done");
  share->add_option("--broker", sf.broker, "Broker endpoint (tcp://host:port or host:port); plaintext")->required();
  share->add_option("--seconds", sf.seconds, "How long outcomes count, s (default 10)")->check(CLI::Range(1, 86400));
  share->add_option("--window,-w", sf.window, "Tasks each client keeps in flight (default 64)")->check(CLI::Range(1, 100000));
  share->add_option("--task-ms", sf.task_ms, "Each task's sleep, ms (default 5)")->check(CLI::Range(0, 86400000));
  if (auto code = argon::common::parse_or_exit(app, argc, argv, "priority_load")) return *code;
  try {
    return lat->parsed() ? run_latency(lf) : run_share(sf);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "priority_load: error: %s\n", e.what());
    return argon::exit_code_of(e);
  }
}
