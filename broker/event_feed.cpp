#include "event_feed.hpp"

#include <cstring>

#include "errors.hpp"
#include "log.hpp"

namespace argon::broker {

event_feed::event_feed(zmq::context_t& ctx, uv_loop_t* loop, const std::string& endpoint, const common::role_keys* keys,
                       common::clock& clk, on_subscription on_change)
    : clock_(clk), pub_(ctx, zmq::socket_type::xpub), on_change_(std::move(on_change)) {
  if (keys) common::apply_curve_server(pub_, keys->broker);
  pub_.set(zmq::sockopt::linger, 0);
  pub_.set(zmq::sockopt::sndhwm, send_hwm);
  pub_.set(zmq::sockopt::xpub_nodrop, 1);
  pub_.set(zmq::sockopt::xpub_verbose, 1);
  pub_.set(zmq::sockopt::maxmsgsize, int64_t{1024});  // subscriptions are short; anything larger is not one
  try {
    pub_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw common::config_error("cannot listen for monitors on " + endpoint + ": " + e.what());
  }
  watch_ = std::make_unique<common::zmq_watch>(loop, pub_, [this] { return read_one(); });
}

event_feed::~event_feed() { watch_.reset(); }

std::string event_feed::endpoint() const { return pub_.get(zmq::sockopt::last_endpoint); }

bool event_feed::read_one() {
  zmq::message_t m;
  if (!pub_.recv(m, zmq::recv_flags::dontwait)) return false;
  while (m.more()) (void)pub_.recv(m, zmq::recv_flags::none);  // a subscription is one frame
  if (!subs_.apply(m.to_string_view())) return true;
  common::log::debug("monitor subscription {} '{}'", m.data<char>()[0] ? "to" : "ended for", m.to_string_view().substr(1));
  if (on_change_) on_change_(m.to_string_view());
  return true;
}

void event_feed::poll() { watch_->drain(); }

// The topic goes first: when the pipe is full it fails with EAGAIN before the map is
// even encoded, so a stopped subscriber costs the broker little more than the attempt.
void event_feed::publish(common::monitor::body b) { publish_to({}, std::move(b)); }

void event_feed::publish_to(std::string_view topic_prefix, common::monitor::body b) {
  const char* name = common::monitor::name_of(b);
  try {
    std::string full(topic_prefix);
    full += name;
    zmq::message_t topic(full.data(), full.size());
    if (!pub_.send(topic, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return count_drop();
    const std::string map = common::monitor::encode({common::unix_ms(), std::move(b)});
    zmq::message_t body(map.data(), map.size());
    (void)pub_.send(body, zmq::send_flags::dontwait);  // the first frame passed the HWM check, so this one does too
  } catch (const zmq::error_t&) {
    count_drop();
  }
}

void event_feed::count_drop() {
  ++dropped_;
  ++dropped_total_;
  const auto now = clock_.now();
  if (now - last_drop_log_ < std::chrono::seconds(10)) return;
  common::log::warn("monitor: {} event(s) dropped since the last report: a subscriber is not keeping up",
                    dropped_total_ - dropped_logged_);
  dropped_logged_ = dropped_total_;
  last_drop_log_ = now;
}

std::uint64_t event_feed::take_dropped() {
  const std::uint64_t n = dropped_;
  dropped_ = 0;
  return n;
}

}  // namespace argon::broker
