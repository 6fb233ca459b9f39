#include "control_channel.hpp"

#include "codec.hpp"
#include "log.hpp"

namespace argon::worker {

using namespace argon::common;

control_channel::control_channel(const slot_env& env, unsigned capacity, millis interval, unsigned liveness)
    : env_(env), interval_(interval), liveness_(liveness), socket_(*env.ctx, zmq::socket_type::dealer),
      timer_(env.loop, [this] { beat(); }) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::routing_id, "w" + env.worker_id);
  if (env.keys) apply_curve_client(socket_, env.keys->worker, env.keys->broker);
  socket_.connect(env.endpoint);
  watch_ = std::make_unique<zmq_watch>(env.loop, socket_, [this] { read_one(); });
  last_heard_ = clock_.now();
  send(hello_msg{env.worker_id, capacity, ARGON_VERSION});
  timer_.start(interval_, interval_);
}

void control_channel::send(const body& b) {
  (void)common::send(socket_, socket_kind::dealer, nullptr, role::control, b);
  watch_->drain();
}

// Heartbeats go on until the process exits, so a worker that dies while finishing
// its last tasks is still noticed.
void control_channel::say_bye() {
  socket_.set(zmq::sockopt::linger, 1000);  // let BYE leave even if the process exits at once
  send(bye_msg{env_.worker_id});
}

void control_channel::beat() {
  send(heartbeat_msg{env_.worker_id});
  const auto silent = clock_.now() - last_heard_;
  if (!reported_silence_ && silent > interval_ * liveness_) {
    reported_silence_ = true;
    log::warn("the broker at {} has been silent for {} ms", env_.endpoint,
              std::chrono::duration_cast<millis>(silent).count());
  }
}

void control_channel::read_one() {
  auto f = read_frames(socket_, socket_kind::dealer);
  if (!f) return;
  last_heard_ = clock_.now();
  if (reported_silence_) log::warn("the broker at {} answers again", env_.endpoint);
  reported_silence_ = false;
  try {
    message m = decode(*f);
    // Answering each of the broker's beats keeps us alive at its pace even if ours is slower.
    if (std::holds_alternative<heartbeat_msg>(m.content)) send(heartbeat_msg{env_.worker_id});
    if (auto* e = std::get_if<error_msg>(&m.content)) log::warn("broker refused a control message ({}): {}", e->kind, e->message);
  } catch (const protocol_error& e) {
    log::warn("malformed control message from the broker: {}", e.what());
  }
}

}  // namespace argon::worker
