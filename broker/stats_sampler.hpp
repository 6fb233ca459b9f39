// Builds the monitor's once-a-second stats event: the broker's snapshot,
// rates from the counters' change since the previous sample, and
// percentiles of queue wait and of run time over a sliding window (fed by
// the dispatch and outcome hooks). Time comes from the broker's clock.
#pragma once

#include <cstdint>

#include "clock.hpp"
#include "latency_window.hpp"
#include "monitor_events.hpp"
#include "protocol.hpp"

namespace argon::broker {

class stats_sampler {
 public:
  explicit stats_sampler(std::size_t window_s = 10) : wait_(window_s), run_(window_s) {}

  void record_wait(common::time_point now, std::chrono::nanoseconds d) { wait_.add(now, d); }
  void record_run(common::time_point now, std::chrono::nanoseconds d) { run_.add(now, d); }
  // One stats event; dropped counts are the feed's.
  common::monitor::stats sample(common::time_point now, const common::status_reply_msg& s, std::uint64_t dropped,
                                std::uint64_t dropped_total);

 private:
  latency_window wait_;              // queue entry to dispatch
  latency_window run_;               // dispatch to outcome
  common::time_point last_{};        // previous sample; epoch before the first
  std::uint64_t last_outcomes_ = 0;  // completed + failed at the previous sample
  std::uint64_t last_busy_ = 0;      // busy replies at the previous sample
};

}  // namespace argon::broker
