// Parsing a program's flags with CLI11 the way every Argon program does:
// --help prints and exits 0, --version prints "PROGRAM VERSION" and exits 0,
// and a bad or missing flag prints CLI11's words and exits 2 (exit_usage,
// docs/operations.md), so a script can tell a usage mistake from a failed
// task. An argument the program does not know is named even when a required
// flag is missing too (CLI11 checks requirements first, and a mistyped flag
// is the likelier fault). $ARGON_KEY stands in for --key, and $ARGON_BROKER
// for --broker where a program connects to one. Header-only: only the programs' mains, which link
// CLI11, include it.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "errors.hpp"
#include "exit_code.hpp"

namespace argon::common {

// Parses argv into app, the flags of `program` (its name, for --version).
// Empty when the program should go on; otherwise the exit code to stop with
// (0 after --help, --help-all or --version, exit_usage for a bad flag).
[[nodiscard]] inline std::optional<int> parse_or_exit(CLI::App& app, int argc, char** argv, const std::string& program) {
  app.set_version_flag("--version", program + " " ARGON_VERSION);
  // Every subcommand's flags in one text: what the manual pages are made from.
  app.set_help_all_flag("--help-all", "Print help for every subcommand, then exit");
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::RequiredError& e) {
    if (auto extra = app.remaining(true); !extra.empty()) return app.exit(CLI::ExtrasError(extra)) == 0 ? exit_ok : exit_usage;
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
}

// The keyfile a program uses: the one given with --key, else $ARGON_KEY,
// unless --insecure was given ("" then, or when neither is set).
[[nodiscard]] inline std::string keyfile_or_env(const std::string& given, bool insecure) {
  if (!given.empty() || insecure) return given;
  const char* env = std::getenv("ARGON_KEY");
  return env ? env : "";
}

// The keyfile of a program that connects to a broker (the CLI, the monitor):
// keyfile_or_env(), and a config_error when there is none and no --insecure.
[[nodiscard]] inline std::string broker_keyfile(const std::string& given, bool insecure) {
  std::string key = keyfile_or_env(given, insecure);
  if (key.empty() && !insecure)
    throw config_error("give --key FILE (the broker's keyfile; or set ARGON_KEY) or --insecure for a plaintext broker");
  return key;
}

}  // namespace argon::common
