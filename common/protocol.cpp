// Names of commands and priorities, shared by logs, the CLI and the codec.
#include "protocol.hpp"

namespace argon::common {

command command_of(const body& b) {
  static constexpr command by_index[] = {
      command::submit,       command::cancel, command::status, command::ping,
      command::result,       command::failed, command::busy,   command::status_reply,
      command::pong,         command::error,  command::ready,  command::task,
      command::done,         command::hello,  command::heartbeat, command::bye,
      command::progress};
  static_assert(std::size(by_index) == std::variant_size_v<body>);
  return by_index[b.index()];
}

const char* command_name(command c) {
  switch (c) {
    case command::submit: return "SUBMIT";
    case command::cancel: return "CANCEL";
    case command::status: return "STATUS";
    case command::ping: return "PING";
    case command::result: return "RESULT";
    case command::failed: return "FAILED";
    case command::busy: return "BUSY";
    case command::status_reply: return "STATUS_REPLY";
    case command::pong: return "PONG";
    case command::error: return "ERROR";
    case command::ready: return "READY";
    case command::task: return "TASK";
    case command::done: return "DONE";
    case command::hello: return "HELLO";
    case command::heartbeat: return "HEARTBEAT";
    case command::bye: return "BYE";
    case command::progress: return "PROGRESS";
  }
  return "UNKNOWN";
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
