// argon-monitor: watches a broker's monitor stream (argon-broker --monitor),
// or several brokers' at once (each event labelled with its broker).
//
// On a terminal it shows a live top-like view; with --json it prints one
// JSON object per event; with --trace one readable line per protocol
// message; otherwise (not a terminal) plain lines. Exits 0 on q, Ctrl-C or
// SIGTERM, and 2 on a usage or key mistake; any other failure prints
// "argon-monitor: error: ..." and exits with its code (common/exit_code.hpp).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <memory>

#include "cli_parse.hpp"
#include "errors.hpp"
#include "exit_code.hpp"
#include "live_view.hpp"
#include "loop.hpp"
#include "printer.hpp"

namespace {

using namespace argon;
namespace mon = argon::common::monitor;

struct flags {
  std::vector<std::string> endpoints;  // --monitor, one or more
  std::string key;                  // --key
  bool insecure = false;            // --insecure
  bool json = false;                // --json
  bool trace = false;               // --trace
  std::vector<std::string> filter;  // --filter
  double quiet = 3;                 // --quiet-after, seconds
};

void add_flags(CLI::App& app, flags& f) {
  app.add_option("--monitor,-m", f.endpoints,
                 "The broker's monitor endpoint (argon-broker --monitor), tcp://host:port or host:port; repeat it (or "
                 "separate with commas) to watch several brokers: each event is labelled with its broker")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_option("--key,-k", f.key, "Keyfile shared with the broker (default $ARGON_KEY)");
  app.add_flag("--insecure", f.insecure, "Watch a broker that runs without encryption")->excludes("--key");
  app.add_flag("--json", f.json, "Print one JSON object per event");
  app.add_flag("--trace", f.trace, "Print one line per protocol message the broker receives or sends");
  app.add_option("--filter", f.filter, "Print only these events (comma-separated names, e.g. task_failed,auth_failed)")
      ->delimiter(',');
  app.add_option("--quiet-after", f.quiet, "Seconds without any event before warning (default 3)")->check(CLI::PositiveNumber);
}

// Bit per event kind to print: --filter, else the trace alone with --trace, else everything but the trace.
std::uint32_t shown_kinds(const flags& f) {
  std::uint32_t shown = 0;
  for (const auto& name : f.filter) {
    const std::size_t k = mon::kind_of(name);
    if (k == mon::kind_count) throw common::config_error("--filter: no event is called '" + name + "'");
    shown |= 1u << k;
  }
  if (f.trace) shown |= 1u << mon::kind_index<mon::trace>();
  if (shown) return shown;
  return ((1u << mon::kind_count) - 1) & ~(1u << mon::kind_index<mon::trace>());
}

// Topics: every shown kind, and stats always (once a second, so silence means trouble).
std::vector<std::string> topics_for(std::uint32_t shown) {
  shown |= 1u << mon::kind_index<mon::stats>();
  std::vector<std::string> topics;
  for (std::size_t k = 0; k < mon::kind_count; ++k)
    if ((shown >> k) & 1u) topics.emplace_back(mon::name_of(k));
  return topics;
}

void on_signal(int) { tools::stop_requested = 1; }

void catch_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a signal ends zmq_poll at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int run(const flags& f) {
  const std::string key = common::broker_keyfile(f.key, f.insecure);
  std::vector<std::string> endpoints;
  for (const auto& e : f.endpoints) endpoints.push_back(common::normalize_endpoint(e));
  std::optional<common::role_keys> keys;
  if (!key.empty()) keys = common::load_keys(key);
  const bool live = !f.json && !f.trace && f.filter.empty() && isatty(STDOUT_FILENO);
  const std::uint32_t shown = live ? shown_kinds(flags{}) : shown_kinds(f);
  std::vector<std::unique_ptr<tools::subscriber>> subs;
  std::vector<tools::source> sources;
  for (const auto& e : endpoints) {
    subs.push_back(std::make_unique<tools::subscriber>(e, keys ? &*keys : nullptr, topics_for(shown)));
    sources.push_back({subs.back().get(), e});
  }
  std::unique_ptr<tools::sink> out;
  if (live) out = std::make_unique<tools::live_view>(endpoints);
  else out = std::make_unique<tools::printer>(f.json, shown, endpoints.size() > 1 ? endpoints : std::vector<std::string>{});
  return tools::run_loop(sources, *out, static_cast<std::uint64_t>(f.quiet * 1000));
}

}  // namespace

int main(int argc, char** argv) {
  catch_signals();  // first, so that a signal while the keys are derived stops the monitor cleanly too
  CLI::App app{"argon-monitor: watch a broker's events (argon-broker --monitor ENDPOINT)"};
  flags f;
  add_flags(app, f);
  if (auto code = common::parse_or_exit(app, argc, argv, "argon-monitor")) return *code;
  try {
    return run(f);
  } catch (...) {
    return common::report_fatal("argon-monitor");
  }
}
