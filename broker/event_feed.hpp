// The broker's monitor socket: publishes events and never waits for anyone.
//
// An XPUB bound at --monitor (a CURVE server with the broker's keys and the
// same ZAP domain when the broker has keys, so the client and worker keys
// both admit a monitor). Each event goes out as [name][msgpack map] with
// ZMQ_DONTWAIT; ZMQ_XPUB_NODROP makes a full pipe answer EAGAIN instead of
// dropping silently, so the feed drops the event itself, counts it and
// logs the count at most every ten seconds. SNDHWM bounds what a stopped
// subscriber can make the broker hold. Subscription messages are read
// from the loop (ZMQ_XPUB_VERBOSE passes each new subscriber's) and kept
// in a subscription_set, whose bits say which events anybody wants.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "clock.hpp"
#include "keys.hpp"
#include "monitor_events.hpp"
#include "subscription_set.hpp"
#include "zmq_watch.hpp"

namespace argon::broker {

class event_feed {
 public:
  // Called after each subscription message, with its bytes.
  using on_subscription = std::function<void(std::string_view)>;

  event_feed(zmq::context_t& ctx, uv_loop_t* loop, const std::string& endpoint, const common::role_keys* keys,
             common::clock& clk, on_subscription on_change);
  event_feed(const event_feed&) = delete;
  event_feed& operator=(const event_feed&) = delete;
  ~event_feed();

  // Sends one event now, or drops and counts it when the pipe is full.
  void publish(common::monitor::body b);
  // Publishes b under topic_prefix + its name: a replay for one subscriber (monitor_events.hpp).
  void publish_to(std::string_view topic_prefix, common::monitor::body b);
  // Reads waiting subscription messages; call after a burst of sends (they can consume the fd's edge).
  void poll();
  // Events dropped since the last call; the total since the start.
  std::uint64_t take_dropped();
  [[nodiscard]] std::uint64_t dropped_total() const { return dropped_total_; }
  [[nodiscard]] const subscription_set& subscriptions() const { return subs_; }
  // The endpoint actually bound.
  [[nodiscard]] std::string endpoint() const;

  static constexpr int send_hwm = 10000;  // events held for one subscriber at most

 private:
  bool read_one();
  void count_drop();

  common::clock& clock_;                      // for drop log pacing
  zmq::socket_t pub_;                         // the XPUB
  subscription_set subs_;                     // who wants what
  on_subscription on_change_;                 // tells the owner
  std::uint64_t dropped_ = 0;                 // since take_dropped()
  std::uint64_t dropped_total_ = 0;           // since the start
  std::uint64_t dropped_logged_ = 0;          // total at the last drop log line
  common::time_point last_drop_log_{};        // when that line was written
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on pub_
};

}  // namespace argon::broker
