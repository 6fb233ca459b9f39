// What a worker knows of its broker: when it last spoke, which instance it
// is, and when to try reconnecting while it is silent.
//
// Pure bookkeeping on an injected clock, so its rules are tested without
// sleeping. The broker counts as silent once nothing has come from it for
// the silence limit (liveness × heartbeat interval). While it stays silent,
// reconnect_due() says yes at once, then again after 1 s, 2 s, 4 s … up to
// 32 s; any message from the broker resets that backoff. The broker names a
// new instance id each time it starts, so a changed id means it restarted.
#pragma once

#include <string>

#include "backoff.hpp"
#include "clock.hpp"

namespace argon::worker {

class broker_liveness {
 public:

  broker_liveness(const common::clock& clock, common::millis silence_limit);

  // A message came from the broker. True if a reconnect had happened since it last spoke.
  bool heard();
  // The broker named its instance. True when it differs from the one it named before.
  bool named(const std::string& instance);
  // Whether to reconnect now; if so, the next try is scheduled after the current backoff.
  [[nodiscard]] bool reconnect_due();
  // How long the broker has been silent.
  [[nodiscard]] common::millis silent_for() const;
  // The wait until the next try if the broker stays silent (zero once it is due).
  [[nodiscard]] common::millis until_next_try() const;

 private:
  const common::clock& clock_;        // time source
  common::millis limit_;              // silence that counts as lost
  common::time_point last_heard_;     // last message from the broker
  common::time_point next_try_{};     // earliest next reconnect while still silent
  common::reconnect_backoff backoff_;  // gaps between reconnects while the broker is silent
  bool reconnected_ = false;          // a reconnect happened since the broker last spoke
  std::string instance_;              // the broker's instance id; empty until it names one
};

}  // namespace argon::worker
