// outbox: frame, trace, count; a failed send becomes a value and one log
// line, and a delivery the socket cannot take waits in the client backlog.
#include "outbox.hpp"

#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

send_status outbox::send(std::string_view to, const body& b, zmq::message_t* payload) {
  seen_.sent(to, b, payload ? payload->size() : 0);
  const send_status st = put(to, b, payload);
  if (st == send_status::sent) return st;
  ++(st == send_status::unreachable ? counts_.unreachable : counts_.would_block);
  log_failure(st, b);
  return st;
}

delivery outbox::deliver(std::string_view to, const body& b, zmq::message_t* payload, wait_kind kind) {
  const std::size_t bytes = payload ? payload->size() : 0;
  const delivery d = hand_over(to, b, payload, kind);
  if (d != delivery::dropped) seen_.sent(to, b, bytes);  // the trace shows what the peer gets
  return d;
}

// To the socket when nothing waits for the peer and the socket takes it; else behind what waits.
delivery outbox::hand_over(std::string_view to, const body& b, zmq::message_t* payload, wait_kind kind) {
  if (!backlog_.holds(to)) {
    const send_status st = put(to, b, payload);
    if (st == send_status::sent) return delivery::sent;
    if (st == send_status::unreachable) {
      ++counts_.unreachable;
      log_failure(st, b);
      return delivery::unreachable;
    }
  }
  zmq::message_t owned;
  if (payload) owned.move(*payload);
  return backlog_.push(to, kind, b, std::move(owned), clock_.now()) ? delivery::waiting : delivery::dropped;
}

void outbox::flush() {
  if (backlog_.peers() == 0) return;
  backlog_.flush(clock_.now(), [this](std::string_view to, const body& b, zmq::message_t* payload) {
    const send_status st = put(to, b, payload);
    if (st == send_status::unreachable) ++counts_.unreachable;
    return st;
  });
}

// One try on the socket; counts what was sent.
send_status outbox::put(std::string_view to, const body& b, zmq::message_t* payload) {
  zmq::message_t routing_id(to.data(), to.size());
  const send_status st = common::send(router_, socket_kind::router, &routing_id, role::broker, b, payload);
  if (st == send_status::sent) ++counts_.sent;
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
