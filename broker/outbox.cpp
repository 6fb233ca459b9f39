// outbox::send: frame, trace, count, and turn a failed send into a value and one log line.
#include "outbox.hpp"

#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

send_status outbox::send(std::string_view to, const body& b, zmq::message_t* payload) {
  seen_.sent(to, b, payload ? payload->size() : 0);
  zmq::message_t routing_id(to.data(), to.size());
  const send_status st = common::send(router_, socket_kind::router, &routing_id, role::broker, b, payload);
  if (st == send_status::sent) {
    ++counts_.sent;
    return st;
  }
  ++(st == send_status::unreachable ? counts_.unreachable : counts_.would_block);
  log_failure(st, b);
  return st;
}

void outbox::log_failure(send_status st, const body& b) const {
  const char* cmd = command_name(command_of(b));
  const std::string_view id = task_id_of(b);
  const std::string what = id.empty() ? std::string(cmd) : fmt::format("{} of task {}", cmd, id);
  if (st == send_status::unreachable) log::info("could not send {}: the peer has disconnected", what);
  else log::warn("could not send {}: the peer's queue is full (it does not read)", what);
}

}  // namespace argon::broker
