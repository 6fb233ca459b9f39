// One write() call per line, so lines from threads do not interleave.
// Messages quote peers (ids, task names, addresses, their errors), so the
// text goes through printable(): a line stays one line and cannot steer
// the terminal.
#include "log.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
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

namespace {
// Whether stderr is the journal's stream (systemd sets JOURNAL_STREAM to its
// "device:inode"): the journal stamps each line itself, and reads a "<N>"
// prefix as its syslog priority.
bool to_journal() {
  static const bool journal = [] {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st{};
    if (!stream || ::fstat(STDERR_FILENO, &st) != 0) return false;
    return fmt::format("{}:{}", st.st_dev, st.st_ino) == stream;
  }();
  return journal;
}

// Argon's levels 1 (fatal) .. 9 (trace) as syslog priorities 0 (emerg) .. 7 (debug).
int syslog_priority(level l) { return std::min(std::max(static_cast<int>(l) - 1, 0), 7); }

// The local time as ISO 8601 with milliseconds and the UTC offset: 2026-12-01T04:15:14.123+01:00.
std::string timestamp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  localtime_r(&ts.tv_sec, &parts);
  const long offset_min = parts.tm_gmtoff / 60;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}{:02}:{:02}", parts.tm_year + 1900, parts.tm_mon + 1,
                     parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, ts.tv_nsec / 1000000,
                     offset_min < 0 ? '-' : '+', std::labs(offset_min) / 60, std::labs(offset_min) % 60);
}
}  // namespace

void write(level l, std::string_view text) {
  const std::string line = to_journal()
                               ? fmt::format("<{}>{}[{}] {} {}\n", syslog_priority(l), program, ::getpid(), name_of(l), printable(text))
                               : fmt::format("{} {}[{}] {} {}\n", timestamp(), program, ::getpid(), name_of(l), printable(text));
  ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
  (void)r;
}

}  // namespace argon::common::log
