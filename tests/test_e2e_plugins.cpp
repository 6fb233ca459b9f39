// End to end: task plugins. The example plugin (examples/plugin) and a test
// plugin serve tasks through a real broker and worker, with the host table
// telling them about their task; a plugin that is missing, not a shared
// object, built for another ABI version or refusing to register stops the
// worker at start with exit status 2 and a message naming the file.
#include <doctest/doctest.h>

#include <fstream>

#include "system.hpp"

using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// Starts argon-worker with one plugin against a broker that is not there; it must stop at start.
outcome start_with_plugin(const std::string& path) {
  return run({exe("ARGON_WORKER"), "--broker", "tcp://127.0.0.1:1", "--insecure", "--capacity", "1", "--plugin", path},
             "", 30s);
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("the example plugin serves wc and sha256") {
  argon_system sys({.secure = true, .workers = 0});
  sys.add_worker(2, {"--plugin", exe("ARGON_TASKS_PLUGIN")});
  REQUIRE(sys.wait_for_slots(2));
  auto wc = run(sys.cli("submit", {"wc"}), "one two\nthree\n", 30s);
  CHECK(wc.exit_code == 0);
  CHECK(wc.out == "2 3 14\n");
  auto sha = run(sys.cli("submit", {"sha256", "abc"}), "", 30s);
  CHECK(sha.exit_code == 0);
  CHECK(sha.out == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
  auto echo = run(sys.cli("submit", {"echo", "built-ins still there"}), "", 30s);
  CHECK(echo.out == "built-ins still there");
}

TEST_CASE("a plugin task sees its id, attempt and deadline, and fails with its own kind") {
  argon_system sys({.secure = false, .workers = 0});
  sys.add_worker(1, {"--plugin", exe("ARGON_TEST_PLUGIN_GOOD")});
  REQUIRE(sys.wait_for_slots(1));
  auto plain = run(sys.cli("submit", {"describe", "hi"}), "", 30s);
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find(" attempt=1 deadline=none cancelled=0 input=hi user=from-register") != std::string::npos);
  CHECK(plain.out.rfind("id=", 0) == 0);
  auto timed = run(sys.cli("submit", {"--timeout", "20", "describe", "x"}), "", 30s);
  CHECK(timed.out.find("deadline=set") != std::string::npos);
  auto refused = run(sys.cli("submit", {"refuse", "x"}), "", 30s);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("task failed (invalid_input): refused on purpose") != std::string::npos);
  auto reserved = run(sys.cli("submit", {"exec", "x"}), "", 30s);
  CHECK(reserved.exit_code == 1);  // the plugin could not take the reserved name
  CHECK(reserved.out.find("user=from-register") == std::string::npos);
}

TEST_CASE("a plugin built for another ABI version stops the worker with exit 2 and says so") {
  const std::string path = exe("ARGON_TEST_PLUGIN_BAD_ABI");
  auto o = start_with_plugin(path);
  CHECK(o.exit_code == 2);
  CHECK(o.err.find(path) != std::string::npos);
  CHECK(o.err.find("plugin ABI version 42, this worker speaks version 1") != std::string::npos);
}

TEST_CASE("a missing plugin, a file that is not one, and a refused registration each stop the worker with exit 2") {
  temp_dir dir;
  const std::string missing = dir.file("no-such-plugin.so");
  auto m = start_with_plugin(missing);
  CHECK(m.exit_code == 2);
  CHECK(m.err.find("plugin " + missing + ": no such file") != std::string::npos);

  const std::string junk = dir.file("junk.so");
  std::ofstream(junk) << "not a shared object\n";
  auto j = start_with_plugin(junk);
  CHECK(j.exit_code == 2);
  CHECK(j.err.find("plugin " + junk + ": cannot load it") != std::string::npos);

  const std::string failing = exe("ARGON_TEST_PLUGIN_FAILING_REGISTER");
  auto f = start_with_plugin(failing);
  CHECK(f.exit_code == 2);
  CHECK(f.err.find(failing + ": argon_plugin_register failed (returned 7)") != std::string::npos);
}
}
