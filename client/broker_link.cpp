// broker_link: the socket's life cycle, PINGs and the broker's liveness (see broker_link.hpp).
#include "broker_link.hpp"

#include <limits>

#include "errors.hpp"
#include "log.hpp"

namespace argon {

using namespace argon::common;

namespace {

double seconds_between(time_point from, time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

broker_link::broker_link(uv_loop_t* loop, link_settings s, link_events e, const clock& c)
    : loop_(loop), settings_(std::move(s)), events_(std::move(e)), clock_(c), health_(settings_.keepalive) {
  heartbeat_ = std::make_unique<timer>(loop_, [this] { tick(); });
  open_socket();
  health_.start(clock_.now());
  ping();
  heartbeat_->start(settings_.keepalive.heartbeat, settings_.keepalive.heartbeat);
}

broker_link::~broker_link() { close_socket(); }

void broker_link::open_socket() {
  socket_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
  ++generation_;
  pings_on_socket_ = 0;
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::routing_id, settings_.routing_id);
  socket_.set(zmq::sockopt::sndhwm, 100000);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  // libzmq's own TCP retries back off like ours instead of every 100 ms for ever.
  socket_.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(reconnect_backoff::largest.count()));
  if (settings_.keys) apply_curve_client(socket_, settings_.keys->client, settings_.keys->broker);
  try {
    socket_.connect(settings_.endpoint);
  } catch (const zmq::error_t& e) {
    throw config_error("cannot use broker endpoint '" + settings_.endpoint + "': " + e.what());
  }
  watch_ = std::make_unique<zmq_watch>(loop_, socket_, [this] { return read_one(); });
}

// The watch goes first: libuv must stop polling the fd before libzmq closes it.
void broker_link::close_socket() {
  watch_.reset();
  if (socket_) socket_.close();
}

void broker_link::reconnect() {
  ++reconnects_;
  log::info("reconnecting to the broker at {} (attempt {})", settings_.endpoint, reconnects_);
  close_socket();
  open_socket();  // the endpoint connected before, so this does not throw
  ping();
}

send_status broker_link::send(const body& b, zmq::message_t* payload) {
  const send_status st = common::send(socket_, socket_kind::dealer, nullptr, role::client, b, payload);
  // The send may have consumed the fd's edge; what came is read on the next
  // turn of the loop, so no handler runs inside a send (session.hpp).
  if (watch_) watch_->drain_soon();
  return st;
}

void broker_link::stop() { heartbeat_->stop(); }

void broker_link::set_idle(bool idle) {
  if (health_.set_idle(idle, clock_.now())) ping();
}

bool broker_link::read_one() {
  auto f = read_frames(socket_, socket_kind::dealer);
  if (!f) return false;
  health_.heard(clock_.now());
  message m;
  try {
    m = decode(*f);
  } catch (const protocol_error& e) {
    log::warn("malformed message from the broker: {}", e.what());
    return true;
  }
  if (auto* p = std::get_if<pong_msg>(&m.content)) {
    max_payload_ = p->max_payload;  // 0 from an older broker: not said
    on_instance(p->broker, true);
    return true;
  }
  // The broker's HEARTBEAT names its instance as its PONG does, but answers nothing.
  if (auto* h = std::get_if<heartbeat_msg>(&m.content)) on_instance(h->sender, false);
  else events_.on_message(m);
  return true;
}

// Whatever was sent before contact with this instance may have gone to a
// broker that is gone (or that forgot it), so the owner sends it again; only
// a first contact that is a PONG answering the socket's one PING vouches for
// the socket.
void broker_link::on_instance(const std::string& instance, bool answers_ping) {
  const time_point lost_since = health_.lost_since();
  std::uint64_t resend_older_than = std::numeric_limits<std::uint64_t>::max();
  switch (health_.contact(clock_.now(), instance)) {
    case contact_news::same_broker:
      return;
    case contact_news::first_contact:
      if (answers_ping && pings_on_socket_ == 1) resend_older_than = generation_;
      log::info("broker at {} answered (instance {})", settings_.endpoint, instance);
      break;
    case contact_news::restarted:
      log::info("broker restarted: the broker at {} is a new instance ({}); resubmitting unfinished tasks",
                settings_.endpoint, instance);
      break;
    case contact_news::back:
      log::info("the broker at {} answers again after {:.1f} s; resubmitting unfinished tasks", settings_.endpoint,
                seconds_between(lost_since, clock_.now()));
      break;
  }
  reconnects_ = 0;
  events_.on_contact(resend_older_than);
}

void broker_link::ping() {
  ++pings_on_socket_;
  (void)send(ping_msg{});
}

void broker_link::tick() {
  const time_point now = clock_.now();
  switch (health_.tick(now)) {
    case tick_action::none:
      break;
    case tick_action::ping:
      ping();
      break;
    case tick_action::lose:
      log::warn("the broker at {} is lost: nothing from it for {:.1f} s; keeping unfinished tasks and reconnecting",
                settings_.endpoint, seconds_between(health_.last_heard(), now));
      reconnect();
      events_.on_lost();
      break;
    case tick_action::reconnect:
      reconnect();
      break;
  }
}

}  // namespace argon
