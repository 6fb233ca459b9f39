// argon-worker: serves tasks to a broker: the built-in ones (echo, sleep,
// fail), programs named with --exec, programs clients name when
// --allow-exec permits them, and plugins loaded with --plugin. Any mistake
// in the flags, a program that cannot be found, a plugin that cannot be
// loaded or a broker endpoint ZeroMQ refuses stops it at start with
// "argon-worker: error: ..." and exit status 2; a second stop signal exits 1
// at once, and other failures exit with their code (common/exit_code.hpp).
#include <CLI/CLI.hpp>

#include <csignal>

#include "argon/worker.hpp"
#include "cli_parse.hpp"
#include "errors.hpp"
#include "exit_code.hpp"
#include "log.hpp"
#include "stop_signals.hpp"

namespace {

struct flags {
  std::vector<std::string> brokers;  // --broker, one or more
  std::string mgr;         // --mgr
  std::string key;         // --key
  std::string worker_key;  // --worker-key
  bool insecure = false;   // --insecure
  unsigned capacity = 0;   // --capacity
  std::string lanes;       // --lanes high,normal,low
  int verbose = 5;         // --verbose
  unsigned heartbeat_ms = 1000;  // --heartbeat-ms
  unsigned liveness = 3;   // --liveness
  std::vector<std::string> exec;        // --exec NAME=COMMAND
  std::vector<std::string> allow_exec;  // --allow-exec PATTERN
  std::vector<std::string> exec_env;    // --exec-env NAME[=VALUE]
  std::size_t max_result_bytes = 16u << 20;  // --max-result-bytes
  unsigned kill_grace_ms = 2000;        // --kill-grace-ms
  std::vector<std::string> plugins;     // --plugin FILE
};

void add_flags(CLI::App& app, flags& f) {
  auto* broker = app.add_option("--broker,-b", f.brokers,
                                "Broker endpoint, tcp://host:port or host:port (default $ARGON_BROKER); repeat it (or separate "
                                "with commas) to serve several brokers with the same --capacity in all")
                     ->envname("ARGON_BROKER")
                     ->delimiter(',')
                     ->allow_extra_args(false);
  app.add_option("--mgr,-m", f.mgr, "The same as --broker, as Argon 0.18's ar-worker took it (host:port)")->excludes(broker);
  app.add_option("--key,-k", f.key, "Shared keyfile (the broker's); the worker's CURVE key is derived from it (default $ARGON_KEY)");
  app.add_option("--worker-key", f.worker_key, "Separate keyfile for the worker key, when the broker has --worker-key")->needs("--key");
  app.add_flag("--insecure", f.insecure, "Connect without encryption or authentication (plaintext)")->excludes("--key");
  app.add_option("--capacity,-c", f.capacity, "Task slots: how many tasks this worker runs at once")->required()->check(CLI::Range(1, 1024));
  app.add_option("--lanes", f.lanes,
                 "Lanes this worker's slots take, comma-separated among high, normal, low (default all): "
                 "e.g. --lanes high keeps its slots for high-priority tasks");
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "Heartbeat interval on the control channel, in ms (default 1000)")->check(CLI::Range(10, 600000));
  app.add_option("--liveness", f.liveness, "Heartbeat intervals without a word from the broker before the worker reconnects (default 3)")->check(CLI::Range(1, 100));
  app.add_option("--verbose,-v", f.verbose, "Log level 1 fatal .. 5 warn (default) .. 7 info .. 9 trace")->check(CLI::Range(1, 9));
  app.add_option("--exec", f.exec, "NAME=COMMAND: task NAME runs COMMAND (no shell) with the payload on stdin; stdout is the result (repeatable)")->allow_extra_args(false);
  app.add_option("--allow-exec", f.allow_exec, "PATTERN: task 'exec' may run programs whose absolute path matches this glob (repeatable)")->allow_extra_args(false);
  app.add_option("--exec-env", f.exec_env, "NAME (copied from this environment) or NAME=VALUE for programs, besides PATH (repeatable)")->allow_extra_args(false);
  app.add_option("--max-result-bytes", f.max_result_bytes, "A program's stdout past this many bytes fails its task (default 16 MiB)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_option("--kill-grace-ms", f.kill_grace_ms, "From SIGTERM to SIGKILL when a program's task times out or is cancelled (default 2000)")
      ->check(CLI::Range(0, 600000));
  app.add_option("--plugin", f.plugins, "Shared object with task handlers (argon/plugin.h) (repeatable)")->allow_extra_args(false);
}

argon::worker::options to_options(const flags& f) {
  argon::worker::options o;
  if (!f.mgr.empty()) o.broker = f.mgr;
  else if (f.brokers.size() == 1) o.broker = f.brokers.front();
  else o.brokers = f.brokers;
  if (const std::string key = argon::common::keyfile_or_env(f.key, f.insecure); !key.empty()) o.keyfile = key;
  if (!f.worker_key.empty()) o.worker_keyfile = f.worker_key;
  o.insecure = f.insecure;
  o.capacity = f.capacity;
  if (!f.lanes.empty()) o.lanes = argon::worker::parse_lanes(f.lanes);
  o.heartbeat_ms = f.heartbeat_ms;
  o.liveness = f.liveness;
  o.allow_exec = f.allow_exec;
  o.exec_env = f.exec_env;
  o.max_result_bytes = f.max_result_bytes;
  o.kill_grace_ms = f.kill_grace_ms;
  return o;
}

// --exec NAME=COMMAND, each checked and resolved now.
void add_commands(argon::worker::worker& w, const std::vector<std::string>& items) {
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw argon::common::config_error("--exec '" + item + "': give NAME=COMMAND, e.g. --exec upper='tr a-z A-Z'");
    try {
      w.handle_command(item.substr(0, eq), item.substr(eq + 1));
    } catch (const argon::common::config_error& e) {
      throw argon::common::config_error("--exec " + item.substr(0, eq) + ": " + e.what());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  argon::common::hold_stop_signals();  // until the worker's loop watches them: a stop while starting is clean
  CLI::App app{"argon-worker: runs tasks for an Argon broker (built-in tasks: echo, sleep, fail)"};
  flags f;
  add_flags(app, f);
  if (auto code = argon::common::parse_or_exit(app, argc, argv, "argon-worker")) return *code;
  argon::common::log::set_program("argon-worker");
  argon::common::log::set_level(f.verbose);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    argon::worker::worker w(to_options(f));
    argon::worker::add_builtin_handlers(w);
    add_commands(w, f.exec);
    for (const auto& p : f.plugins) w.load_plugin(p);
    return w.run();
  } catch (...) {
    return argon::common::report_fatal("argon-worker");
  }
}
