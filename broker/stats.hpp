// Broker counters and running averages, for STATUS, BUSY hints and aging.
//
// Averages are exponentially weighted (the last ~20 samples dominate, as
// Argon's tracker kept the last 20 durations), so they follow a changing
// workload without storing samples.
#pragma once

#include <cstdint>

#include "clock.hpp"

namespace argon::broker {

// An exponentially weighted moving average of durations in microseconds.
class ewma {
 public:
  void add(double sample_us) { value_ = seen_ ? value_ + (sample_us - value_) / 20.0 : sample_us; seen_ = true; }
  [[nodiscard]] double value_us() const { return value_; }
  [[nodiscard]] bool empty() const { return !seen_; }

 private:
  double value_ = 0;   // current average
  bool seen_ = false;  // any sample yet
};

struct stats {
  common::time_point started;        // broker start, for uptime
  std::uint64_t submitted = 0;       // SUBMITs accepted
  std::uint64_t completed = 0;       // RESULTs sent
  std::uint64_t failed = 0;          // FAILEDs sent
  std::uint64_t busy_replies = 0;    // BUSYs sent
  std::uint64_t protocol_errors = 0; // malformed or refused messages
  ewma run_time;                     // dispatch to result
  ewma wait_time;                    // queue entry to dispatch
};

}  // namespace argon::broker
