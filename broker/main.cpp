// argon-broker: parses flags, loads keys, runs the broker until SIGINT or SIGTERM,
// then drains: accepted tasks finish and their results are sent before it exits 0.
// A bad flag, key or endpoint exits 2; any other failure prints one line and
// exits with its code (common/exit_code.hpp, docs/operations.md).
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include "broker.hpp"
#include "cli_parse.hpp"
#include "exit_code.hpp"
#include "log.hpp"
#include "service_notify.hpp"
#include "stop_signals.hpp"
#include "uv_handles.hpp"

namespace {

using namespace argon;

struct flags {
  std::string bind;                 // --bind
  std::string host;                 // --host (ar-manager)
  int port = 0;                     // --port (ar-manager)
  std::string key;                  // --key
  std::string worker_key;           // --worker-key
  bool insecure = false;            // --insecure
  std::size_t queue_limit = 0;      // --queue-limit
  std::string lane_share;           // --lane-share LANE=PCT,...
  std::size_t queue_bytes = 256u << 20;  // --queue-bytes
  std::size_t max_payload = 16u << 20;   // --max-payload
  int verbose = 5;                  // --verbose
  std::size_t heartbeat_ms = 1000;  // --heartbeat-ms
  std::size_t liveness = 3;         // --liveness
  double result_ttl = 60;           // --result-ttl, seconds
  std::size_t result_bytes = 64u << 20;  // --result-bytes
  std::size_t client_backlog_bytes = 64u << 20;  // --client-backlog-bytes
  double drain_timeout = 30;        // --drain-timeout, seconds
  std::string monitor;              // --monitor
};

void add_flags(CLI::App& app, flags& f) {
  app.add_option("--bind", f.bind, "Endpoint to listen on (tcp://host:port or host:port); default tcp://*:5555");
  app.add_option("--host,-H", f.host, "Interface to listen on, as ar-manager's --host (used with --port)");
  app.add_option("--port,-p", f.port, "Port to listen on, as ar-manager's --port")->check(CLI::Range(1, 65535));
  app.add_option("--key,-k", f.key, "Shared keyfile: CURVE keys for the broker, workers and clients are derived from it (default $ARGON_KEY)");
  app.add_option("--worker-key", f.worker_key, "Separate keyfile whose worker key workers must present")->needs("--key");
  app.add_flag("--insecure", f.insecure, "Run without encryption or authentication (plaintext)")->excludes("--key");
  app.add_option("--queue-limit", f.queue_limit, "Most tasks waiting for a slot; default 3 x connected slots");
  app.add_option("--lane-share", f.lane_share,
                 "Most share of the connected slots a lane may run at once, LANE=PCT comma-separated "
                 "(e.g. low=50: low tasks never take more than half the slots); default 100 for each lane");
  app.add_option("--queue-bytes", f.queue_bytes, "Most payload bytes waiting for a slot (default 256 MiB)");
  app.add_option("--max-payload", f.max_payload, "Largest task payload accepted, in bytes (default 16 MiB)");
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "Heartbeat interval to workers, in ms (default 1000)")->check(CLI::Range(10, 600000));
  app.add_option("--liveness", f.liveness, "Missed heartbeats before a worker is declared dead (default 3)")->check(CLI::Range(1, 100));
  app.add_option("--result-ttl", f.result_ttl, "Seconds a finished task's outcome is kept for a resubmission or a client that was away (default 60)")->check(CLI::Range(0.0, 86400.0));
  app.add_option("--result-bytes", f.result_bytes, "Bytes of kept outcomes at most; the oldest go first (default 64 MiB)");
  app.add_option("--client-backlog-bytes", f.client_backlog_bytes,
                 "Bytes that may wait for a client that does not read before its new tasks are refused as busy (default 64 MiB)");
  app.add_option("--drain-timeout", f.drain_timeout, "On SIGTERM/SIGINT, seconds to wait for accepted tasks to finish (default 30)")->check(CLI::Range(0.0, 86400.0));
  app.add_option("--monitor", f.monitor, "Publish monitor events on this endpoint (tcp://host:port or host:port) for argon-monitor");
  app.add_option("--verbose,-v", f.verbose, "Log level 1 fatal .. 5 warn (default) .. 7 info .. 9 trace")->check(CLI::Range(1, 9));
}

