// The live view's frame: the lines of one redraw, from the live state.
//
// A header (endpoint, clock, events seen, the quit key), the broker's
// totals and rates from the latest stats event, the latency percentiles,
// one row per worker with its running tasks, then recent failures and
// refused connections. When nothing has arrived yet the frame says so and
// why that may be. Rows past the terminal's height are summarised. Text
// from peers is shown through common::printable(), before padding, so the
// columns line up with what the terminal shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "live_state.hpp"

namespace argon::tools {

// What the frame shows besides the state.
struct frame_info {
  std::string endpoint;      // the broker's monitor endpoint
  std::uint64_t now_ms = 0;  // Unix ms of this redraw
  int rows = 24;             // terminal height
  std::string notice;        // a warning line ("" for none)
};

[[nodiscard]] std::vector<std::string> render(const live_state& s, const frame_info& info);

}  // namespace argon::tools
