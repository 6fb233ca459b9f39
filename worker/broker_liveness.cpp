#include "broker_liveness.hpp"

#include <algorithm>

namespace argon::worker {

using namespace argon::common;

broker_liveness::broker_liveness(const clock& clock, millis silence_limit)
    : clock_(clock), limit_(silence_limit), last_heard_(clock.now()) {}

bool broker_liveness::heard() {
  last_heard_ = clock_.now();
  backoff_.reset();
  const bool was_reconnected = reconnected_;
  reconnected_ = false;
  return was_reconnected;
}

bool broker_liveness::named(const std::string& instance) {
  if (instance == instance_) return false;
  const bool first = instance_.empty();
  instance_ = instance;
  return !first;
}

bool broker_liveness::reconnect_due() {
  const auto now = clock_.now();
  if (now - last_heard_ <= limit_) return false;
  if (reconnected_ && now < next_try_) return false;
  reconnected_ = true;
  next_try_ = now + backoff_.next();
  return true;
}

millis broker_liveness::silent_for() const {
  return std::chrono::duration_cast<millis>(clock_.now() - last_heard_);
}

millis broker_liveness::until_next_try() const {
  const auto now = clock_.now();
  if (!reconnected_ || now >= next_try_) return millis(0);
  return std::chrono::duration_cast<millis>(next_try_ - now);
}

}  // namespace argon::worker
