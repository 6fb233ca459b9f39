// Latency percentiles over a sliding window of whole seconds, in fixed memory.
//
// Samples go into one histogram per second, kept in a ring of window_s
// seconds; a second older than the window is cleared when its ring place is
// reused. Bins are logarithmic, 8 per doubling from 1 µs to about 19 hours,
// so a percentile is within about 9 % of the true value and memory never
// grows with the number of samples. Time comes from the caller (the
// broker's clock), so tests drive it by hand.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "clock.hpp"

namespace argon::broker {

class latency_window {
 public:
  explicit latency_window(std::size_t window_s = 10);

  // Records one duration observed at now.
  void add(common::time_point now, std::chrono::nanoseconds d);
  // The q-quantile (0 < q <= 1) in ms of the samples within the window ending at now; 0 when none.
  [[nodiscard]] double percentile_ms(common::time_point now, double q) const;
  // Samples within the window ending at now.
  [[nodiscard]] std::uint64_t count(common::time_point now) const;
  [[nodiscard]] std::size_t window_s() const { return ring_.size(); }

 private:
  static constexpr std::size_t bins = 8 * 36;  // 8 per doubling, 1 µs .. 2^36 µs
  struct second {
    std::int64_t stamp = -1;               // which second it holds; -1 when unused
    std::uint64_t total = 0;               // samples in it
    std::array<std::uint32_t, bins> hist{};  // samples per bin
  };
  static std::int64_t second_of(common::time_point t);
  static std::size_t bin_of(std::chrono::nanoseconds d);
  static double bin_ms(std::size_t bin);
  [[nodiscard]] bool live(const second& s, std::int64_t now_s) const;

  std::vector<second> ring_;  // one place per second of the window
};

}  // namespace argon::broker
