// What a group of workers runs: task names, exec patterns, and routes.
#include <doctest/doctest.h>

#include "capability_class.hpp"

using namespace argon;
using broker::capability_class;
using broker::route_of;

TEST_SUITE("unit") {
TEST_CASE("routes: a task's name, or exec plus the program") {
  CHECK(route_of("resize", "") == "resize");
  CHECK(route_of("exec", "/usr/bin/tr") == "exec\n/usr/bin/tr");
}

TEST_CASE("names are matched exactly") {
  capability_class c({{"echo", "resize"}, {}});
  CHECK(c.can_run("echo"));
  CHECK(c.can_run("resize"));
  CHECK_FALSE(c.can_run("ech"));
  CHECK_FALSE(c.can_run("sleep"));
  CHECK_FALSE(c.can_run(route_of("exec", "/bin/ls")));
}

TEST_CASE("exec patterns match the program path and '*' does not cross '/'") {
  capability_class c({{}, {"/usr/bin/*", "/opt/tools/run-?"}});
  CHECK(c.can_run(route_of("exec", "/usr/bin/tr")));
  CHECK(c.can_run(route_of("exec", "/opt/tools/run-a")));
  CHECK_FALSE(c.can_run(route_of("exec", "/usr/bin/sub/tr")));
  CHECK_FALSE(c.can_run(route_of("exec", "/usr/local/bin/tr")));
  CHECK_FALSE(c.can_run(route_of("exec", "/opt/tools/run-ab")));
  CHECK_FALSE(c.can_run("tr"));
  // asked twice: the remembered answer is the same
  CHECK(c.can_run(route_of("exec", "/usr/bin/tr")));
  CHECK_FALSE(c.can_run(route_of("exec", "/usr/local/bin/tr")));
}

TEST_CASE("the cache of program answers stays bounded and right") {
  capability_class c({{}, {"/bin/*"}});
  for (int i = 0; i < 3000; ++i) CHECK(c.can_run(route_of("exec", "/bin/p" + std::to_string(i))) == true);
  CHECK_FALSE(c.can_run(route_of("exec", "/sbin/p1")));
}
}
