#include "latency_window.hpp"

#include <cmath>

namespace argon::broker {

latency_window::latency_window(std::size_t window_s) : ring_(window_s ? window_s : 1) {}

std::int64_t latency_window::second_of(common::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Bin b holds durations in [2^(b/8), 2^((b+1)/8)) µs; below 1 µs goes to bin 0, past the top to the last.
std::size_t latency_window::bin_of(std::chrono::nanoseconds d) {
  const double us = static_cast<double>(d.count()) / 1000.0;
  if (!(us > 1.0)) return 0;
  const auto b = static_cast<std::size_t>(std::log2(us) * 8.0);
  return b < bins ? b : bins - 1;
}

// The geometric middle of a bin, in ms.
double latency_window::bin_ms(std::size_t bin) { return std::exp2((static_cast<double>(bin) + 0.5) / 8.0) / 1000.0; }

bool latency_window::live(const second& s, std::int64_t now_s) const {
  return s.stamp >= 0 && s.stamp <= now_s && now_s - s.stamp < static_cast<std::int64_t>(ring_.size());
}

void latency_window::add(common::time_point now, std::chrono::nanoseconds d) {
  const std::int64_t now_s = second_of(now);
  second& s = ring_[static_cast<std::size_t>(now_s) % ring_.size()];
  if (s.stamp != now_s) {
    s.stamp = now_s;
    s.total = 0;
    s.hist.fill(0);
  }
  ++s.hist[bin_of(d)];
  ++s.total;
}

std::uint64_t latency_window::count(common::time_point now) const {
  const std::int64_t now_s = second_of(now);
  std::uint64_t n = 0;
  for (const second& s : ring_)
    if (live(s, now_s)) n += s.total;
  return n;
}

double latency_window::percentile_ms(common::time_point now, double q) const {
  const std::uint64_t n = count(now);
  if (n == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  const std::int64_t now_s = second_of(now);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    for (const second& s : ring_)
      if (live(s, now_s)) seen += s.hist[b];
    if (seen >= rank) return bin_ms(b);
  }
  return bin_ms(bins - 1);
}

}  // namespace argon::broker
