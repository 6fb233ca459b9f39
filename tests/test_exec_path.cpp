// The one rule for the program of a task "exec", which client, broker and
// worker all apply: argv[0] is a clean absolute path, and argv is not too long.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "exec_path.hpp"
#include "protocol.hpp"

using namespace argon::common;

TEST_SUITE("unit") {
TEST_CASE("only absolute, lexically normal paths are clean") {
  CHECK(is_clean_absolute_path("/usr/bin/tr"));
  CHECK(is_clean_absolute_path("/a"));
  CHECK(is_clean_absolute_path("/opt/my tools/x.sh"));
  CHECK(is_clean_absolute_path("/usr/bin/..x"));
  CHECK_FALSE(is_clean_absolute_path("tr"));
  CHECK_FALSE(is_clean_absolute_path("./tr"));
  CHECK_FALSE(is_clean_absolute_path("bin/tr"));
  CHECK_FALSE(is_clean_absolute_path("/"));
  CHECK_FALSE(is_clean_absolute_path(""));
  CHECK_FALSE(is_clean_absolute_path("/usr//bin/tr"));
  CHECK_FALSE(is_clean_absolute_path("/usr/bin/./tr"));
  CHECK_FALSE(is_clean_absolute_path("/usr/bin/../../bin/rm"));
  CHECK_FALSE(is_clean_absolute_path("/usr/bin/.."));
  CHECK_FALSE(is_clean_absolute_path("/usr/bin/"));
  CHECK_FALSE(is_clean_absolute_path(std::string("/usr/bin/tr\0x", 13)));
}

TEST_CASE("an exec argv needs a clean program path first and at most max_list_items items") {
  CHECK(exec_argv_problem({"/usr/bin/tr", "a-z", "A-Z"}).empty());
  CHECK(exec_argv_problem({}).find("argv is empty") != std::string::npos);
  for (const std::string bad : {"tr", "/", "/usr/bin/", "/usr/bin/.", "/usr//bin/tr"}) {
    CAPTURE(bad);
    const std::string problem = exec_argv_problem({bad});
    CHECK(problem.find("absolute path") != std::string::npos);
    CHECK(problem.find(bad) != std::string::npos);  // the message names what was given
  }
  const std::string long_path = "/" + std::string(1000, 'x') + "/";
  CHECK(exec_argv_problem({long_path}).size() < 400);  // a huge path is cut in the message
  std::vector<std::string> many(max_list_items, "a");
  many[0] = "/bin/echo";
  CHECK(exec_argv_problem(many).empty());
  many.push_back("one too many");
  CHECK(exec_argv_problem(many).find("at most") != std::string::npos);
}
}
