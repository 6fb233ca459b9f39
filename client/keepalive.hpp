// keepalive: when the client pings the broker, when it gives the broker up
// for lost, when it tries to reach it again, and until when a task may wait
// for a broker it is not in contact with.
//
// A state machine over times handed in by the caller, so its tests need no
// sleeping. Until the first word naming a broker instance (a PONG, or a
// HEARTBEAT) the link is connecting: it pings every heartbeat, and after
// liveness heartbeats without contact it makes a new socket 1 s, 2 s, 4 s ...
// apart, at most 32 s, as it does when lost. After contact, the broker is
// alive while something has come from it within liveness x heartbeat, and
// lost after that. While lost, a reconnect is due at once, then on the same
// backoff. Contact with an instance the link has not been in contact with
// (the first one, a new one after a restart, or the same one after a loss)
// is news: the broker may hold none of what was sent before it.
//
// A client with nothing outstanding (no unfinished task, no status request)
// is idle: once in contact it neither pings nor judges the broker's
// silence, so ten thousand idle clients cost a broker nothing. When it has
// work again, silence counts from that moment, and the owner pings at once,
// so a broker that restarted or died meanwhile is noticed as quickly as
// while busy. Before contact and while lost, an idle client pings and
// reconnects as a busy one does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "backoff.hpp"
#include "clock.hpp"

namespace argon {

// Where the link to the broker stands.
enum class link_state { connecting, alive, lost };

// What a message naming the broker's instance means for the tasks in flight.
enum class contact_news {
  first_contact,  // the first answer ever: what was sent before it may have gone to a broker now gone
  same_broker,    // nothing new
  restarted,      // a new broker instance: it knows none of our tasks
  back,           // the same broker answers again after being lost
};

// What a heartbeat tick asks of the link.
enum class tick_action {
  ping,       // send a PING
  lose,       // the broker just went silent too long: give it up and reconnect now
  reconnect,  // no contact and the backoff has passed: make a new socket
  none,       // wait
};

// How often to ping, how much silence to bear, how long a task may wait without contact.
struct keepalive_settings {
  common::millis heartbeat{1000};          // PING interval, before and after the first contact
  std::uint32_t liveness = 3;              // heartbeats of silence before the broker is lost
  common::millis connect_timeout{5000};    // before the first contact: how long a task may wait for it
  common::millis reconnect_timeout{60000}; // while lost: how long a task may wait; 0 = for ever
};

class keepalive {
 public:
  explicit keepalive(keepalive_settings s) : settings_(s) {}

  // The link opened its first socket at now.
  void start(common::time_point now);
  // Any message came from the broker.
  void heard(common::time_point now);
  // A PONG or HEARTBEAT came from the broker instance `instance`.
  contact_news contact(common::time_point now, const std::string& instance);
  // The owner has nothing outstanding (true) or has work again (false). Returns
  // true when work resumes in contact with the broker: the owner should ping now.
  bool set_idle(bool idle, common::time_point now);
  // Called every heartbeat.
  tick_action tick(common::time_point now);
  // When a task waiting since waiting_since gives up on a broker the link is
  // not in contact with; empty while in contact, or when it never gives up.
  [[nodiscard]] std::optional<common::time_point> give_up_at(common::time_point waiting_since) const;

  [[nodiscard]] link_state state() const { return state_; }
  [[nodiscard]] bool in_contact() const { return state_ == link_state::alive; }
  [[nodiscard]] bool idle() const { return idle_; }
  [[nodiscard]] const std::string& instance() const { return instance_; }
  [[nodiscard]] common::time_point last_heard() const { return last_heard_; }
  [[nodiscard]] common::time_point lost_since() const { return lost_since_; }
  [[nodiscard]] const keepalive_settings& settings() const { return settings_; }

 private:
  void set_state(link_state s, common::time_point now);
  tick_action reconnect_when_due(common::time_point now, tick_action meanwhile);

  keepalive_settings settings_;                    // as given
  link_state state_ = link_state::connecting;      // changed only by set_state
  std::string instance_;                           // the broker instance that last answered
  common::time_point last_heard_{};                // when anything last came from the broker
  bool idle_ = true;                               // nothing outstanding: no pings, silence not judged
  common::time_point busy_since_{};                // when work last resumed; silence counts from here at the earliest
  common::time_point lost_since_{};                // when the broker was given up for lost
  common::time_point next_reconnect_{};            // without contact: when to make a new socket next
  common::reconnect_backoff backoff_;              // without contact: gaps between reconnects
};

}  // namespace argon
