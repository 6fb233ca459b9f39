// keepalive: the broker's liveness as seen by the client (see keepalive.hpp).
#include "keepalive.hpp"

#include <algorithm>

namespace argon {

using common::millis;
using common::time_point;

void keepalive::start(time_point now) {
  backoff_.reset();
  next_reconnect_ = now + settings_.heartbeat * settings_.liveness;  // as long as an alive broker may be silent
}

void keepalive::heard(time_point now) { last_heard_ = std::max(last_heard_, now); }

contact_news keepalive::contact(time_point now, const std::string& instance) {
  heard(now);
  const link_state before = state_;
  const bool same = instance == instance_;
  instance_ = instance;
  set_state(link_state::alive, now);
  if (before == link_state::connecting) return contact_news::first_contact;
  if (!same) return contact_news::restarted;
  return before == link_state::lost ? contact_news::back : contact_news::same_broker;
}

tick_action keepalive::tick(time_point now) {
  switch (state_) {
    case link_state::connecting:
      return reconnect_when_due(now, tick_action::ping);
    case link_state::alive:
      if (idle_) return tick_action::none;
      if (now - std::max(last_heard_, busy_since_) < settings_.heartbeat * settings_.liveness) return tick_action::ping;
      set_state(link_state::lost, now);
      return tick_action::lose;
    case link_state::lost:
      return reconnect_when_due(now, tick_action::none);
  }
  return tick_action::none;
}

bool keepalive::set_idle(bool idle, time_point now) {
  const bool resumed = idle_ && !idle;
  idle_ = idle;
  if (resumed) busy_since_ = now;
  return resumed && state_ == link_state::alive;
}

// A new socket drops whatever the old one still queued (PINGs included), so
// the queue stays short however long the broker is away.
tick_action keepalive::reconnect_when_due(time_point now, tick_action meanwhile) {
  if (now < next_reconnect_) return meanwhile;
  next_reconnect_ = now + backoff_.next();
  return tick_action::reconnect;
}

std::optional<time_point> keepalive::give_up_at(time_point waiting_since) const {
  switch (state_) {
    case link_state::connecting:
      return waiting_since + settings_.connect_timeout;
    case link_state::alive:
      return std::nullopt;
    case link_state::lost:
      if (settings_.reconnect_timeout.count() == 0) return std::nullopt;
      return std::max(lost_since_, waiting_since) + settings_.reconnect_timeout;
  }
  return std::nullopt;
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
