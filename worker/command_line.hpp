// Splits a command line into argv the way a shell would quote it, without a shell.
//
// Words are separated by unquoted whitespace. 'single quotes' keep every
// character literally; "double quotes" keep everything except \" and \\,
// which stand for " and \; outside quotes a backslash takes the next
// character literally. Nothing is expanded: no variables, globs, pipes or
// redirections. An unterminated quote or a trailing backslash is a
// config_error naming the problem, and so is a command with no words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace argon::worker {

// The words of a command line; throws common::config_error on a mistake.
[[nodiscard]] std::vector<std::string> split_command(std::string_view command);

}  // namespace argon::worker
