// Test fixture: a raw DEALER peer that can send anything, well-formed or not.
//
// It speaks to a running broker with chosen CURVE keys (or none), so tests
// can play a hostile or confused client or worker and read back exactly
// what the broker answers.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "codec.hpp"
#include "keys.hpp"

namespace argon::test {

// How a raw peer's DEALER is set up, besides its keys.
struct raw_peer_options {
  int rcvhwm = 0;            // messages ZeroMQ may take off the network before the test reads them; 0: its default, 1000
  int rcvbuf = 0;            // the kernel's receive buffer in bytes, fixed; 0: the kernel's default, which may grow
  std::string routing_id{};  // its routing id; "" lets ZeroMQ pick one
};

class raw_peer {
 public:
  // self/broker null = plaintext.
  raw_peer(const std::string& endpoint, const common::keypair* self, const common::keypair* broker,
           const raw_peer_options& opts = {});

  // Sends the given frames as one message (the empty delimiter is added first).
  void send_frames(const std::vector<std::string>& frames);
  // Sends exactly these frames as one message, with no delimiter added (frames must not be empty).
  void send_parts(const std::vector<std::string>& frames);
  // Sends a well-formed message.
  void send(common::role from, const common::body& b, const std::string& payload = "");
  // The next message from the broker, decoded; empty if none arrives within limit.
  std::optional<common::message> receive(std::chrono::milliseconds limit);

 private:
  zmq::context_t ctx_;   // private context
  zmq::socket_t socket_; // the DEALER
};

}  // namespace argon::test
