// The clock that timing logic reads, so tests can drive it by hand.
//
// Heartbeats, expiry, aging, wait estimates and retry backoff take a
// clock& and never call steady_clock directly; tests pass a fake_clock
// and advance it instead of sleeping.
#pragma once

#include <chrono>

namespace argon::common {

using time_point = std::chrono::steady_clock::time_point;
using millis = std::chrono::milliseconds;

// Source of monotonic time.
class clock {
 public:
  virtual ~clock() = default;
  [[nodiscard]] virtual time_point now() const = 0;
};

// The real monotonic clock.
class steady_clock final : public clock {
 public:
  [[nodiscard]] time_point now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to.
class fake_clock final : public clock {
 public:
  [[nodiscard]] time_point now() const override { return now_; }
  void advance(std::chrono::nanoseconds d) { now_ += d; }

 private:
  time_point now_{std::chrono::hours(1)};  // current fake time
};

// Milliseconds since the Unix epoch, for deadlines that cross processes.
inline std::uint64_t unix_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace argon::common
