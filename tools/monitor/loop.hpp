// argon-monitor's loop: a zmq_poll over the SUB socket and the key input,
// events to the sink as they come, a tick about once a second, and a
// notice when the broker stays silent: nothing within quiet_ms of the
// start ("is --monitor enabled there and the key right?"), or nothing for
// a while after events had come; with several brokers, for each one. Returns 0 when stop becomes set (SIGINT,
// SIGTERM), the sink asks to quit (q), or its output is gone.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "sink.hpp"
#include "subscriber.hpp"

namespace argon::tools {

// Set by the signal handler; the loop ends when it is non-zero.
extern volatile std::sig_atomic_t stop_requested;

// One subscriber per broker, with the endpoint its notices name.
struct source {
  subscriber* sub;       // the broker's monitor stream
  std::string endpoint;  // for the silence notice
};

int run_loop(const std::vector<source>& sources, sink& out, std::uint64_t quiet_ms);

}  // namespace argon::tools
