// The broker's settings, filled from the command line by main.cpp.
#pragma once

#include <cstddef>
#include <array>
#include <optional>
#include <string>

#include "keys.hpp"

namespace argon::broker {

struct config {
  std::string bind = "tcp://*:5555";            // ROUTER endpoint for clients and workers
  std::optional<common::role_keys> keys;        // CURVE keys; empty only with --insecure
  std::size_t queue_limit = 0;                  // tasks; 0 = 3 x connected slots
  std::size_t queue_bytes_limit = 256u << 20;   // payload bytes queued at most
  std::size_t max_payload = 16u << 20;          // largest payload accepted
  std::size_t aging_floor_ms = 1000;            // a task waits at least this long before moving up a lane
  std::size_t heartbeat_ms = 1000;              // heartbeat interval to workers' control channels
  std::size_t liveness = 3;                     // missed heartbeats before a worker is declared dead
  std::size_t result_ttl_ms = 60000;            // finished tasks' outcomes are kept this long
  std::size_t result_bytes_limit = 64u << 20;   // bytes of kept outcomes at most (oldest go first)
  std::size_t client_backlog_bytes = 64u << 20; // bytes waiting for one client before its SUBMITs get BUSY client_slow
  std::string monitor;                          // XPUB endpoint of the monitor stream; "" = none
  std::array<unsigned, 3> lane_share_pct{100, 100, 100};  // per lane (high, normal, low): most % of slots it may run at once
};

// Parses --lane-share: LANE=PCT items, comma-separated (e.g. "low=50,normal=80"),
// into share; throws common::config_error naming a bad item.
void parse_lane_share(const std::string& text, std::array<unsigned, 3>& share);

}  // namespace argon::broker
