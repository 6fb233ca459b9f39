// The argon CLI's shared pieces: connection flags and exit codes.
//
// Every subcommand that talks to a broker takes the same flags
// (--broker, --key | --insecure, --connect-timeout, --verbose) and turns
// them into client_options here, so they read and fail the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "argon/client.hpp"

namespace argon::cli {

// Exit codes of `argon submit` (and the others where they apply).
enum exit_code : int { done = 0, task_failed_code = 1, usage = 2, busy = 3, unreachable = 4 };

// Flags every broker-facing subcommand shares.
struct connection_flags {
  std::string broker;           // --broker
  std::string key;              // --key
  bool insecure = false;        // --insecure
  double connect_timeout = 5;   // --connect-timeout, seconds
  int verbose = 5;              // --verbose
};

// Adds the shared flags to a subcommand.
void add_connection_flags(CLI::App& cmd, connection_flags& f);
// Builds client options (throws common::config_error on a mistake) and sets the log level.
client_options to_options(const connection_flags& f);

int run_submit(CLI::App& app);
int run_status(CLI::App& app);
int run_bench(CLI::App& app);

// Each subcommand's flags, registered on the app before parsing.
void add_submit(CLI::App& app);
void add_status(CLI::App& app);
void add_bench(CLI::App& app);

}  // namespace argon::cli
