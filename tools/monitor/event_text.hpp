// argon-monitor's text forms of an event: a JSON object, a plain line, and
// the readable trace line. All walk the event's each_field() list, so a new
// field shows up in every form without changes here. Every string in an
// event came from a peer, so the plain and trace lines show it through
// common::printable(); JSON lines are plain ASCII, with JSON's own \u
// escapes for controls and every other character past ASCII.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "monitor_events.hpp"

namespace argon::tools {

// {"event": name, "time": ISO 8601 UTC with ms, fields...}
[[nodiscard]] nlohmann::json to_json(const common::monitor::event& e);
// to_json(e) as one line of ASCII JSON: nothing in it can steer a terminal, and a
// byte that is not UTF-8 becomes U+FFFD (\ufffd), so the line always parses.
// broker: the endpoint it came from, as a "broker" key; "" for none (one broker).
[[nodiscard]] std::string json_line(const common::monitor::event& e, const std::string& broker = "");
// "2026-11-25T19:01:02.345Z task_done id=t-1 worker=3f2a run_ms=5.1"
[[nodiscard]] std::string plain_line(const common::monitor::event& e);
// "19:01:02.345 client c-3f2a…  → SUBMIT id=t-1 64 B" (local time)
[[nodiscard]] std::string trace_line(const common::monitor::event& e, const common::monitor::trace& t);
// ISO 8601 UTC with milliseconds, e.g. 2026-11-25T19:01:02.345Z.
[[nodiscard]] std::string iso_time(std::uint64_t unix_ms);
// Local HH:MM:SS.mmm.
[[nodiscard]] std::string clock_time(std::uint64_t unix_ms);
// "64 B", "1.2 KiB", "3.4 MiB".
[[nodiscard]] std::string byte_size(std::uint64_t bytes);

}  // namespace argon::tools
