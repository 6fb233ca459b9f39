#include "event_text.hpp"

#include <ctime>

#include <fmt/format.h>

#include "terminal_text.hpp"

namespace argon::tools {

namespace mon = argon::common::monitor;

namespace {

std::tm split(std::uint64_t unix_ms, bool utc) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm parts{};
  if (utc) gmtime_r(&secs, &parts);
  else localtime_r(&secs, &parts);
  return parts;
}

// A value as it goes in a plain line: shown through printable(), and quoted
// when empty or holding a space, a quote or '=', so key=value stays readable.
std::string plain_value(const std::string& v) {
  std::string shown = common::printable(v);
  if (!shown.empty() && shown.find_first_of(" \"=") == std::string::npos) return shown;
  std::string quoted = "\"";
  for (char c : shown) {
    if (c == '"') quoted += '\\';
    quoted += c;
  }
  return quoted + '"';
}
std::string plain_value(std::uint64_t v) { return std::to_string(v); }
std::string plain_value(double v) { return fmt::format("{:.3g}", v); }

}  // namespace

std::string iso_time(std::uint64_t unix_ms) {
  const std::tm t = split(unix_ms, true);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                     t.tm_min, t.tm_sec, unix_ms % 1000);
}

std::string clock_time(std::uint64_t unix_ms) {
  const std::tm t = split(unix_ms, false);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", t.tm_hour, t.tm_min, t.tm_sec, unix_ms % 1000);
}

std::string byte_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0);
  if (bytes < (1ull << 30)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0);
  return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / 1073741824.0);
}

nlohmann::json to_json(const mon::event& e) {
  nlohmann::json j = nlohmann::json::object();
  j["event"] = mon::name_of(e.content);
  j["time"] = iso_time(e.time_ms);
  std::visit([&](const auto& b) {
    std::decay_t<decltype(b)>::each_field(b, [&](const char* key, const auto& v) { j[key] = v; });
  }, e.content);
  return j;
}

std::string json_line(const mon::event& e, const std::string& broker) {
  auto j = to_json(e);
  if (!broker.empty()) j["broker"] = broker;
  return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string plain_line(const mon::event& e) {
  std::string line = iso_time(e.time_ms) + " " + mon::name_of(e.content);
  std::visit([&](const auto& b) {
    std::decay_t<decltype(b)>::each_field(b, [&](const char* key, const auto& v) {
      line.append(" ").append(key).append("=").append(plain_value(v));
    });
  }, e.content);
  return line;
}

std::string trace_line(const mon::event& e, const mon::trace& t) {
  const bool in = t.direction == "in";
  using common::printable;
  std::string line = fmt::format("{} {:<7} {:<16} {} {}", clock_time(e.time_ms), printable(t.role), printable(t.peer),
                                 in ? "→" : "←", printable(t.command));
  if (!t.id.empty()) line.append(" id=").append(printable(t.id));
  if (!t.detail.empty()) line.append(" ").append(printable(t.detail));
  if (t.payload_bytes || t.command == "SUBMIT" || t.command == "TASK" || t.command == "DONE" || t.command == "RESULT")
    line.append(" ").append(byte_size(t.payload_bytes));
  return line;
}

}  // namespace argon::tools
