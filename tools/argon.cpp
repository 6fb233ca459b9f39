// argon: the command-line client (keygen, submit, exec, status, bench).
//
// Exit codes (common/exit_code.hpp): 0 done, 1 task failed, 2 usage or
// configuration, 3 busy, 4 unreachable or timed out; an error that reaches
// main prints "argon: error: ..." and exits with its kind's code.
#include <csignal>
#include <iostream>

#include "cli.hpp"
#include "errors.hpp"
#include "cli_parse.hpp"
#include "exit_code.hpp"
#include "keys.hpp"
#include "log.hpp"

namespace argon::cli {

void add_connection_flags(CLI::App& cmd, connection_flags& f) {
  cmd.add_option("--broker,-b", f.brokers,
                 "Broker endpoint, tcp://host:port or host:port; repeat it (or separate with commas) for several brokers "
                 "(default $ARGON_BROKER, else 127.0.0.1:5555)")
      ->envname("ARGON_BROKER")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd.add_option("--key,-k", f.key, "Keyfile shared with the broker (default $ARGON_KEY)");
  cmd.add_flag("--insecure", f.insecure, "Talk to a broker that runs without encryption")->excludes("--key");
  cmd.add_option("--connect-timeout", f.connect_timeout, "Seconds to wait for the broker to answer (default 5)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--verbose,-v", f.verbose, "Log level 1 fatal .. 5 warn (default) .. 7 info .. 9 trace")
      ->check(CLI::Range(1, 9));
}

client_options to_options(const connection_flags& f) {
  common::log::set_level(f.verbose);
  const std::string key = common::broker_keyfile(f.key, f.insecure);
  client_options o;
  if (f.brokers.size() == 1) o.broker = f.brokers.front();
  else o.brokers = f.brokers;
  if (!key.empty()) o.keyfile = key;
  o.insecure = f.insecure;
  o.connect_timeout = std::chrono::milliseconds(static_cast<long>(f.connect_timeout * 1000));
  return o;
}

}  // namespace argon::cli

namespace {

std::string keygen_path;  // argon keygen FILE

void add_keygen(CLI::App& app) {
  auto* cmd = app.add_subcommand("keygen", "Write a new random keyfile (mode 0600); never overwrites. FILE - writes it to stdout");
  cmd->add_option("FILE", keygen_path, "Where to write the keyfile; - for stdout")->required();
}

// "-" is stdout, for a secret store or a pipe, as is usual; a file named "-" is ./-.
int run_keygen() {
  if (keygen_path == "-") {
    std::cout << argon::common::new_keyfile_text() << std::flush;
    if (!std::cout) throw argon::common::system_error("cannot write the keyfile to stdout");
    return 0;
  }
  argon::common::write_keyfile(keygen_path);
  std::cerr << "argon: wrote a new keyfile to " << keygen_path << "\n";
  return 0;
}

int dispatch(CLI::App& app) {
  if (app.got_subcommand("keygen")) return run_keygen();
  if (app.got_subcommand("submit")) return argon::cli::run_submit(app);
  if (app.got_subcommand("exec")) return argon::cli::run_exec(app);
  if (app.got_subcommand("status")) return argon::cli::run_status(app);
  if (app.got_subcommand("bench")) return argon::cli::run_bench(app);
  std::cerr << app.help();
  return argon::cli::usage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"argon: submit tasks to an Argon broker and look at it"};
  app.require_subcommand(1);
  add_keygen(app);
  argon::cli::add_submit(app);
  argon::cli::add_exec(app);
  argon::cli::add_status(app);
  argon::cli::add_bench(app);
  if (auto code = argon::common::parse_or_exit(app, argc, argv, "argon")) return *code;
  argon::common::log::set_program("argon");
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return dispatch(app);
  } catch (const argon::task_failed& e) {
    // Whatever did not succeed exits as a failed task of the same kind would.
    return argon::cli::report(argon::result::failure("", e.kind(), e.what()));
  } catch (...) {
    return argon::common::report_fatal("argon");
  }
}
