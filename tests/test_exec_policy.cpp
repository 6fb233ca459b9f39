// Which programs task "exec" may run: clean absolute paths (the rule is
// common/task_rules.hpp's) matched by an --allow-exec glob; PATH lookup and
// the scrubbed environment.
#include <doctest/doctest.h>

#include <cstdlib>

#include "errors.hpp"
#include "exec_policy.hpp"

using namespace argon::worker;
using argon::common::config_error;

TEST_SUITE("unit") {

TEST_CASE("a pattern's * does not cross a slash, and .. cannot climb out of an allowed directory") {
  exec_policy p({"/usr/bin/*", "/opt/tools/convert-?"});
  CHECK(p.enabled());
  CHECK(p.allows("/usr/bin/tr"));
  CHECK(p.allows("/opt/tools/convert-a"));
  CHECK_FALSE(p.allows("/usr/bin/sub/tr"));
  CHECK_FALSE(p.allows("/usr/bin/../../bin/rm"));
  CHECK_FALSE(p.allows("/usr/bin/./tr"));
  CHECK_FALSE(p.allows("/usr//bin/tr"));
  CHECK_FALSE(p.allows("/bin/rm"));
  CHECK_FALSE(p.allows("/opt/tools/convert-ab"));
  CHECK_FALSE(p.allows("tr"));
}

TEST_CASE("without patterns nothing is allowed, and the refusal names the program and the flag") {
  exec_policy none;
  CHECK_FALSE(none.enabled());
  CHECK_FALSE(none.allows("/usr/bin/tr"));
  CHECK(none.refusal("/bin/rm") == "program /bin/rm is not allowed on this worker (argon-worker --allow-exec PATTERN)");
  CHECK(none.refusal("rm").find("absolute path") != std::string::npos);
}

TEST_CASE("patterns must be absolute") {
  CHECK_THROWS_WITH_AS(exec_policy({"bin/*"}), doctest::Contains("absolute"), config_error);
  CHECK_THROWS_AS(exec_policy({""}), config_error);
  CHECK_THROWS_AS(exec_policy({"*"}), config_error);
}

TEST_CASE("programs are found in PATH once, or must be executable files") {
  const std::string sh = resolve_program("sh", "/nonexistent:/usr/bin:/bin");
  CHECK((sh == "/usr/bin/sh" || sh == "/bin/sh"));
  CHECK(resolve_program("/bin/sh", "") == "/bin/sh");
  CHECK_THROWS_WITH_AS(resolve_program("no-such-program-argon", "/usr/bin:/bin"), doctest::Contains("not found in PATH"),
                       config_error);
  CHECK_THROWS_WITH_AS(resolve_program("/etc/passwd", ""), doctest::Contains("not executable"), config_error);
  CHECK_THROWS_AS(resolve_program("/nonexistent/prog", ""), config_error);
  CHECK_THROWS_AS(resolve_program("sh", "relative/dir"), config_error);
}

TEST_CASE("programs get PATH and only the variables asked for") {
  ::setenv("ARGON_TEST_COPIED", "copied value", 1);
  CHECK(build_exec_env({}) == std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin"});
  CHECK(build_exec_env({"ARGON_TEST_COPIED", "LANG=C.UTF-8"}) ==
        std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "ARGON_TEST_COPIED=copied value", "LANG=C.UTF-8"});
  CHECK(build_exec_env({"PATH=/opt/bin"}) == std::vector<std::string>{"PATH=/opt/bin"});
  ::unsetenv("ARGON_TEST_MISSING");
  CHECK_THROWS_WITH_AS(build_exec_env({"ARGON_TEST_MISSING"}), doctest::Contains("not set"), config_error);
  CHECK_THROWS_AS(build_exec_env({"=x"}), config_error);
  CHECK_THROWS_AS(build_exec_env({"BAD NAME=x"}), config_error);
}
}
