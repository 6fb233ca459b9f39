// The rules a SUBMIT's task follows, which client, broker and worker all
// apply: a task name of 1 to 128 bytes without control characters, and for
// task "exec" an argv whose program is a clean absolute path.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "task_rules.hpp"
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

TEST_CASE("a task name is 1 to 128 bytes without control characters") {
  CHECK(task_name_problem("echo").empty());
  CHECK(task_name_problem(std::string(max_id_bytes, 'n')).empty());
  CHECK(task_name_problem("résumé").empty());  // UTF-8 is fine
  CHECK(task_name_problem("").find("needs a name") != std::string::npos);
  CHECK(task_name_problem(std::string(max_id_bytes + 1, 'n')).find("at most 128 bytes") != std::string::npos);
  CHECK(task_name_problem("ec\nho").find("control characters") != std::string::npos);
  CHECK(task_name_problem(std::string("e\0cho", 5)).find("control characters") != std::string::npos);
  CHECK(task_name_problem("echo\x7f").find("control characters") != std::string::npos);
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
