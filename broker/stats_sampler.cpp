#include "stats_sampler.hpp"

namespace argon::broker {

common::monitor::stats stats_sampler::sample(common::time_point now, const common::status_reply_msg& s,
                                             std::uint64_t dropped, std::uint64_t dropped_total) {
  common::monitor::stats e;
  e.workers = s.workers;
  e.slots = s.slots;
  e.busy_slots = s.busy_slots;
  e.queue_high = s.queue_high;
  e.queue_normal = s.queue_normal;
  e.queue_low = s.queue_low;
  e.queue_limit = s.queue_limit;
  e.queued_clients = s.queued_clients;
  const std::uint64_t outcomes = s.completed + s.failed;
  if (last_ != common::time_point{} && now > last_) {
    const double secs = std::chrono::duration<double>(now - last_).count();
    e.tasks_per_s = static_cast<double>(outcomes - last_outcomes_) / secs;
    e.busy_per_s = static_cast<double>(s.busy_replies - last_busy_) / secs;
  }
  last_ = now;
  last_outcomes_ = outcomes;
  last_busy_ = s.busy_replies;
  e.wait_p50_ms = wait_.percentile_ms(now, 0.50);
  e.wait_p95_ms = wait_.percentile_ms(now, 0.95);
  e.wait_p99_ms = wait_.percentile_ms(now, 0.99);
  e.run_p50_ms = run_.percentile_ms(now, 0.50);
  e.run_p95_ms = run_.percentile_ms(now, 0.95);
  e.run_p99_ms = run_.percentile_ms(now, 0.99);
  e.window_s = wait_.window_s();
  e.dropped = dropped;
  e.dropped_total = dropped_total;
  return e;
}

}  // namespace argon::broker
