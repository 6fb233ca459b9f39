#include "zap_handler.hpp"

#include <cstring>
#include <vector>

#include <zmq_addon.hpp>

#include "log.hpp"

namespace argon::broker {
namespace {

bool equals(const zmq::message_t& m, const std::array<std::uint8_t, 32>& key) {
  return m.size() == key.size() && std::memcmp(m.data(), key.data(), key.size()) == 0;
}

}  // namespace

zap_handler::zap_handler(zmq::context_t& ctx, uv_loop_t* loop, common::clock& clk, const common::role_keys& keys,
                         refusal_hook on_refused)
    : keys_(keys),
      on_refused_(std::move(on_refused)),
      socket_(ctx, zmq::socket_type::rep),
      clock_(clk),
      lines_(std::chrono::seconds(10)),
      flush_timer_(loop, [this] { flush(); }),
      watch_(loop, socket_, [this] { return answer_one(); }) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
  flush_timer_.start(common::millis(1000), common::millis(1000));
}

// The address is the peer's IP, so a client reconnecting from new ports is one peer.
void zap_handler::log_refusal(const std::string& address, const std::string& why) {
  if (auto line = lines_.admit(address, fmt::format("refused connection from {}: {}", address, why), clock_.now()))
    common::log::warn("{}", *line);
}

void zap_handler::flush() {
  for (auto& line : lines_.expire(clock_.now())) common::log::warn("{}", line);
}

std::string zap_handler::role_of(const zmq::message_t& mechanism, const zmq::message_t& key) const {
  if (mechanism.to_string_view() != "CURVE") return "";
  if (equals(key, keys_.worker.public_key)) return "worker";
  if (equals(key, keys_.client.public_key)) return "client";
  return "";
}

// Request: version, request id, domain, address, identity, mechanism, credentials.
// Reply: version, request id, status code, status text, user id, metadata.
bool zap_handler::answer_one() {
  std::vector<zmq::message_t> req;
  if (!zmq::recv_multipart(socket_, std::back_inserter(req), zmq::recv_flags::dontwait)) return false;
  if (req.size() < 6) {  // not a ZAP request; answer so the REP socket can go on
    zmq::send_multipart(socket_, std::array{zmq::str_buffer("1.0"), zmq::str_buffer(""), zmq::str_buffer("500"),
                                            zmq::str_buffer("bad request"), zmq::str_buffer(""), zmq::str_buffer("")});
    return true;
  }
  static const zmq::message_t none;
  std::string role = role_of(req[5], req.size() > 6 ? req[6] : none);
  std::string address = req[3].to_string();
  std::vector<zmq::message_t> reply;
  reply.emplace_back("1.0", 3);
  reply.push_back(std::move(req[1]));
  if (role.empty()) {
    ++refused_;
    std::string why = req[5].to_string_view() == "CURVE" ? "unknown CURVE key (wrong keyfile?)"
                                                          : "mechanism " + req[5].to_string() + " is not allowed";
    log_refusal(address, why);
    if (on_refused_) on_refused_(address, req[5].to_string(), why);
    reply.emplace_back("400", 3);
    reply.emplace_back(why.data(), why.size());
  } else {
    common::log::debug("admitted {} key from {}", role, address);
    reply.emplace_back("200", 3);
    reply.emplace_back("OK", 2);
  }
  reply.emplace_back(role.data(), role.size());
  reply.emplace_back();
  zmq::send_multipart(socket_, reply);
  return true;  // a REP socket may receive again after its reply
}

}  // namespace argon::broker
