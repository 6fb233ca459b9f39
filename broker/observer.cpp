// The work behind the observer's hooks: turning broker objects into monitor
// events, the once-a-second tick, and the worker replay for new subscribers.
#include "observer.hpp"

#include "log.hpp"

namespace argon::broker {

using namespace argon::common;
namespace mon = argon::common::monitor;

namespace {

const char* role_name(role r) {
  switch (r) {
    case role::client: return "client";
    case role::slot: return "slot";
    case role::control: return "control";
    case role::broker: return "broker";
  }
  return "unknown";
}

// A few more fields of a message for its trace line.
std::string detail_of(const body& b) {
  return std::visit([](const auto& m) -> std::string {
    using T = std::decay_t<decltype(m)>;
    if constexpr (std::is_same_v<T, submit_msg>) return fmt::format("task={} pri={}", m.task, priority_name(m.pri));
    else if constexpr (std::is_same_v<T, task_msg>) return fmt::format("task={} attempt={}", m.task, m.attempt);
    else if constexpr (std::is_same_v<T, done_msg>) return m.ok ? "ok" : "failed kind=" + (m.kind.empty() ? "task_error" : m.kind);
    else if constexpr (std::is_same_v<T, failed_msg>) return "kind=" + m.kind;
    else if constexpr (std::is_same_v<T, busy_msg>) return fmt::format("reason={} depth={}/{}", m.reason, m.depth, m.limit);
    else if constexpr (std::is_same_v<T, hello_msg>) return fmt::format("worker={} capacity={}", m.worker_id, m.capacity);
    else if constexpr (std::is_same_v<T, error_msg>) return "kind=" + m.kind;
    else if constexpr (std::is_same_v<T, progress_msg>) return fmt::format("{}%", m.percent);
    else return "";
  }, b);
}

// Whom a broker message goes to; ERROR answers whoever spoke last.
role recipient(command c, role last_in) {
  switch (c) {
    case command::task: return role::slot;
    case command::heartbeat: case command::cancel: return role::control;
    case command::error: return last_in;
    default: return role::client;
  }
}

}  // namespace

void observer::open_feed(zmq::context_t& ctx, uv_loop_t* loop, const std::string& endpoint, const role_keys* keys,
                         snapshot_fn snapshot, const task_queue& queue, const worker_registry& workers) {
  snapshot_ = std::move(snapshot);
  queue_ = &queue;
  workers_ = &workers;
  feed_ = std::make_unique<event_feed>(ctx, loop, endpoint, keys, clock_, [this](std::string_view m) { on_subscription(m); });
  ticker_ = std::make_unique<timer>(loop, [this] { tick(); });
  ticker_->start(millis(1000), millis(1000));
}

void observer::close_feed() {
  wanted_ = 0;
  ticker_.reset();
  feed_.reset();
}

// A subscription to a replay topic asks for the workers, for that subscriber
// alone. Each replay is one event per worker, so a burst of new subscribers
// is served max_replays_per_tick a second, and at most max_replays_due wait.
void observer::on_subscription(std::string_view message) {
  wanted_ = feed_->subscriptions().wanted();
  const std::string_view topic = message.substr(std::min<std::size_t>(1, message.size()));
  if (message.empty() || message[0] != 1 || !topic.starts_with(mon::replay_prefix) || topic.size() > mon::max_replay_topic)
    return;
  if (replays_due_.size() >= max_replays_due) return log::warn("monitor: {} replays wait already; dropped one", replays_due_.size());
  replays_due_.emplace_back(topic);
  replay_pending();
}

void observer::replay_pending() {
  for (; !replays_due_.empty() && replays_this_tick_ < max_replays_per_tick; ++replays_this_tick_) {
    replay_workers(replays_due_.front());
    replays_due_.pop_front();
  }
}

void observer::replay_workers(std::string_view topic) {
  workers_->each_worker([&](const worker_record& w) {
    if (w.watched && !w.leaving) feed_->publish_to(topic, mon::worker_joined{w.id, w.capacity, w.address});
  });
}

void observer::tick() {
  replays_this_tick_ = 0;
  replay_pending();
  if (wanted_ & bit<mon::stats>) {
    const auto dropped = feed_->take_dropped();
    auto st = sampler_.sample(clock_.now(), snapshot_(), dropped, feed_->dropped_total());
    for (const auto& [client, queued] : queue_->top_clients(top_clients_shown)) {
      if (!st.top_clients.empty()) st.top_clients += ", ";
      st.top_clients += mon::short_peer(client);
      st.top_clients += ' ';
      st.top_clients += std::to_string(queued);
    }
    publish(std::move(st));
  }
  feed_->poll();  // our sends may have taken the XPUB's edge: read subscriptions that came meanwhile
}

void observer::connection(bool up, const std::string& address) {
  if (up && (wanted_ & bit<mon::connected>)) publish(mon::connected{address});
  if (!up && (wanted_ & bit<mon::disconnected>)) publish(mon::disconnected{address});
}

void observer::on_submitted(const task& t) {
  publish(mon::task_submitted{t.id, t.name, priority_name(t.pri), t.payload.size(), mon::short_peer(t.client)});
}

void observer::on_dispatched(const task& t, const slot& s) {
  const auto wait = t.started_at - t.queued_at;
  if (wanted_ & bit<mon::stats>) sampler_.record_wait(t.started_at, wait);
  if (wanted_ & bit<mon::task_dispatched>)
    publish(mon::task_dispatched{t.id, s.worker->id, t.attempt, std::chrono::duration<double, std::milli>(wait).count()});
}

// A task that still has its slot ended by its worker's DONE; otherwise the broker ended it.
void observer::on_finished(const task& t, const body& outcome) {
  const auto now = clock_.now();
  const std::string worker = t.running_on ? t.running_on->worker->id : "";
  if (t.running_on && (wanted_ & bit<mon::stats>)) sampler_.record_run(now, now - t.started_at);
  if (const auto* f = std::get_if<failed_msg>(&outcome)) {
    if (wanted_ & bit<mon::task_failed>) publish(mon::task_failed{t.id, f->kind, f->message, worker});
    return;
  }
  if (wanted_ & bit<mon::task_done>)
    publish(mon::task_done{t.id, worker, std::chrono::duration<double, std::milli>(now - t.started_at).count()});
}

void observer::on_received(std::string_view peer, const message& m) {
  last_in_ = m.from;
  publish(mon::trace{"in", command_name(command_of(m.content)), std::string(task_id_of(m.content)), mon::short_peer(peer),
                     role_name(m.from), m.payload.size(), detail_of(m.content)});
}

void observer::on_sent(std::string_view peer, const body& b, std::size_t payload_bytes) {
  if (const auto* busy = std::get_if<busy_msg>(&b); busy && (wanted_ & bit<mon::busy>))
    publish(mon::busy{busy->reason, busy->depth, busy->limit});
  if (wanted_ & bit<mon::trace>) trace_out(peer, command_of(b), task_id_of(b), payload_bytes, detail_of(b));
}

void observer::trace_out(std::string_view peer, command c, std::string_view id, std::size_t payload_bytes,
                         std::string detail) {
  publish(mon::trace{"out", command_name(c), std::string(id), mon::short_peer(peer), role_name(recipient(c, last_in_)),
                     payload_bytes, std::move(detail)});
}

}  // namespace argon::broker
