// The --exec command splitter: words, quotes and backslashes as a shell
// reads them, nothing expanded, and clear errors for what cannot be read.
#include <doctest/doctest.h>

#include "command_line.hpp"
#include "errors.hpp"

using argon::worker::split_command;
using words = std::vector<std::string>;

TEST_SUITE("unit") {
TEST_CASE("whitespace separates words, however much of it") {
  CHECK(split_command("tr a-z A-Z") == words{"tr", "a-z", "A-Z"});
  CHECK(split_command("  gzip\t-c \n") == words{"gzip", "-c"});
  CHECK(split_command("sha256sum") == words{"sha256sum"});
}

TEST_CASE("single quotes keep everything literally") {
  CHECK(split_command("sh -c 'echo \"$HOME\" \\n; exit 3'") == words{"sh", "-c", "echo \"$HOME\" \\n; exit 3"});
  CHECK(split_command("a'b c'd") == words{"ab cd"});
  CHECK(split_command("x '' y") == words{"x", "", "y"});
}

TEST_CASE("double quotes keep spaces; backslash escapes only a quote or a backslash there") {
  CHECK(split_command("printf \"%s\\n\" \"a b\"") == words{"printf", "%s\\n", "a b"});
  CHECK(split_command("echo \"say \\\"hi\\\" \\\\ \"") == words{"echo", "say \"hi\" \\ "});
  CHECK(split_command("\"\"") == words{""});
}

TEST_CASE("outside quotes a backslash takes the next character literally") {
  CHECK(split_command("ls my\\ file \\'q") == words{"ls", "my file", "'q"});
  CHECK(split_command("a\\\\b") == words{"a\\b"});
}

TEST_CASE("nothing is expanded: no variables, globs, pipes or redirections") {
  CHECK(split_command("echo $HOME *.txt | wc > out") == words{"echo", "$HOME", "*.txt", "|", "wc", ">", "out"});
}

TEST_CASE("unterminated quotes, a trailing backslash and an empty command are clear errors") {
  CHECK_THROWS_WITH_AS(split_command("sh -c 'echo hi"), doctest::Contains("unterminated single quote"),
                       argon::common::config_error);
  CHECK_THROWS_WITH_AS(split_command("echo \"hi"), doctest::Contains("unterminated double quote"), argon::common::config_error);
  CHECK_THROWS_WITH_AS(split_command("echo hi\\"), doctest::Contains("trailing backslash"), argon::common::config_error);
  CHECK_THROWS_WITH_AS(split_command("   "), doctest::Contains("empty command"), argon::common::config_error);
  CHECK_THROWS_AS(split_command(""), argon::common::config_error);
}
}
