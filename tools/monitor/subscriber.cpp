#include "subscriber.hpp"

#include "errors.hpp"

namespace argon::tools {

subscriber::subscriber(const std::string& endpoint, const common::role_keys* keys, const std::vector<std::string>& topics)
    : ctx_(1), socket_(ctx_, zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  socket_.set(zmq::sockopt::maxmsgsize, int64_t{1} << 20);
  if (keys) common::apply_curve_client(socket_, keys->client, keys->broker);
  for (const auto& t : topics) socket_.set(zmq::sockopt::subscribe, t);
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
    if (well_formed) return common::monitor::decode(topic.to_string_view(), body.to_string_view());
  } catch (const common::protocol_error&) {
  }
  ++undecodable_;
  return std::nullopt;
}

}  // namespace argon::tools
