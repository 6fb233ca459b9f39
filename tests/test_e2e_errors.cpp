// End to end: every program, given a bad flag or a keyfile it cannot read,
// prints one "PROGRAM: error: ..." line (a bad flag: CLI11's own words) and
// exits 2, the documented code for a configuration mistake, without
// touching the network.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "process.hpp"

using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// Whether text is exactly one line that starts with prefix.
bool one_line_starting(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0 && text.find('\n') == text.size() - 1;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a keyfile that cannot be read stops every program with exit 2 and one error line") {
  temp_dir dir;
  const std::string missing = dir.file("no-such.key");
  const std::string said = "error: cannot read keyfile '" + missing + "'";
  struct program {
    std::string name;               // what it calls itself on stderr
    std::vector<std::string> argv;  // a command that must read the keyfile first
  };
  const std::vector<program> programs{
      {"argon-broker", {exe("ARGON_BROKER"), "--bind", "tcp://127.0.0.1:1", "--key", missing}},
      {"argon-worker", {exe("ARGON_WORKER"), "--broker", "tcp://127.0.0.1:1", "--capacity", "1", "--key", missing}},
      {"argon", {exe("ARGON_CLI"), "submit", "--broker", "tcp://127.0.0.1:1", "--key", missing, "echo", "x"}},
      {"argon-monitor", {exe("ARGON_MONITOR"), "--monitor", "tcp://127.0.0.1:1", "--key", missing}},
      {"argon-example-worker", {exe("ARGON_EXAMPLE_WORKER"), "--broker", "tcp://127.0.0.1:1", "--capacity", "1", "--key", missing}},
      {"argon-example-client", {exe("ARGON_EXAMPLE_CLIENT"), "--broker", "tcp://127.0.0.1:1", "--key", missing}},
  };
  for (const auto& p : programs) {
    CAPTURE(p.name);
    auto o = run(p.argv, "", 30s);
    CHECK(o.exit_code == 2);
    CHECK(one_line_starting(o.err, p.name + ": " + said));
    CHECK(o.out.empty());
  }
}

TEST_CASE("a flag a program does not know exits 2, as a bad configuration does") {
  for (const std::string env : {"ARGON_BROKER", "ARGON_WORKER", "ARGON_MONITOR", "ARGON_EXAMPLE_WORKER", "ARGON_EXAMPLE_CLIENT"}) {
    CAPTURE(env);
    auto o = run({exe(env.c_str()), "--no-such-flag"}, "", 30s);
    CHECK(o.exit_code == 2);
    CHECK_FALSE(o.err.empty());  // CLI11's words: the unknown flag, or a required one that is missing
  }
  auto cli = run({exe("ARGON_CLI"), "submit", "--no-such-flag"}, "", 30s);
  CHECK(cli.exit_code == 2);
  auto help = run({exe("ARGON_BROKER"), "--help"}, "", 30s);
  CHECK(help.exit_code == 0);
}

TEST_CASE("a broker endpoint ZeroMQ refuses stops the worker with exit 2 and says which endpoint") {
  auto o = run({exe("ARGON_WORKER"), "--broker", "tcp://127.0.0.1:nope", "--capacity", "1", "--insecure"}, "", 30s);
  CHECK(o.exit_code == 2);
  CHECK(one_line_starting(o.err, "argon-worker: error: cannot connect to the broker endpoint tcp://127.0.0.1:nope"));
}
}
