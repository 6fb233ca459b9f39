#include "handshake_watch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "log.hpp"
#include "observer.hpp"

namespace argon::broker {
namespace {

constexpr const char* monitor_endpoint = "inproc://argon-handshake-events";
constexpr auto log_interval = std::chrono::seconds(10);
constexpr const char* unknown_address = "an unknown address";

// What a failed handshake means for the log and the monitor.
struct verdict {
  bool refusal = false;  // a key or mechanism was refused: an auth_failed event
  bool warn = false;     // worth an operator's look (else info)
  std::string why;       // the reason, as logged and published; "" when told elsewhere
};

// The reason a peer's key or mechanism was refused; "" if the failure was no refusal.
std::string refusal_of(std::uint16_t event, std::uint32_t value, const std::string& mechanism) {
  if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) return "";
  if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) return "its CURVE handshake did not decrypt (wrong keyfile?)";
  if (value != ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) return "";
  return mechanism == "CURVE" ? "it speaks no CURVE (started with --insecure?)"
                              : "it speaks CURVE, and this broker runs --insecure";
}

verdict judge(std::uint16_t event, std::uint32_t value, const std::string& mechanism) {
  // The ZAP handler refused it, and has logged and published that with the peer's address.
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return {};
  if (std::string why = refusal_of(event, value, mechanism); !why.empty()) return {true, true, why};
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) return {false, true, "it broke the ZMTP handshake (not an Argon peer?)"};
  // No detail: the connection closed or timed out mid-handshake (the peer gave up, a port scan, a paused broker).
  if (value == 0 || value == EAGAIN) return {false, false, "the connection closed or timed out"};
  return {false, false, std::strerror(static_cast<int>(value))};
}

// The limiter's key for an address: its host, without the port.
std::string host_of(const std::string& address) {
  if (address.empty()) return unknown_address;
  if (address.front() == '[') return address.substr(1, address.find(']') - 1);
  return address.substr(0, address.rfind(':'));
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

handshake_watch::handshake_watch(zmq::context_t& ctx, uv_loop_t* loop, common::clock& clk, zmq::socket_ref monitored,
                                 observer* seen, std::string mechanism)
    : monitored_(monitored), events_(ctx, zmq::socket_type::pair), clock_(clk), seen_(seen),
      mechanism_(std::move(mechanism)), warn_lines_(log_interval), info_lines_(log_interval),
      accept_lines_(log_interval), flush_timer_(loop, [this] { flush(); }) {
  const int wanted = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                     ZMQ_EVENT_ACCEPT_FAILED;
  if (zmq_socket_monitor(monitored_.handle(), monitor_endpoint, wanted) != 0) throw zmq::error_t();
  events_.set(zmq::sockopt::linger, 0);
  events_.connect(monitor_endpoint);
  watch_ = std::make_unique<common::zmq_watch>(loop, events_, [this] { return read_one(); });
  flush_timer_.start(common::millis(1000), common::millis(1000));
}

handshake_watch::~handshake_watch() {
  watch_.reset();
  zmq_socket_monitor(monitored_.handle(), nullptr, 0);
}

// An event is two frames: 6 bytes (16-bit event, 32-bit value), then the endpoint.
bool handshake_watch::read_one() {
  zmq::message_t head, where;
  if (!events_.recv(head, zmq::recv_flags::dontwait)) return false;
  if (head.more()) (void)events_.recv(where, zmq::recv_flags::none);
  if (head.size() < 6) return true;
  std::uint16_t event = 0;
  std::uint32_t value = 0;
  std::memcpy(&event, head.data(), 2);
  std::memcpy(&value, static_cast<const char*>(head.data()) + 2, 4);
  if (event == ZMQ_EVENT_ACCEPTED) {
    on_accepted(static_cast<int>(value));
  } else if (event == ZMQ_EVENT_DISCONNECTED) {
    on_disconnected(static_cast<int>(value));
  } else if (event == ZMQ_EVENT_ACCEPT_FAILED) {
    on_accept_failed(static_cast<int>(value), where.to_string_view());
  } else {
    ++failures_;
    pending_ = {event, value};  // handled when its connection's DISCONNECTED comes
  }
  return true;
}

void handshake_watch::on_accepted(int fd) {
  auto& address = addresses_[fd] = peer_of(fd);
  if (seen_ && seen_->wants_connections()) seen_->connection(true, address);
}

void handshake_watch::on_disconnected(int fd) {
  auto it = addresses_.find(fd);
  std::string address = it == addresses_.end() ? "" : std::move(it->second);
  if (it != addresses_.end()) addresses_.erase(it);
  if (pending_.event != 0) report(std::exchange(pending_, {}), address);
  if (seen_ && seen_->wants_connections()) seen_->connection(false, address);
}

void handshake_watch::report(const failure& f, const std::string& address) {
  const verdict v = judge(f.event, f.value, mechanism_);
  if (v.why.empty()) return;
  const std::string who = address.empty() ? unknown_address : address;
  if (v.refusal && seen_) seen_->auth_failed(address, mechanism_, v.why);
  std::string line = v.refusal ? fmt::format("refused connection from {}: {}", who, v.why)
                     : v.warn  ? fmt::format("handshake with {} failed: {}", who, v.why)
                               : fmt::format("handshake with {} did not finish: {}", who, v.why);
  auto& lines = v.warn ? warn_lines_ : info_lines_;
  if (auto out = lines.admit(host_of(address), std::move(line), clock_.now()))
    common::log::at(v.warn ? common::log::level::warn : common::log::level::info, "{}", *out);
}

// libzmq retries a failed accept() at once, so one shortage can give thousands of these a second.
void handshake_watch::on_accept_failed(int err, std::string_view where) {
  const bool no_fds = err == EMFILE || err == ENFILE;
  if (!no_fds && err != ENOBUFS && err != ENOMEM)
    return common::log::debug("accepting a connection on {} failed: {}", where, std::strerror(err));
  std::string line =
      no_fds ? fmt::format("cannot accept connections on {}: out of file descriptors ({}); raise the broker's limit "
                           "(ulimit -n, or LimitNOFILE= in its systemd unit)",
                           where, std::strerror(err))
             : fmt::format("cannot accept connections on {}: out of memory for sockets ({})", where, std::strerror(err));
  if (auto out = accept_lines_.admit(std::string(where), std::move(line), clock_.now())) common::log::error("{}", *out);
}

void handshake_watch::flush() {
  const auto now = clock_.now();
  for (auto& line : warn_lines_.expire(now)) common::log::warn("{}", line);
  for (auto& line : info_lines_.expire(now)) common::log::info("{}", line);
  for (auto& line : accept_lines_.expire(now)) common::log::error("{}", line);
}

}  // namespace argon::broker
