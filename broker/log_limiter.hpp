// Bounds how many lines one kind of log event may write per second.
//
// A peer that sends garbage as fast as it can would otherwise fill the
// broker's log (and disk) with one warning per frame. allow() says whether
// to write this event; the first line after a quiet spell reports how many
// were held back, so the operator still sees the volume.
#pragma once

#include <cstdint>

#include "clock.hpp"

namespace argon::broker {

class log_limiter {
 public:
  explicit log_limiter(std::uint32_t per_second) : per_second_(per_second) {}

  // Whether to log this event now; suppressed() then gives how many were skipped before it.
  bool allow(common::time_point now) {
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= per_second_) {
      ++held_back_;
      return false;
    }
    ++in_window_;
    reported_ = held_back_;
    held_back_ = 0;
    return true;
  }
  // Events skipped between the previous allowed one and the last allowed one.
  [[nodiscard]] std::uint64_t suppressed() const { return reported_; }

 private:
  std::uint32_t per_second_;          // lines allowed per one-second window
  common::time_point window_start_{}; // start of the current window
  std::uint32_t in_window_ = 0;       // lines written in it
  std::uint64_t held_back_ = 0;       // events skipped since the last line
  std::uint64_t reported_ = 0;        // skipped count to mention in the current line
};

}  // namespace argon::broker
