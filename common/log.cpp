// One write() call per line, so lines from threads do not interleave.
// Messages quote peers (ids, task names, addresses, their errors), so the
// text goes through printable(): a line stays one line and cannot steer
// the terminal.
#include "log.hpp"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "terminal_text.hpp"

namespace argon::common::log {
namespace {
std::atomic<int> threshold{5};       // highest level written
std::string program = "argon";      // prefix of each line

const char* name_of(level l) {
  static const char* names[] = {"", "FATAL", "ALERT", "CRIT", "ERROR", "WARN", "NOTE", "INFO", "DEBUG", "TRACE"};
  return names[static_cast<int>(l)];
}
}  // namespace

void set_level(int verbose) { threshold = verbose < 1 ? 1 : verbose > 9 ? 9 : verbose; }
bool enabled(level l) { return static_cast<int>(l) <= threshold.load(std::memory_order_relaxed); }
void set_program(std::string_view name) { program = name; }

void write(level l, std::string_view text) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  localtime_r(&ts.tv_sec, &parts);
  std::string line = fmt::format("{:02}:{:02}:{:02}.{:03} {}[{}] {} {}\n", parts.tm_hour, parts.tm_min, parts.tm_sec,
                                 ts.tv_nsec / 1000000, program, ::getpid(), name_of(l), printable(text));
  ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
  (void)r;
}

}  // namespace argon::common::log
