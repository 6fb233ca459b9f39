#include "handshake_watch.hpp"

#include <cstring>
#include <string>

#include "log.hpp"

namespace argon::broker {
namespace {

constexpr const char* monitor_endpoint = "inproc://argon-handshake-events";

const char* reason(std::uint16_t event, std::uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return "its key was refused (not a worker or client key of this keyfile)";
  if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) return "its messages did not decrypt (a different keyfile?)";
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) return "it broke the handshake protocol (plaintext peer, or a different keyfile?)";
  return "no detail";
}

}  // namespace

handshake_watch::handshake_watch(zmq::context_t& ctx, uv_loop_t* loop, zmq::socket_ref monitored)
    : monitored_(monitored), events_(ctx, zmq::socket_type::pair) {
  const int wanted = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
  if (zmq_socket_monitor(monitored_.handle(), monitor_endpoint, wanted) != 0) throw zmq::error_t();
  events_.set(zmq::sockopt::linger, 0);
  events_.connect(monitor_endpoint);
  watch_ = std::make_unique<common::zmq_watch>(loop, events_, [this] { read_one(); });
}

handshake_watch::~handshake_watch() {
  watch_.reset();
  zmq_socket_monitor(monitored_.handle(), nullptr, 0);
}

// An event is two frames: 6 bytes (16-bit event, 32-bit value), then the endpoint.
void handshake_watch::read_one() {
  zmq::message_t head, where;
  if (!events_.recv(head, zmq::recv_flags::dontwait)) return;
  if (head.more()) (void)events_.recv(where, zmq::recv_flags::none);
  if (head.size() < 6) return;
  std::uint16_t event = 0;
  std::uint32_t value = 0;
  std::memcpy(&event, head.data(), 2);
  std::memcpy(&value, static_cast<const char*>(head.data()) + 2, 4);
  ++failures_;
  common::log::warn("a peer failed the CURVE handshake on {}: {}", where.to_string_view(), reason(event, value));
}

}  // namespace argon::broker
