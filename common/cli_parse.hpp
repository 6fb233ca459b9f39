// Parsing a program's flags with CLI11 the way every Argon program does:
// --help prints and exits 0, a bad or missing flag prints CLI11's words and
// exits 2 (exit_usage, docs/operations.md), so a script can tell a usage
// mistake from a failed task. Header-only: only the programs' mains, which
// link CLI11, include it.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

#include "exit_code.hpp"

namespace argon::common {

// Parses argv into app. Empty when the program should go on; otherwise the
// exit code to stop with (0 after --help or --version, exit_usage for a bad flag).
[[nodiscard]] inline std::optional<int> parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
}

}  // namespace argon::common
