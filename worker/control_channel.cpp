#include "control_channel.hpp"

#include "codec.hpp"
#include "log.hpp"

namespace argon::worker {

using namespace argon::common;

control_channel::control_channel(const slot_env& env, const control_settings& settings, control_events events)
    : env_(env), settings_(settings), events_(std::move(events)), timer_(env.loop, [this] { beat(); }),
      broker_(clock_, settings.interval * settings.liveness) {
  open_socket();
  announce();
  timer_.start(settings_.interval, settings_.interval);
}

void control_channel::open_socket() {
  socket_ = open_broker_socket(env_.broker, zmq::socket_type::dealer, "w" + env_.worker_id, millis(0));
  watch_ = std::make_unique<zmq_watch>(env_.loop, socket_, [this] { return read_one(); });
}

// HELLO, and BYE again once stopping, so a broker that has not heard them yet knows.
void control_channel::announce() {
  send(hello_msg{env_.worker_id, settings_.capacity, ARGON_VERSION, settings_.incarnation});
  if (leaving_) send(bye_msg{env_.worker_id});
}

void control_channel::send(const body& b) {
  (void)common::send(socket_, socket_kind::dealer, nullptr, role::control, b);
  watch_->drain();
}

// Heartbeats go on until the process exits, so a worker that dies while finishing
// its last tasks is still noticed.
void control_channel::say_bye() {
  leaving_ = true;
  socket_.set(zmq::sockopt::linger, 1000);  // let BYE leave even if the process exits at once
  send(bye_msg{env_.worker_id});
}

void control_channel::send_progress(const progress_msg& p) { send(p); }

void control_channel::withdraw(const std::string& slot_routing_id) { send(withdraw_msg{env_.worker_id, slot_routing_id}); }

void control_channel::beat() {
  send(heartbeat_msg{env_.worker_id});
  if (broker_.reconnect_due()) reconnect();
}

// Runs from the timer, never from this socket's own read callback, so the watch
// can be stopped and the socket closed here; the watch goes first.
void control_channel::reconnect() {
  log::warn("broker lost: nothing from {} for {} ms; reconnecting (next try in {} ms if it stays silent)",
            env_.broker.endpoint, broker_.silent_for().count(), broker_.until_next_try().count());
  watch_.reset();
  socket_.close();
  open_socket();
  if (leaving_) socket_.set(zmq::sockopt::linger, 1000);
  announce();
  events_.broker_lost();
}

bool control_channel::read_one() {
  auto f = read_frames(socket_, socket_kind::dealer);
  if (!f) return false;
  if (broker_.heard()) log::note("the broker at {} answers again", env_.broker.endpoint);
  try {
    handle(decode(*f));
  } catch (const protocol_error& e) {
    log::warn("malformed control message from the broker: {}", e.what());
  }
  return true;
}

void control_channel::handle(const message& m) {
  if (auto* h = std::get_if<heartbeat_msg>(&m.content)) return on_heartbeat(*h);
  if (auto* c = std::get_if<cancel_msg>(&m.content)) return events_.cancel(c->id);
  if (auto* l = std::get_if<limits_msg>(&m.content)) return events_.limits(l->max_result);
  if (auto* e = std::get_if<error_msg>(&m.content)) {
    if (e->kind == "unknown_worker") return on_forgotten();
    return log::warn("broker refused a control message ({}): {}", e->kind, e->message);
  }
  log::debug("ignored {} from the broker on the control channel", command_name(command_of(m.content)));
}

// The broker declared this worker dead (it was frozen, or cut off, past the
// liveness limit) and forgot its slots; an idle slot would wait for a TASK for
// ever. Announcing again, as after a broker restart, brings them back. It is
// done at the broker's next HEARTBEAT, which follows this ERROR on the same
// connection: a restarted broker also says unknown_worker to a heartbeat sent
// before it was known, and its HEARTBEAT then shows a new instance, so the
// worker announces itself once, not twice. A second announcement would make
// each idle slot replace its socket again and drop a TASK already on its way.
void control_channel::on_forgotten() {
  log::debug("the broker at {} no longer knows this worker; announcing it at the broker's next heartbeat", env_.broker.endpoint);
  forgotten_ = true;
}

void control_channel::on_heartbeat(const heartbeat_msg& h) {
  // Answering each of the broker's beats keeps us alive at its pace even if ours is slower.
  send(heartbeat_msg{env_.worker_id});
  const bool restarted = broker_.named(h.sender);
  if (!restarted && !forgotten_) return;
  forgotten_ = false;
  if (restarted)
    log::info("the broker at {} restarted (instance {}): announcing this worker and its idle slots again",
              env_.broker.endpoint, h.sender);
  else
    log::note("the broker at {} no longer knew this worker: announcing it and its idle slots again", env_.broker.endpoint);
  announce();
  events_.broker_restarted();
}

}  // namespace argon::worker
