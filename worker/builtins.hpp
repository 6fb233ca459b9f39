// The built-in task handlers, as plain functions so tests can call them.
#pragma once

#include <string>
#include <string_view>

namespace argon::worker::builtin {

// Returns the payload unchanged.
std::string echo(std::string_view payload);
// Parses a whole number of milliseconds; throws std::invalid_argument otherwise.
unsigned long parse_millis(std::string_view payload);
// Sleeps for the payload's milliseconds and returns the payload.
std::string sleep(std::string_view payload);
// Always throws std::runtime_error with the payload as its text.
[[noreturn]] std::string fail(std::string_view payload);

}  // namespace argon::worker::builtin
