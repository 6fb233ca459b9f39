// Test fixture: a running Argon system (broker + workers) on loopback.
//
// It writes a fresh keyfile (or runs --insecure), starts the real
// argon-broker on a free 127.0.0.1 port and the requested argon-worker
// processes, waits until their slots have registered, and kills all of them
// when it goes out of scope. cli() builds an `argon` command line aimed at
// this broker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

namespace argon::test {

struct system_options {
  bool secure = true;                     // CURVE with a generated keyfile, else --insecure
  int workers = 1;                        // worker processes to start
  int capacity = 4;                       // slots per worker
  std::vector<std::string> broker_args{}; // extra broker flags, e.g. --queue-limit 2
  int broker_fd_limit = 0;                // the broker's RLIMIT_NOFILE; 0 keeps the test's own
  bool start_broker = true;               // false: the endpoint is only reserved until start_broker()
};

class argon_system {
 public:
  explicit argon_system(system_options opts);
  argon_system(const argon_system&) = delete;
  argon_system& operator=(const argon_system&) = delete;

  // Kills the broker (SIGKILL unless another signal is given), waits for it to exit,
  // and starts a new one on the same endpoint with the same flags.
  void restart_broker(int sig = 9);
  // Starts a broker on the endpoint with the configured flags (the first, when
  // the options said not to start one; restart_broker() for any other).
  void start_broker();
  // Starts one more worker process with this many slots.
  child_process& add_worker(int capacity, std::vector<std::string> extra = {});
  // Waits (up to 15 s) until the broker reports at least n slots; false on time-out.
  // Counts only slots whose worker said HELLO (they take tasks), unless hello_only is false.
  bool wait_for_slots(int n, bool hello_only = true);
  // The broker's status as JSON text (empty if it did not answer).
  std::string status_json();
  // An `argon SUBCOMMAND --broker EP (--key K | --insecure) ARGS...` command line.
  std::vector<std::string> cli(const std::string& subcommand, std::vector<std::string> args = {}) const;
  // Key flags for this system: {"--key", path} or {"--insecure"}.
  std::vector<std::string> key_flags() const;

  temp_dir dir;                    // keyfile and logs
  std::string keyfile;             // empty when insecure
  std::string endpoint;            // tcp://127.0.0.1:PORT
  std::unique_ptr<child_process> broker;            // the broker process
  std::vector<std::unique_ptr<child_process>> workers;  // worker processes

 private:
  system_options opts_;            // as given
  int broker_starts_ = 0;          // brokers started so far, for log names
};

// Broker and worker flags for tests that kill or freeze peers: a 200 ms
// heartbeat and a liveness of 3, so a loss is noticed within 0.6 s.
inline const std::vector<std::string> fast_beats{"--heartbeat-ms", "200", "--liveness", "3"};

}  // namespace argon::test
