// keepalive: the broker's liveness as seen by the client (see keepalive.hpp).
#include "keepalive.hpp"

#include <algorithm>

namespace argon {

using common::millis;
using common::time_point;

void keepalive::heard(time_point now) { last_heard_ = std::max(last_heard_, now); }

pong_news keepalive::pong(time_point now, const std::string& instance) {
  heard(now);
  const link_state before = state_;
  const bool same = instance == instance_;
  instance_ = instance;
  set_state(link_state::alive, now);
  if (before == link_state::connecting) return pong_news::first_contact;
  if (!same) return pong_news::restarted;
  return before == link_state::lost ? pong_news::back : pong_news::same_broker;
}

tick_action keepalive::tick(time_point now) {
  switch (state_) {
    case link_state::connecting:
      return tick_action::none;
    case link_state::alive:
      if (now - last_heard_ < settings_.heartbeat * settings_.liveness) return tick_action::ping;
      set_state(link_state::lost, now);
      return tick_action::lose;
    case link_state::lost:
      if (now < next_reconnect_) return tick_action::none;
      next_reconnect_ = now + backoff_.next();
      return tick_action::reconnect;
  }
  return tick_action::none;
}

void keepalive::set_state(link_state s, time_point now) {
  if (s == link_state::lost && state_ != link_state::lost) {
    lost_since_ = now;
    backoff_.reset();
    next_reconnect_ = now + backoff_.next();  // this tick reconnects; the next one waits 1 s
  }
  state_ = s;
}

}  // namespace argon
