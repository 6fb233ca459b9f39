// The only code that turns ZeroMQ frames into typed Argon messages and back.
//
// read_frames() takes one whole multipart message off a socket without
// blocking; decode() checks its shape and header and throws protocol_error
// for anything malformed, so callers see typed messages or one error kind.
// send() frames a body for the socket kind and never blocks. Payload frames
// are moved, never copied.
#pragma once

#include <optional>
#include <string>

#include <zmq.hpp>

#include "errors.hpp"
#include "protocol.hpp"

namespace argon::common {

// How a socket frames messages: ROUTER adds a routing id, REQ hides the delimiter.
enum class socket_kind { router, dealer, req };

// One multipart message as read, before its header is decoded.
struct frames {
  zmq::message_t routing_id;  // sender's routing id (ROUTER only)
  zmq::message_t header;      // msgpack header frame
  zmq::message_t payload;     // payload frame, if any
  std::size_t parts = 0;      // frames after the envelope (header + payload)
  bool bad_envelope = false;  // delimiter missing or frames past the payload
};

// A decoded message.
struct message {
  role from = role::client;   // sender's role from the header
  body content;               // typed header
  zmq::message_t payload;     // payload frame (empty when the command has none)
};

// Reads one whole multipart message; empty when none is waiting.
// Consumes every frame of the message even when it is malformed.
[[nodiscard]] std::optional<frames> read_frames(zmq::socket_ref s, socket_kind kind);

// Decodes a read message. Throws protocol_error on any defect.
[[nodiscard]] message decode(frames& f);

// Decodes just a header frame's bytes (no payload check). Throws protocol_error.
[[nodiscard]] message decode_header(const void* data, std::size_t size);

// The task id of a SUBMIT header that did not decode (a field out of range,
// a frame missing), when one can still be read: a non-empty string of at
// most max_id_bytes in the id's place. The broker then answers FAILED with
// that id instead of an ERROR no client can tie to a task. Never throws.
[[nodiscard]] std::optional<std::string> submit_id(const void* data, std::size_t size) noexcept;

// Encodes a header into a frame.
[[nodiscard]] zmq::message_t encode_header(role from, const body& b);

// Whether a command carries a payload frame.
[[nodiscard]] bool has_payload(command c);

// Outcome of a non-blocking send.
enum class send_status { sent, would_block, unreachable };

// Sends a message; routing_id is required for ROUTER sockets. The payload,
// if the command has one, is moved out of *payload (an empty frame if null).
send_status send(zmq::socket_ref s, socket_kind kind, const zmq::message_t* routing_id, role from,
                 const body& b, zmq::message_t* payload = nullptr);

// The ZAP User-Id the broker's ZAP handler gave the sender ("" if none).
[[nodiscard]] std::string user_id(const frames& f);

// The sender's IP address as libzmq reports it ("" if unknown).
[[nodiscard]] std::string peer_address(const frames& f);

}  // namespace argon::common
