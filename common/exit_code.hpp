// How an Argon program ends: its exit codes, and the one line it prints
// when an exception reaches main.
//
// Every main ends in `catch (...) { return common::report_fatal("PROGRAM"); }`
// after any catch of its own, so nothing escapes as an abort: the program
// prints "PROGRAM: error: WHAT" on stderr and exits with the code of the
// exception's kind. docs/operations.md has the table; scripts rely on it,
// so a code never changes meaning.
#pragma once

#include <string_view>

#include "argon/error.hpp"

namespace argon::common {

// The exit codes, defined with the error kinds in the public argon/error.hpp.
using argon::exit_code;
using enum argon::exit_code;

// Call only inside a catch block: prints "PROGRAM: error: WHAT" for the
// exception in flight and returns its exit code.
[[nodiscard]] int report_fatal(std::string_view program) noexcept;

}  // namespace argon::common
