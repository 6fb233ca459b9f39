// The reconnect backoff that workers and clients share: while the broker
// stays silent, tries are 1 s, 2 s, 4 s … apart, at most 32 s; any word from
// the broker starts the sequence over. libzmq's own TCP reconnects are
// capped at the same maximum (ZMQ_RECONNECT_IVL_MAX).
#pragma once

#include <algorithm>

#include "clock.hpp"

namespace argon::common {

class reconnect_backoff {
 public:
  static constexpr millis first{1000};    // the wait after the first try
  static constexpr millis largest{32000}; // no wait is longer

  // The wait before the next try; each call doubles the one after it, up to the largest.
  millis next() {
    const millis wait = wait_;
    wait_ = std::min(wait_ * 2, largest);
    return wait;
  }
  // The broker spoke: the next silence starts again at the first wait.
  void reset() { wait_ = first; }

 private:
  millis wait_{first};  // what next() returns
};

}  // namespace argon::common
