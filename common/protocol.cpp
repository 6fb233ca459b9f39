// Names of commands and priorities, shared by logs, the CLI and the codec;
// commands and their names come from the message structs in protocol.hpp.
#include "protocol.hpp"

namespace argon::common {

namespace {

// The alternative of body whose wire_command is c; variant_size_v<body> when none is.
template <std::size_t... I> constexpr std::size_t find_index(std::uint64_t c, std::index_sequence<I...>) {
  std::size_t found = std::variant_size_v<body>;
  ((static_cast<std::uint64_t>(std::variant_alternative_t<I, body>::wire_command) == c ? (found = I) : 0), ...);
  return found;
}

constexpr std::size_t index_of(std::uint64_t c) { return find_index(c, std::make_index_sequence<std::variant_size_v<body>>{}); }

// Each message struct is the only one with its command, so decoding picks exactly one.
template <std::size_t... I> constexpr bool commands_unique(std::index_sequence<I...>) {
  return ((index_of(static_cast<std::uint64_t>(std::variant_alternative_t<I, body>::wire_command)) == I) && ...);
}
static_assert(commands_unique(std::make_index_sequence<std::variant_size_v<body>>{}));

template <std::size_t... I> const char* name_at(std::size_t i, std::index_sequence<I...>) {
  static constexpr const char* names[] = {std::variant_alternative_t<I, body>::wire_name...};
  return names[i];
}

}  // namespace

command command_of(const body& b) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::wire_command; }, b);
}

std::size_t body_index(std::uint64_t c) { return index_of(c); }

const char* command_name(command c) {
  const std::size_t i = index_of(static_cast<std::uint64_t>(c));
  return i < std::variant_size_v<body> ? name_at(i, std::make_index_sequence<std::variant_size_v<body>>{}) : "UNKNOWN";
}

std::string_view task_id_of(const body& b) {
  return std::visit([](const auto& m) -> std::string_view {
    if constexpr (requires { m.id; }) return m.id;
    else return {};
  }, b);
}

const char* priority_name(priority p) {
  switch (p) {
    case priority::high: return "high";
    case priority::normal: return "normal";
    case priority::low: return "low";
  }
  return "normal";
}

bool parse_priority(const std::string& name, priority& out) {
  if (name == "high") out = priority::high;
  else if (name == "normal") out = priority::normal;
  else if (name == "low") out = priority::low;
  else return false;
  return true;
}

}  // namespace argon::common
