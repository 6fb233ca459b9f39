// argon-monitor's connection to a broker's monitor stream: one SUB socket
// (a CURVE client with the client key when a keyfile is given) subscribed
// to the names of the events wanted. When worker_joined is among them it
// also subscribes to a replay topic of its own ("replay/" and a random
// nonce), so the broker sends it, and it alone, the workers it knows. read()
// takes one event off the socket without blocking; a message that does not
// decode is counted and skipped, so a broker of another version cannot stop
// the monitor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "keys.hpp"
#include "monitor_events.hpp"

namespace argon::tools {

class subscriber {
 public:
  // topics: event names to subscribe to. keys: null for a plaintext broker.
  subscriber(const std::string& endpoint, const common::role_keys* keys, const std::vector<std::string>& topics);

  // The next event, or empty when none is waiting (or it did not decode).
  [[nodiscard]] std::optional<common::monitor::event> read();
  [[nodiscard]] zmq::socket_ref socket() { return socket_; }
  // Messages skipped because they did not decode.
  [[nodiscard]] std::uint64_t undecodable() const { return undecodable_; }

 private:
  zmq::context_t ctx_;               // owns the socket
  zmq::socket_t socket_;             // SUB
  std::uint64_t undecodable_ = 0;    // skipped messages
  std::string replay_topic_;         // "replay/NONCE/": the broker's replay of its workers, to this monitor alone
};

}  // namespace argon::tools