broker::config make_config(const flags& f) {
  broker::config cfg;
  if (!f.bind.empty()) cfg.bind = common::normalize_endpoint(f.bind);
  else if (f.port) cfg.bind = "tcp://" + (f.host.empty() ? std::string("*") : f.host) + ":" + std::to_string(f.port);
  const std::string key = common::keyfile_or_env(f.key, f.insecure);
  if (!f.insecure && key.empty())
    throw common::config_error("give --key FILE (create one with 'argon keygen FILE'; or set ARGON_KEY) or --insecure to run without encryption");
  if (!key.empty())
    cfg.keys = common::load_keys(key, f.worker_key.empty() ? std::nullopt : std::optional<std::string>(f.worker_key));
  cfg.queue_limit = f.queue_limit;
  if (!f.lane_share.empty()) broker::parse_lane_share(f.lane_share, cfg.lane_share_pct);
  cfg.queue_bytes_limit = f.queue_bytes;
  cfg.max_payload = f.max_payload;
  cfg.heartbeat_ms = f.heartbeat_ms;
  cfg.liveness = f.liveness;
  cfg.result_ttl_ms = static_cast<std::size_t>(f.result_ttl * 1000);
  cfg.result_bytes_limit = f.result_bytes;
  cfg.client_backlog_bytes = f.client_backlog_bytes;
  if (!f.monitor.empty()) cfg.monitor = common::normalize_endpoint(f.monitor);
  return cfg;
}

// The first signal drains: no new tasks, accepted ones finish (up to the drain
// timeout), their results go out, then the loop stops. A second signal stops at once.
class shutdown {
 public:
  shutdown(uv_loop_t* loop, broker::broker& b, common::millis limit)
      : loop_(loop), broker_(b), limit_(limit), deadline_(loop, [this] { give_up(); }) {}
  void on_signal(int sig) {
    if (draining_) {
      common::log::note("signal {} again: stopping now with {} task(s) unfinished", sig, broker_.unfinished());
      return uv_stop(loop_);
    }
    draining_ = true;
    common::log::note("signal {}: draining (up to {} ms; a second signal stops at once)", sig, limit_.count());
    common::notify_stopping(fmt::format("draining: {} task(s) unfinished", broker_.unfinished()));
    deadline_.start(limit_);
    broker_.drain([this] {
      common::log::note("drained: every accepted task has had its outcome sent");
      uv_stop(loop_);
    });
  }

 private:
  void give_up() {
    common::log::note("drain timeout: stopping with {} task(s) unfinished and {} client(s) not having read what waits "
                      "for them; they resubmit their unfinished tasks to the next broker",
                      broker_.unfinished(), broker_.clients_behind());
    uv_stop(loop_);
  }
  uv_loop_t* loop_;          // the loop to stop
  broker::broker& broker_;   // what drains
  common::millis limit_;     // --drain-timeout
  common::timer deadline_;   // fires at the drain timeout
  bool draining_ = false;    // a signal has come
};

int run(const broker::config& cfg, common::millis drain_limit) {
  common::event_loop loop;
  common::steady_clock clock;
  broker::broker b(cfg, clock, loop.get());
  shutdown stop(loop.get(), b, drain_limit);
  auto on_signal = [&](int sig) { stop.on_signal(sig); };
  common::signal_watch sigint(loop.get(), SIGINT, on_signal);
  common::signal_watch sigterm(loop.get(), SIGTERM, on_signal);
  common::signal_watch sighup(loop.get(), SIGHUP, [](int) {
    common::log::warn("SIGHUP: ignored; argon-broker reloads nothing (restart it to change its settings)");
  });
  common::release_stop_signals();  // one that came while starting is handled now
  // Written at every level, in the log's format: where the broker can be reached is what an operator looks for first.
  common::log::write(common::log::level::note,
                     fmt::format("listening on {} ({})", b.endpoint(), cfg.keys ? "CURVE" : "INSECURE plaintext"));
  if (!cfg.monitor.empty())
    common::log::write(common::log::level::note,
                       fmt::format("monitor events on {} ({})", b.monitor_endpoint(), cfg.keys ? "CURVE" : "INSECURE plaintext"));
  common::notify_ready(fmt::format("listening on {}", b.endpoint()));
  loop.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  common::hold_stop_signals();  // until the loop watches them: a stop while the keys are derived drains cleanly
  CLI::App app{"argon-broker: hands tasks from clients to ready worker slots"};
  flags f;
  add_flags(app, f);
  if (auto code = common::parse_or_exit(app, argc, argv, "argon-broker")) return *code;
  common::log::set_program("argon-broker");
  common::log::set_level(f.verbose);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(make_config(f), common::millis(static_cast<long>(f.drain_timeout * 1000)));
  } catch (const zmq::error_t& e) {
    std::cerr << "argon-broker: error: cannot listen: " << e.what() << "\n";
    return common::exit_usage;
  } catch (...) {
    return common::report_fatal("argon-broker");
  }
}
