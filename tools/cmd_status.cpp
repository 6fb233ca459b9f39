// argon status: the broker's state and counters as one JSON object; with
// --workers also "worker_list", one object per worker process. With several
// brokers: {"brokers": [{"endpoint", "status"} or {"endpoint", "error"}, ...],
// "total": each counter summed over the brokers that answered, uptime_ms the
// longest}, and exit code 4 when any broker did not answer. Keys are the
// STATUS_REPLY map keys that protocol.hpp lists. Worker ids and addresses
// are the peers' bytes, so the JSON is plain ASCII (controls and every
// character past ASCII as \u escapes) and a byte that is not UTF-8 becomes
// U+FFFD: the output always parses and cannot steer a terminal.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "terminal_text.hpp"

namespace argon::cli {
namespace {

connection_flags status_flags_given;  // broker and key
bool with_workers = false;  // --workers

// The keys and values of a map-shaped reply part, as the protocol model lists them.
template <class S> nlohmann::json to_json(const S& s) {
  nlohmann::json j = nlohmann::json::object();
  S::each_key(s, [&](const common::field& f, const auto& v) { j[f.name] = v; });
  return j;
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
  add_connection_flags(*cmd, status_flags_given);
  cmd->add_flag("--workers", with_workers, "Also list each worker: id, address, capacity, busy slots, tasks done, last heartbeat");
  cmd->footer("With several brokers (--broker A --broker B, or A,B) it prints {\"brokers\": [each one's endpoint and status, "
              "or error], \"total\": counters summed} and exits 4 if any broker did not answer.");
}

// Each broker's snapshot and their total; 4 (unreachable) unless every broker answered.
int print_each(client& c) {
  nlohmann::json out = {{"brokers", nlohmann::json::array()}, {"total", nlohmann::json::object()}};
  common::status_reply_msg total;
  int code = done;
  for (const auto& b : c.status_each(with_workers)) {
    nlohmann::json one = {{"endpoint", b.endpoint}};
    if (!b.status) {
      one["error"] = b.error;
      code = unreachable;
    } else {
      one["status"] = with_list(*b.status);
      common::status_reply_msg::each_key(total, [&](const common::field& f, auto& sum) {
        const auto& v = one["status"][f.name];
        if (std::string_view(f.name) == "uptime_ms") sum = std::max<std::uint64_t>(sum, v.template get<std::uint64_t>());
        else sum += v.template get<std::uint64_t>();
      });
    }
    out["brokers"].push_back(std::move(one));
  }
  out["total"] = to_json(total);
  std::cout << out.dump(2, ' ', true, nlohmann::json::error_handler_t::replace) << std::endl;
  return code;
}

int run_status(CLI::App&) {
  client c(to_options(status_flags_given));
  if (status_flags_given.brokers.size() > 1) return print_each(c);
  try {
    std::cout << with_list(c.status(with_workers)).dump(2, ' ', true, nlohmann::json::error_handler_t::replace) << std::endl;
    return done;
  } catch (const task_failed& e) {
    std::cerr << "argon: " << common::printable(e.what()) << "\n";
    return unreachable;
  }
}

}  // namespace argon::cli
