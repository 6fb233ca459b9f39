// The built-in task handlers, as plain functions so tests can call them.
// They fail a task with task_error of kind "task_error", the kind any
// handler's exception gets, so clients see what they always saw.
#pragma once

#include <string>
#include <string_view>

namespace argon::worker::builtin {

// Returns the payload unchanged.
std::string echo(std::string_view payload);
// Parses a whole number of milliseconds; throws task_error otherwise.
unsigned long parse_millis(std::string_view payload);
// Sleeps for the payload's milliseconds and returns the payload.
std::string sleep(std::string_view payload);
// Always throws task_error with the payload as its text.
[[noreturn]] std::string fail(std::string_view payload);

}  // namespace argon::worker::builtin
