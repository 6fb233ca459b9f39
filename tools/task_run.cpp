// What `argon submit` and `argon exec` share: the task flags, reading the
// payload, and turning a result into output and an exit code. The result
// goes to stdout byte for byte, for scripts; a failure's kind and text come
// from the broker or a worker and go to stderr through printable().
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "errors.hpp"
#include "terminal_text.hpp"
#include "user_file.hpp"

namespace argon::cli {

void add_task_flags(CLI::App& cmd, task_flags& f) {
  cmd.add_option("--priority,-P", f.priority, "Lane: high, normal (default) or low")
      ->check(CLI::IsMember({"high", "normal", "low"}));
  cmd.add_option("--timeout,-t", f.timeout, "Give up after this many seconds (exit 4)")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--no-retry", f.no_retry, "When the broker is busy, exit 3 at once instead of backing off");
  cmd.add_option("--max-attempts", f.max_attempts, "Starts the broker may make of the task (default 3)")
      ->check(CLI::Range(1u, common::max_attempts_limit));
}

submit_options to_submit_options(const task_flags& f) {
  submit_options s;
  common::parse_priority(f.priority, s.pri);
  s.timeout = std::chrono::milliseconds(static_cast<long>(f.timeout * 1000));
  s.retry = !f.no_retry;
  s.max_attempts = f.max_attempts;
  return s;
}

std::string read_payload(const std::optional<std::string>& file) {
  return file ? common::read_user_file(*file, "the input file") : common::read_stdin("the task's input from stdin");
}

int report(const result& r) {
  if (r.ok()) {
    std::fwrite(r.value().data(), 1, r.value().size(), stdout);
    std::fflush(stdout);
    return done;
  }
  const std::string kind = common::printable(r.error_kind());
  const std::string message = common::printable(r.error_message());
  if (r.error_kind() == "busy" && r.busy()) {
    const auto& b = *r.busy();
    std::fprintf(stderr, "argon: broker busy: queue %llu/%llu, capacity %llu, retry after ~%.1f s (%s)\n",
                 static_cast<unsigned long long>(b.depth), static_cast<unsigned long long>(b.limit),
                 static_cast<unsigned long long>(b.capacity), static_cast<double>(b.retry_after.count()) / 1000.0,
                 common::printable(b.reason).c_str());
    return busy;
  }
  if (kind == "unreachable" || kind == "timeout") {
    std::fprintf(stderr, "argon: %s: %s\n", kind.c_str(), message.c_str());
    return unreachable;
  }
  std::fprintf(stderr, "argon: task failed (%s): %s\n", kind.c_str(), message.c_str());
  return task_failed_code;
}

}  // namespace argon::cli
