// How every socket of a worker connects to the broker.
//
// Each socket keeps a fixed routing id, so when the worker recreates it the
// broker's ROUTER_HANDOVER gives the new connection the old one's place.
// libzmq's own reconnects back off up to the same 32 s as the worker's
// (common/backoff.hpp), and CURVE is applied when the worker has keys. The returned socket is connecting; the
// connection itself completes in the background. An endpoint ZeroMQ cannot
// connect to at all is the user's mistake: common::config_error.
#pragma once

#include <optional>
#include <string>

#include <zmq.hpp>

#include "backoff.hpp"
#include "clock.hpp"
#include "keys.hpp"

namespace argon::worker {

// Longest wait between libzmq's own reconnect attempts on a worker socket.

// Where and how a worker reaches its broker.
struct broker_address {
  zmq::context_t* ctx = nullptr;          // the worker's ZeroMQ context
  std::string endpoint;                   // the broker's endpoint
  std::optional<common::role_keys> keys;  // CURVE keys; empty when insecure
};

// A new socket of this type with this routing id, connecting to the broker.
[[nodiscard]] zmq::socket_t open_broker_socket(const broker_address& broker, zmq::socket_type type,
                                               const std::string& routing_id, common::millis linger);

}  // namespace argon::worker
