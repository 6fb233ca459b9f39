// Test fixture: an argon-monitor started against a test system, and the
// JSON lines it has printed so far.
//
// The monitor's stdout and stderr go to a file in the system's directory;
// events() parses the lines that are JSON objects (warnings on stderr are
// skipped). wait_for() re-reads the file until a predicate over the events
// holds, so a test waits for what it expects instead of sleeping.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "keys.hpp"
#include "process.hpp"
#include "system.hpp"

namespace argon::test {

class event_log {
 public:
  // Starts argon-monitor --monitor ENDPOINT with the system's key flags and these extra flags.
  event_log(argon_system& sys, const std::string& monitor_endpoint, std::vector<std::string> flags, const std::string& name)
      : path_(sys.dir.file(name)) {
    std::vector<std::string> argv{exe("ARGON_MONITOR"), "--monitor", monitor_endpoint};
    for (auto& f : sys.key_flags()) argv.push_back(f);
    for (auto& f : flags) argv.push_back(f);
    process = std::make_unique<child_process>(argv, path_);
  }
  // Every JSON object printed so far, in order.
  [[nodiscard]] std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(read_file(path_));
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] != '{') continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
    return out;
  }
  // Events named name.
  [[nodiscard]] std::vector<nlohmann::json> named(const std::string& name) const {
    std::vector<nlohmann::json> out;
    for (auto& e : events())
      if (e.value("event", "") == name) out.push_back(e);
    return out;
  }
  // Re-reads until pred(events) holds or limit passes; returns pred's last answer.
  bool wait_for(const std::function<bool(const std::vector<nlohmann::json>&)>& pred, std::chrono::milliseconds limit) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (pred(events())) return true;
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Waits until the monitor has had a stats event: the broker then knows its subscriptions.
  bool wait_ready(std::chrono::milliseconds limit = std::chrono::seconds(10)) const {
    return wait_for([](const auto& evs) {
      for (auto& e : evs)
        if (e.value("event", "") == "stats") return true;
      return false;
    }, limit);
  }
  [[nodiscard]] std::string text() const { return read_file(path_); }

  std::unique_ptr<child_process> process;  // the monitor

 private:
  std::string path_;  // its output
};

// "tcp://127.0.0.1:PORT" on a free port, for --monitor.
inline std::string monitor_endpoint() { return "tcp://127.0.0.1:" + std::to_string(free_port()); }

// How many of evs are the event named name.
inline std::size_t count_named(const std::vector<nlohmann::json>& evs, const std::string& name) {
  std::size_t n = 0;
  for (auto& e : evs) n += e.value("event", "") == name;
  return n;
}

// A CURVE broker with --monitor, argon-monitor printing its auth_failed and
// stats events as JSON (ready), and a keyfile of another system (wrong_key):
// the start of every test of refused connections.
struct auth_watch {
  std::string endpoint = monitor_endpoint();  // the broker's --monitor
  argon_system sys{{.secure = true, .workers = 0, .broker_args = {"--monitor", endpoint}}};
  event_log log{sys, endpoint, {"--json", "--filter", "auth_failed,stats"}, "monitor.log"};
  std::string wrong_key = sys.dir.file("wrong.key");  // a keyfile the broker does not know

  auth_watch() {
    REQUIRE(log.wait_ready());
    common::write_keyfile(wrong_key);
  }
};

}  // namespace argon::test
