// argon status: the broker's state and counters as one JSON object.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace argon::cli {
namespace {

connection_flags flags;  // broker and key

nlohmann::json to_json(const common::status_reply_msg& s) {
  return {{"workers", s.workers},           {"slots", s.slots},
          {"busy_slots", s.busy_slots},     {"queue_depth", s.queue_depth},
          {"queue_high", s.queue_high},     {"queue_normal", s.queue_normal},
          {"queue_low", s.queue_low},       {"queue_limit", s.queue_limit},
          {"queue_bytes", s.queue_bytes},   {"queue_bytes_limit", s.queue_bytes_limit},
          {"submitted", s.submitted},       {"completed", s.completed},
          {"failed", s.failed},             {"busy_replies", s.busy_replies},
          {"protocol_errors", s.protocol_errors}, {"uptime_ms", s.uptime_ms}};
}

}  // namespace

void add_status(CLI::App& app) {
  auto* cmd = app.add_subcommand("status", "Print the broker's state and counters as one JSON object");
  add_connection_flags(*cmd, flags);
}

int run_status(CLI::App&) {
  client c(to_options(flags));
  try {
    std::cout << to_json(c.status()).dump(2) << std::endl;
    return done;
  } catch (const task_failed& e) {
    std::cerr << "argon: " << e.what() << "\n";
    return unreachable;
  }
}

}  // namespace argon::cli
