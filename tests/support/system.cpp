#include "system.hpp"

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <stdexcept>

#include <thread>

#include "keys.hpp"

namespace argon::test {

argon_system::argon_system(system_options opts) : opts_(std::move(opts)) {
  if (opts_.secure) {
    keyfile = dir.file("argon.key");
    common::write_keyfile(keyfile);
  }
  endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  if (opts_.start_broker) start_broker();
  for (int i = 0; i < opts_.workers; ++i) add_worker(opts_.capacity);
}

void argon_system::start_broker() {
  std::vector<std::string> argv{exe("ARGON_BROKER_PROGRAM"), "--bind", endpoint, "--verbose", "7"};
  for (auto& f : key_flags()) argv.push_back(f);
  for (auto& a : opts_.broker_args) argv.push_back(a);
  std::string log = broker_starts_++ ? "broker" + std::to_string(broker_starts_) + ".log" : "broker.log";
  broker = std::make_unique<child_process>(argv, dir.file(log));
  if (opts_.broker_fd_limit > 0) {
    // posix_spawn cannot set limits in the child; the broker is just starting, so
    // lowering its limit now is as good as before exec for the connections to come.
    const rlimit lim{static_cast<rlim_t>(opts_.broker_fd_limit), static_cast<rlim_t>(opts_.broker_fd_limit)};
    if (prlimit(broker->pid(), RLIMIT_NOFILE, &lim, nullptr) != 0) throw std::runtime_error("prlimit failed");
  }
}

void argon_system::restart_broker(int sig) {
  if (broker) broker->stop(sig, std::chrono::seconds(40));
  broker.reset();
  start_broker();
}

child_process& argon_system::add_worker(int capacity, std::vector<std::string> extra) {
  std::vector<std::string> argv{exe("ARGON_WORKER"), "--broker", endpoint, "--capacity", std::to_string(capacity)};
  for (auto& f : key_flags()) argv.push_back(f);
  for (auto& a : extra) argv.push_back(a);
  std::string log = dir.file("worker" + std::to_string(workers.size()) + ".log");
  workers.push_back(std::make_unique<child_process>(argv, log));
  return *workers.back();
}

std::vector<std::string> argon_system::key_flags() const {
  if (keyfile.empty()) return {"--insecure"};
  return {"--key", keyfile};
}

std::vector<std::string> argon_system::cli(const std::string& subcommand, std::vector<std::string> args) const {
  std::vector<std::string> argv{exe("ARGON_CLI"), subcommand, "--broker", endpoint};
  for (auto& f : key_flags()) argv.push_back(f);
  for (auto& a : args) argv.push_back(a);
  return argv;
}

std::string argon_system::status_json() {
  auto o = run(cli("status", {"--connect-timeout", "2"}), "", std::chrono::seconds(10));
  return o.exit_code == 0 ? o.out : "";
}

// A slot takes tasks once its worker's HELLO has come (its control channel
// and its slots connect separately), so only slots of workers that said
// HELLO (capacity known) count.
bool argon_system::wait_for_slots(int n, bool hello_only) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < end) {
    auto o = run(cli("status", {"--connect-timeout", "2", "--workers"}), "", std::chrono::seconds(10));
    auto j = nlohmann::json::parse(o.exit_code == 0 ? o.out : "", nullptr, false);
    if (!j.is_discarded() && j.contains("worker_list") && j["worker_list"].is_array()) {
      int usable = 0;
      for (const auto& w : j["worker_list"])
        if (!hello_only || w.value("capacity", 0) > 0) usable += w.value("slots", 0);
      if (usable >= n) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace argon::test
