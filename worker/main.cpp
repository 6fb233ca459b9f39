// argon-worker: serves the built-in tasks (echo, sleep, fail) to a broker.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include <zmq.hpp>

#include "argon/worker.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace {

struct flags {
  std::string broker;      // --broker / --mgr
  std::string key;         // --key
  std::string worker_key;  // --worker-key
  bool insecure = false;   // --insecure
  unsigned capacity = 0;   // --capacity
  int verbose = 5;         // --verbose
  unsigned heartbeat_ms = 1000;  // --heartbeat-ms
  unsigned liveness = 3;   // --liveness
};

void add_flags(CLI::App& app, flags& f) {
  auto* broker = app.add_option("--broker,-b", f.broker, "Broker endpoint, tcp://host:port or host:port");
  app.add_option("--mgr,-m", f.broker, "The same as --broker, as Argon 0.18's ar-worker took it (host:port)")->excludes(broker);
  app.add_option("--key,-k", f.key, "Shared keyfile (the broker's); the worker's CURVE key is derived from it");
  app.add_option("--worker-key", f.worker_key, "Separate keyfile for the worker key, when the broker has --worker-key")->needs("--key");
  app.add_flag("--insecure", f.insecure, "Connect without encryption or authentication (plaintext)")->excludes("--key");
  app.add_option("--capacity,-c", f.capacity, "Task slots: how many tasks this worker runs at once")->required()->check(CLI::Range(1, 1024));
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "Heartbeat interval on the control channel, in ms (default 1000)")->check(CLI::Range(10, 600000));
  app.add_option("--liveness", f.liveness, "Heartbeat intervals without a word from the broker before the worker reconnects (default 3)")->check(CLI::Range(1, 100));
  app.add_option("--verbose,-v", f.verbose, "Log level 1 fatal .. 5 warn (default) .. 7 info .. 9 trace")->check(CLI::Range(1, 9));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"argon-worker: runs tasks for an Argon broker (built-in tasks: echo, sleep, fail)"};
  flags f;
  add_flags(app, f);
  CLI11_PARSE(app, argc, argv);
  argon::common::log::set_program("argon-worker");
  argon::common::log::set_level(f.verbose);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    argon::worker::options o;
    o.broker = f.broker;
    if (!f.key.empty()) o.keyfile = f.key;
    if (!f.worker_key.empty()) o.worker_keyfile = f.worker_key;
    o.insecure = f.insecure;
    o.capacity = f.capacity;
    o.heartbeat_ms = f.heartbeat_ms;
    o.liveness = f.liveness;
    argon::worker::worker w(o);
    argon::worker::add_builtin_handlers(w);
    return w.run();
  } catch (const argon::common::config_error& e) {
    std::cerr << "argon-worker: " << e.what() << "\n";
    return 2;
  } catch (const zmq::error_t& e) {
    std::cerr << "argon-worker: cannot connect to the broker endpoint: " << e.what() << "\n";
    return 2;
  }
}
