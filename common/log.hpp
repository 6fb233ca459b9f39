// Levelled one-line logging to stderr, with Argon 0.18's levels:
// 1 fatal, 2 alert, 3 critical, 4 error, 5 warn (default), 6 note, 7 info,
// 8 debug, 9 trace. A line is "2026-12-01T04:15:14.123+00:00 program[pid] LEVEL message" (local time,
// ISO 8601); when stderr is the journal (JOURNAL_STREAM), "<N>program[pid] LEVEL message",
// N being the syslog priority, since the journal stamps lines itself. Callers test enabled()
// first on hot paths, so a disabled level costs one comparison.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace argon::common::log {

enum class level : int { fatal = 1, alert, critical, error, warn, note, info, debug, trace };

// Sets the process-wide threshold (1..9); messages above it are dropped.
void set_level(int verbose);

// Whether a message at this level would be written.
[[nodiscard]] bool enabled(level l);

// Writes one line (the program's name goes first when set).
void write(level l, std::string_view text);

// Names the program in each line, e.g. "argon-broker".
void set_program(std::string_view name);

template <class... A> void at(level l, fmt::format_string<A...> f, A&&... a) {
  if (enabled(l)) write(l, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void error(fmt::format_string<A...> f, A&&... a) { at(level::error, f, std::forward<A>(a)...); }
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) { at(level::warn, f, std::forward<A>(a)...); }
template <class... A> void note(fmt::format_string<A...> f, A&&... a) { at(level::note, f, std::forward<A>(a)...); }
template <class... A> void info(fmt::format_string<A...> f, A&&... a) { at(level::info, f, std::forward<A>(a)...); }
template <class... A> void debug(fmt::format_string<A...> f, A&&... a) { at(level::debug, f, std::forward<A>(a)...); }
template <class... A> void trace(fmt::format_string<A...> f, A&&... a) { at(level::trace, f, std::forward<A>(a)...); }

}  // namespace argon::common::log
