#include "subscriber.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <array>

#include "errors.hpp"

namespace argon::tools {

subscriber::subscriber(const std::string& endpoint, const common::role_keys* keys, const std::vector<std::string>& topics)
    : ctx_(1), socket_(ctx_, zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  socket_.set(zmq::sockopt::maxmsgsize, int64_t{1} << 20);
  if (keys) common::apply_curve_client(socket_, keys->client, keys->broker);
  for (const auto& t : topics) socket_.set(zmq::sockopt::subscribe, t);
  if (std::find(topics.begin(), topics.end(), common::monitor::name_of(common::monitor::kind_index<common::monitor::worker_joined>())) !=
      topics.end()) {
    std::array<std::uint8_t, 8> nonce{};
    if (sodium_init() < 0) throw common::config_error("libsodium could not be initialised");
    randombytes_buf(nonce.data(), nonce.size());
    replay_topic_ = std::string(common::monitor::replay_prefix);
    for (auto b : nonce) replay_topic_ += fmt::format("{:02x}", b);
    replay_topic_ += '/';
    socket_.set(zmq::sockopt::subscribe, replay_topic_);
  }
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw common::config_error("cannot connect to " + endpoint + ": " + e.what());
  }
}

std::optional<common::monitor::event> subscriber::read() {
  zmq::message_t topic, body;
  if (!socket_.recv(topic, zmq::recv_flags::dontwait)) return std::nullopt;
  if (topic.more()) (void)socket_.recv(body, zmq::recv_flags::none);
  bool well_formed = topic.more() && !body.more();  // exactly two frames
  for (bool more = body.more(); more;) {            // drop frames past the second
    zmq::message_t rest;
    (void)socket_.recv(rest, zmq::recv_flags::none);
    more = rest.more();
  }
  try {
    std::string_view name = topic.to_string_view();
    if (!replay_topic_.empty() && name.starts_with(replay_topic_)) name.remove_prefix(replay_topic_.size());
    if (well_formed) return common::monitor::decode(name, body.to_string_view());
  } catch (const common::protocol_error&) {
  }
  ++undecodable_;
  return std::nullopt;
}

}  // namespace argon::tools
