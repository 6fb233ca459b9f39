// What the broker tells about itself, with --monitor: the event feed.
//
// The broker calls one hook per event from its handlers. Each hook is
// inline and first tests one bit of wanted_, which is zero without
// --monitor and otherwise has a bit per event kind some subscriber wants,
// so an event nobody reads costs a branch and builds nothing; the work is
// in observer.cpp. Trace hooks (received, sent) see every protocol message.
// The stats event goes out once a second from a timer, with the rates and
// percentiles the stats_sampler keeps; a new subscriber to worker_joined
// gets every worker that has said HELLO and not left again (at most once a
// second, from the worker registry), so a monitor started late still sees
// them.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "codec.hpp"
#include "event_feed.hpp"
#include "stats_sampler.hpp"
#include "task.hpp"
#include "task_queue.hpp"
#include "uv_handles.hpp"
#include "worker_registry.hpp"

namespace argon::broker {

class observer {
 public:
  using snapshot_fn = std::function<common::status_reply_msg()>;
  template <class T> static constexpr std::uint32_t bit = 1u << common::monitor::kind_index<T>();
  using ev = common::monitor::body;

  explicit observer(common::clock& clk) : clock_(clk) {}
  // Binds the monitor socket (--monitor); snapshot gives the stats event's
  // state, queue its top clients, workers the workers to replay to a new subscriber.
  void open_feed(zmq::context_t& ctx, uv_loop_t* loop, const std::string& endpoint, const common::role_keys* keys,
                 snapshot_fn snapshot, const task_queue& queue, const worker_registry& workers);
  // How many clients the stats event's top_clients names.
  static constexpr std::size_t top_clients_shown = 5;
  // Unbinds it (before the context goes).
  void close_feed();
  [[nodiscard]] bool feeding() const { return feed_ != nullptr; }
  [[nodiscard]] std::string feed_endpoint() const { return feed_ ? feed_->endpoint() : ""; }
  [[nodiscard]] event_feed* feed() { return feed_.get(); }

  // Workers: one said HELLO (or came back), one left (bye, expired, disconnected).
  void worker_joined(const worker_record& w) {
    if (wanted_ & bit<common::monitor::worker_joined>) publish(common::monitor::worker_joined{w.id, w.capacity, w.address});
  }
  void worker_left(std::string_view worker, const char* reason) {
    if (wanted_ & bit<common::monitor::worker_left>) publish(common::monitor::worker_left{std::string(worker), reason});
  }

  // Tasks.
  void task_submitted(const task& t) {
    if (wanted_ & bit<common::monitor::task_submitted>) on_submitted(t);
  }
  void task_dispatched(const task& t, const slot& s) {
    if (wanted_ & (bit<common::monitor::task_dispatched> | bit<common::monitor::stats>)) on_dispatched(t, s);
  }
  void task_finished(const task& t, const common::body& outcome) {
    if (wanted_ & (bit<common::monitor::task_done> | bit<common::monitor::task_failed> | bit<common::monitor::stats>))
      on_finished(t, outcome);
  }
  // A SUBMIT the broker failed at once (unknown task, program not allowed, bad
  // request, payload too large): no task was created, but operators see it.
  void task_refused(const std::string& id, const std::string& kind, const std::string& message) {
    if (wanted_ & bit<common::monitor::task_failed>) publish(common::monitor::task_failed{id, kind, message, ""});
  }
  void task_requeued(const task& t, const char* why) {
    if (wanted_ & bit<common::monitor::task_requeued>) publish(common::monitor::task_requeued{t.id, t.attempt, why});
  }
  // For the PROGRESS handler: a worker's progress on a task it runs.
  void task_progress(const std::string& id, std::uint32_t percent, const std::string& message) {
    if (wanted_ & bit<common::monitor::task_progress>) publish(common::monitor::task_progress{id, percent, message});
  }

  // Connections (from the ZAP handler and the socket monitor).
  void auth_failed(const std::string& address, const std::string& mechanism, const std::string& why) {
    if (wanted_ & bit<common::monitor::auth_failed>) publish(common::monitor::auth_failed{address, mechanism, why});
  }
  void connection(bool up, const std::string& address);
  [[nodiscard]] bool wants_connections() const { return feed_ != nullptr; }

  // Protocol messages, for the trace (and BUSY for the busy event).
  void received(std::string_view peer, const common::message& m) {
    if (wanted_ & bit<common::monitor::trace>) on_received(peer, m);
  }
  // Every message the broker sends comes here, from its outbox.
  void sent(std::string_view peer, const common::body& b, std::size_t payload_bytes) {
    if (wanted_ & (bit<common::monitor::trace> | bit<common::monitor::busy>)) on_sent(peer, b, payload_bytes);
  }

 private:
  void on_submitted(const task& t);
  void on_dispatched(const task& t, const slot& s);
  void on_finished(const task& t, const common::body& outcome);
  void on_received(std::string_view peer, const common::message& m);
  void on_sent(std::string_view peer, const common::body& b, std::size_t payload_bytes);
  void trace_out(std::string_view peer, common::command c, std::string_view id, std::size_t payload_bytes,
                 std::string detail);
  void on_subscription(std::string_view message);
  static constexpr unsigned max_replays_per_tick = 16;   // workers replayed to at most this many new subscribers a second
  static constexpr std::size_t max_replays_due = 1024;  // replays that may wait for a later tick
  void tick();
  void replay_workers(std::string_view topic);
  void replay_pending();
  void publish(ev e) { feed_->publish(std::move(e)); }

  common::clock& clock_;                  // the broker's clock
  const worker_registry* workers_ = nullptr;  // for the replay; set with the feed
  const task_queue* queue_ = nullptr;         // for the top clients; set with the feed
  std::uint32_t wanted_ = 0;              // bit per event kind somebody wants; 0 without --monitor
  stats_sampler sampler_;                 // rates and percentiles for the stats event
  snapshot_fn snapshot_;                  // the broker's state, for the stats event
  common::role last_in_ = common::role::client;  // role of the last message received (whom ERROR goes to)
  std::deque<std::string> replays_due_;   // replay topics subscribed to and not yet served, oldest first
  unsigned replays_this_tick_ = 0;        // replays served since the last tick (at most max_replays_per_tick)
  std::unique_ptr<event_feed> feed_;      // the XPUB; null without --monitor
  std::unique_ptr<common::timer> ticker_; // once a second: stats, replay, subscriptions
};

}  // namespace argon::broker
