// argon status: the broker's state and counters as one JSON object; with
// --workers also "worker_list", one object per worker process.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace argon::cli {
namespace {

connection_flags flags;  // broker and key
bool with_workers = false;  // --workers

nlohmann::json to_json(const common::worker_status& w) {
  return {{"id", w.id},         {"address", w.address}, {"capacity", w.capacity},
          {"slots", w.slots},   {"busy", w.busy},       {"done", w.done},
          {"last_heartbeat_ms", w.last_heartbeat_ms},   {"leaving", w.leaving}};
}

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

nlohmann::json with_list(const common::status_reply_msg& s) {
  nlohmann::json j = to_json(s);
  if (!s.worker_list) return j;
  j["worker_list"] = nlohmann::json::array();
  for (const auto& w : *s.worker_list) j["worker_list"].push_back(to_json(w));
  return j;
}

}  // namespace

void add_status(CLI::App& app) {
  auto* cmd = app.add_subcommand("status", "Print the broker's state and counters as one JSON object");
  add_connection_flags(*cmd, flags);
  cmd->add_flag("--workers", with_workers, "Also list each worker: id, address, capacity, busy slots, tasks done, last heartbeat");
}

int run_status(CLI::App&) {
  client c(to_options(flags));
  try {
    std::cout << with_list(c.status(with_workers)).dump(2) << std::endl;
    return done;
  } catch (const task_failed& e) {
    std::cerr << "argon: " << e.what() << "\n";
    return unreachable;
  }
}

}  // namespace argon::cli
