#include "builtins.hpp"

#include <charconv>
#include <chrono>
#include <thread>

#include "argon/worker.hpp"

namespace argon::worker {
namespace builtin {

std::string echo(std::string_view payload) { return std::string(payload); }

unsigned long parse_millis(std::string_view payload) {
  std::string_view digits = payload;
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == '\r' || digits.back() == ' ')) digits.remove_suffix(1);
  unsigned long ms = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || ms > 86'400'000UL)
    throw task_error("task_error", "sleep expects a whole number of milliseconds (at most 86400000), got '" +
                                std::string(payload.substr(0, 64)) + "'");
  return ms;
}

std::string sleep(std::string_view payload) {
  std::this_thread::sleep_for(std::chrono::milliseconds(parse_millis(payload)));
  return std::string(payload);
}

std::string fail(std::string_view payload) { throw task_error("task_error", std::string(payload)); }

}  // namespace builtin

void add_builtin_handlers(worker& w) {
  w.handle_quick("echo", builtin::echo);
  w.handle("sleep", builtin::sleep);
  w.handle_quick("fail", builtin::fail);
}

}  // namespace argon::worker
