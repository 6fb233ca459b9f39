// keepalive: when the client pings the broker, when it gives the broker up
// for lost, and when it tries to reach it again.
//
// A state machine over times handed in by the caller, so its tests need no
// sleeping. Until the first PONG the link is connecting (the client's
// connect_timeout rules apply then). After it, the broker is alive while
// something has come from it within liveness x heartbeat, and lost after
// that. While lost, a reconnect is due at once, then 1 s, 2 s, 4 s ... apart,
// at most 32 s. A PONG ends a loss; a PONG whose instance id differs from the
// last one means the broker restarted and forgot every task it held.
#pragma once

#include <cstdint>
#include <string>

#include "backoff.hpp"
#include "clock.hpp"

namespace argon {

// Where the link to the broker stands.
enum class link_state { connecting, alive, lost };

// What a PONG means for the tasks in flight.
enum class pong_news {
  first_contact,  // the first answer ever: tasks sent so far are on their way
  same_broker,    // nothing new
  restarted,      // a new broker instance: it knows none of our tasks
  back,           // the same broker answers again after being lost
};

// What a heartbeat tick asks of the link.
enum class tick_action {
  none,       // wait
  ping,       // send a PING
  lose,       // the broker just went silent too long: give it up and reconnect now
  reconnect,  // still lost and the backoff has passed: reconnect again
};

// How often to ping and how much silence to bear.
struct keepalive_settings {
  common::millis heartbeat{1000};  // PING interval once the broker has answered
  std::uint32_t liveness = 3;      // heartbeats of silence before the broker is lost
};

class keepalive {
 public:

  explicit keepalive(keepalive_settings s) : settings_(s) {}

  // Any message came from the broker.
  void heard(common::time_point now);
  // A PONG came from the broker instance `instance`.
  pong_news pong(common::time_point now, const std::string& instance);
  // Called every heartbeat once the broker has answered.
  tick_action tick(common::time_point now);

  [[nodiscard]] link_state state() const { return state_; }
  [[nodiscard]] const std::string& instance() const { return instance_; }
  [[nodiscard]] common::time_point last_heard() const { return last_heard_; }
  [[nodiscard]] common::time_point lost_since() const { return lost_since_; }
  [[nodiscard]] const keepalive_settings& settings() const { return settings_; }

 private:
  void set_state(link_state s, common::time_point now);

  keepalive_settings settings_;                    // as given
  link_state state_ = link_state::connecting;      // changed only by set_state
  std::string instance_;                           // the broker instance that last answered
  common::time_point last_heard_{};                // when anything last came from the broker
  common::time_point lost_since_{};                // when the broker was given up for lost
  common::time_point next_reconnect_{};            // while lost: when to reconnect next
  common::reconnect_backoff backoff_;              // while lost: gaps between reconnects
};

}  // namespace argon
