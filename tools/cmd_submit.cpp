// argon submit: one task; result bytes to stdout, outcome as the exit code.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli.hpp"
#include "errors.hpp"

namespace argon::cli {
namespace {

struct submit_flags {
  connection_flags conn;          // broker and key
  std::string priority = "normal";  // --priority
  double timeout = 0;             // --timeout, seconds
  bool no_retry = false;          // --no-retry
  unsigned max_attempts = 3;      // --max-attempts
  std::string task;               // TASK
  std::optional<std::string> payload;  // PAYLOAD, else stdin
} flags;

std::string read_stdin() {
  std::freopen(nullptr, "rb", stdin);
  return std::string(std::istreambuf_iterator<char>(std::cin), {});
}

int report(const result& r) {
  if (r.ok()) {
    std::fwrite(r.value().data(), 1, r.value().size(), stdout);
    std::fflush(stdout);
    return done;
  }
  const std::string& kind = r.error_kind();
  if (kind == "busy" && r.busy()) {
    const auto& b = *r.busy();
    std::fprintf(stderr, "argon: broker busy: queue %llu/%llu, capacity %llu, retry after ~%.1f s (%s)\n",
                 static_cast<unsigned long long>(b.depth), static_cast<unsigned long long>(b.limit),
                 static_cast<unsigned long long>(b.capacity), static_cast<double>(b.retry_after.count()) / 1000.0,
                 b.reason.c_str());
    return busy;
  }
  if (kind == "unreachable" || kind == "timeout") {
    std::fprintf(stderr, "argon: %s: %s\n", kind.c_str(), r.error_message().c_str());
    return unreachable;
  }
  std::fprintf(stderr, "argon: task failed (%s): %s\n", kind.c_str(), r.error_message().c_str());
  return task_failed_code;
}

}  // namespace

void add_submit(CLI::App& app) {
  auto* cmd = app.add_subcommand("submit", "Run one task and print its result (payload from stdin when not given)");
  add_connection_flags(*cmd, flags.conn);
  cmd->add_option("--priority,-P", flags.priority, "Lane: high, normal (default) or low")
      ->check(CLI::IsMember({"high", "normal", "low"}));
  cmd->add_option("--timeout,-t", flags.timeout, "Give up after this many seconds (exit 4)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-retry", flags.no_retry, "When the broker is busy, exit 3 at once instead of backing off");
  cmd->add_option("--max-attempts", flags.max_attempts, "Starts the broker may make of the task (default 3)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("TASK", flags.task, "Task name, e.g. echo")->required();
  cmd->add_option("PAYLOAD", flags.payload, "Task input; read from stdin when absent");
}

int run_submit(CLI::App&) {
  client_options o = to_options(flags.conn);
  submit_options s;
  common::parse_priority(flags.priority, s.pri);
  s.timeout = std::chrono::milliseconds(static_cast<long>(flags.timeout * 1000));
  s.retry = !flags.no_retry;
  s.max_attempts = flags.max_attempts;
  std::string payload = flags.payload ? *flags.payload : read_stdin();
  client c(o);
  return report(c.call(flags.task, std::move(payload), s));
}

}  // namespace argon::cli
