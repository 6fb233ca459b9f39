#include "handshake_watch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "log.hpp"
#include "observer.hpp"

namespace argon::broker {
namespace {

constexpr const char* monitor_endpoint = "inproc://argon-handshake-events";

const char* reason(std::uint16_t event, std::uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return "its key was refused (not a worker or client key of this keyfile)";
  if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) return "its messages did not decrypt (a different keyfile?)";
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) return "it broke the handshake protocol (plaintext peer, or a different keyfile?)";
  return "no detail";
}

// "ip:port" of a connected socket's peer; "" if the fd is already gone.
std::string peer_of(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(in->sin_port));
  }
  if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(in6->sin6_port));
  }
  return "";
}

}  // namespace

handshake_watch::handshake_watch(zmq::context_t& ctx, uv_loop_t* loop, zmq::socket_ref monitored, observer* seen,
                                 std::string mechanism)
    : monitored_(monitored), events_(ctx, zmq::socket_type::pair), seen_(seen), mechanism_(std::move(mechanism)) {
  int wanted = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
  if (seen_ && seen_->wants_connections()) wanted |= ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED;
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
  if (event == ZMQ_EVENT_ACCEPTED) {
    auto& address = addresses_[static_cast<int>(value)] = peer_of(static_cast<int>(value));
    if (seen_) seen_->connection(true, address);
  } else if (event == ZMQ_EVENT_DISCONNECTED) {
    on_disconnected(static_cast<int>(value));
  } else {
    on_failure(event, value, where.to_string_view());
  }
}

void handshake_watch::on_failure(std::uint16_t event, std::uint32_t value, std::string_view where) {
  ++failures_;
  common::log::warn("a peer failed the CURVE handshake on {}: {}", where, reason(event, value));
  // A refused key was reported by the ZAP handler, with the peer's address.
  if (!seen_ || event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return;
  if (!seen_->wants_connections()) return seen_->auth_failed("", mechanism_, reason(event, value));
  pending_why_ = reason(event, value);  // named when its connection's DISCONNECTED comes
}

void handshake_watch::on_disconnected(int fd) {
  auto it = addresses_.find(fd);
  std::string address = it == addresses_.end() ? "" : std::move(it->second);
  if (it != addresses_.end()) addresses_.erase(it);
  if (!pending_why_.empty()) {
    seen_->auth_failed(address, mechanism_, pending_why_);
    pending_why_.clear();
  }
  seen_->connection(false, address);
}

}  // namespace argon::broker
