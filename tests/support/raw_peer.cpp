#include "raw_peer.hpp"

#include <stdexcept>

namespace argon::test {

raw_peer::raw_peer(const std::string& endpoint, const common::keypair* self, const common::keypair* broker,
                   const raw_peer_options& opts)
    : socket_(ctx_, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  if (opts.rcvhwm > 0) socket_.set(zmq::sockopt::rcvhwm, opts.rcvhwm);
  if (opts.rcvbuf > 0) socket_.set(zmq::sockopt::rcvbuf, opts.rcvbuf);
  if (!opts.routing_id.empty()) socket_.set(zmq::sockopt::routing_id, opts.routing_id);
  if (self && broker) common::apply_curve_client(socket_, *self, *broker);
  socket_.connect(endpoint);
}

void raw_peer::send_frames(const std::vector<std::string>& frames) {
  (void)socket_.send(zmq::message_t(), frames.empty() ? zmq::send_flags::none : zmq::send_flags::sndmore);
  for (std::size_t i = 0; i < frames.size(); ++i)
    (void)socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

void raw_peer::send_parts(const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i)
    (void)socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

void raw_peer::send(common::role from, const common::body& b, const std::string& payload) {
  // common::send never blocks, so wait for room first: a test must not lose its own message.
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLOUT, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(10000)) <= 0) throw std::runtime_error("raw_peer: no room to send");
  zmq::message_t p(payload.data(), payload.size());
  if (common::send(socket_, common::socket_kind::dealer, nullptr, from, b, &p) != common::send_status::sent)
    throw std::runtime_error("raw_peer: send failed");
}

std::optional<common::message> raw_peer::receive(std::chrono::milliseconds limit) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, limit) <= 0) return std::nullopt;
  auto f = common::read_frames(socket_, common::socket_kind::dealer);
  if (!f) return std::nullopt;
  return common::decode(*f);
}

}  // namespace argon::test
