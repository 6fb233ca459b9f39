// Framing: [routing id][empty][header][payload?] on a ROUTER, [empty][header]
// [payload?] on a DEALER, [header][payload?] on a REQ (it hides the delimiter).
#include "codec.hpp"

namespace argon::common {
namespace {

bool recv_part(zmq::socket_ref s, zmq::message_t& m, bool first) {
  auto r = s.recv(m, first ? zmq::recv_flags::dontwait : zmq::recv_flags::none);
  return r.has_value();
}

// Reads and discards what is left of a message after a defect.
void discard_rest(zmq::socket_ref s, zmq::message_t& scratch) {
  while (scratch.more()) (void)s.recv(scratch, zmq::recv_flags::none);
}

}  // namespace

std::optional<frames> read_frames(zmq::socket_ref s, socket_kind kind) {
  frames f;
  zmq::message_t part;
  if (!recv_part(s, part, true)) return std::nullopt;
  if (kind == socket_kind::router) {
    f.routing_id = std::move(part);
    if (!f.routing_id.more()) { f.bad_envelope = true; return f; }
    (void)s.recv(part, zmq::recv_flags::none);
  }
  if (kind != socket_kind::req) {
    if (part.size() != 0 || !part.more()) { f.bad_envelope = true; discard_rest(s, part); return f; }
    (void)s.recv(part, zmq::recv_flags::none);
  }
  f.header = std::move(part);
  f.parts = 1;
  if (!f.header.more()) return f;
  (void)s.recv(f.payload, zmq::recv_flags::none);
  f.parts = 2;
  if (f.payload.more()) {
    f.bad_envelope = true;
    zmq::message_t rest;
    while (s.recv(rest, zmq::recv_flags::none) && rest.more()) ++f.parts;
    ++f.parts;
  }
  return f;
}

bool has_payload(command c) {
  return c == command::submit || c == command::result || c == command::task || c == command::done;
}

message decode(frames& f) {
  if (f.bad_envelope) throw protocol_error("malformed envelope: expected [empty][header][payload?]");
  message m = decode_header(f.header.data(), f.header.size());
  command c = command_of(m.content);
  if (has_payload(c) && f.parts != 2) throw protocol_error(std::string(command_name(c)) + " needs a payload frame");
  if (!has_payload(c) && f.parts != 1) throw protocol_error(std::string(command_name(c)) + " takes no payload frame");
  m.payload = std::move(f.payload);
  return m;
}

send_status send(zmq::socket_ref s, socket_kind kind, const zmq::message_t* routing_id, role from,
                 const body& b, zmq::message_t* payload) {
  const bool with_payload = has_payload(command_of(b));
  const auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
  try {
    if (kind == socket_kind::router) {
      zmq::message_t rid(routing_id->data(), routing_id->size());
      if (!s.send(rid, more)) return send_status::would_block;
    }
    if (kind != socket_kind::req) (void)s.send(zmq::message_t(), more);
    zmq::message_t header = encode_header(from, b);
    if (!with_payload) {
      (void)s.send(header, zmq::send_flags::dontwait);
      return send_status::sent;
    }
    (void)s.send(header, more);
    zmq::message_t empty;
    (void)s.send(payload ? *payload : empty, zmq::send_flags::dontwait);
    return send_status::sent;
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return send_status::unreachable;
    if (e.num() == EAGAIN) return send_status::would_block;
    throw;
  }
}

std::string user_id(const frames& f) {
  const char* v = zmq_msg_gets(const_cast<zmq_msg_t*>(f.header.handle()), "User-Id");
  return v ? v : "";
}

std::string peer_address(const frames& f) {
  const char* v = zmq_msg_gets(const_cast<zmq_msg_t*>(f.header.handle()), "Peer-Address");
  return v ? v : "";
}

}  // namespace argon::common
