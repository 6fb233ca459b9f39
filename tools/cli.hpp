// The argon CLI's shared pieces: connection flags and exit codes.
//
// Every subcommand that talks to a broker takes the same flags
// (--broker, --key | --insecure, --connect-timeout, --verbose) and turns
// them into client_options here, so they read and fail the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "argon/client.hpp"
#include "exit_code.hpp"

namespace argon::cli {

// Exit codes of `argon submit` and `argon exec` (and the others where they apply),
// by their names in the CLI; the codes are every Argon program's.
enum exit_code : int {
  done = common::exit_ok,
  task_failed_code = common::exit_task_failed,
  usage = common::exit_usage,
  busy = common::exit_busy,
  unreachable = common::exit_unreachable,
};

// Flags every broker-facing subcommand shares.
struct connection_flags {
  std::vector<std::string> brokers{"127.0.0.1:5555"};  // --broker (repeatable, or comma-separated), else $ARGON_BROKER,
                                                      // else the broker's default bind on this host
  std::string key;              // --key
  bool insecure = false;        // --insecure
  double connect_timeout = 5;   // --connect-timeout, seconds
  int verbose = 5;              // --verbose
};

// Flags of every subcommand that runs one task.
struct task_flags {
  std::string priority = "normal";  // --priority
  double timeout = 0;               // --timeout, seconds
  bool no_retry = false;            // --no-retry
  unsigned max_attempts = 3;        // --max-attempts
};

// Adds the shared flags to a subcommand.
void add_connection_flags(CLI::App& cmd, connection_flags& f);
// Builds client options (throws common::config_error on a mistake) and sets the log level.
client_options to_options(const connection_flags& f);
// Adds --priority, --timeout, --no-retry and --max-attempts.
void add_task_flags(CLI::App& cmd, task_flags& f);
submit_options to_submit_options(const task_flags& f);
// The task's input: the whole file, or stdin when none is given. Throws common::config_error.
std::string read_payload(const std::optional<std::string>& file);
// Prints a result (output to stdout, failures to stderr) and returns the exit code.
int report(const result& r);

int run_submit(CLI::App& app);
int run_exec(CLI::App& app);
int run_status(CLI::App& app);
int run_bench(CLI::App& app);

// Each subcommand's flags, registered on the app before parsing.
void add_submit(CLI::App& app);
void add_exec(CLI::App& app);
void add_status(CLI::App& app);
void add_bench(CLI::App& app);

}  // namespace argon::cli
