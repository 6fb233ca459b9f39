// End to end: every program, given a bad flag, or a keyfile or task input
// it cannot read (missing, or a directory), prints one "PROGRAM: error:
// ..." line (a bad flag: CLI11's own words) and exits 2, the documented code
// for a configuration mistake, without touching the network.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <csignal>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "process.hpp"
#include "system.hpp"

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
  // Each way a keyfile cannot be read: it is missing, or it is a directory.
  for (const std::string& bad : {dir.file("no-such.key"), dir.path()}) {
    const std::string said = "error: cannot read keyfile '" + bad + "'";
    struct program {
      std::string name;               // what it calls itself on stderr
      std::vector<std::string> argv;  // a command that must read the keyfile first
    };
    const std::vector<program> programs{
        {"argon-broker", {exe("ARGON_BROKER_PROGRAM"), "--bind", "tcp://127.0.0.1:1", "--key", bad}},
        {"argon-worker", {exe("ARGON_WORKER"), "--broker", "tcp://127.0.0.1:1", "--capacity", "1", "--key", bad}},
        {"argon", {exe("ARGON_CLI"), "submit", "--broker", "tcp://127.0.0.1:1", "--key", bad, "echo", "x"}},
        {"argon-monitor", {exe("ARGON_MONITOR"), "--monitor", "tcp://127.0.0.1:1", "--key", bad}},
        {"argon-example-worker", {exe("ARGON_EXAMPLE_WORKER"), "--broker", "tcp://127.0.0.1:1", "--capacity", "1", "--key", bad}},
        {"argon-example-client", {exe("ARGON_EXAMPLE_CLIENT"), "--broker", "tcp://127.0.0.1:1", "--key", bad}},
    };
    for (const auto& p : programs) {
      CAPTURE(p.name);
      CAPTURE(bad);
      auto o = run(p.argv, "", 30s);
      CHECK(o.exit_code == 2);
      CHECK(one_line_starting(o.err, p.name + ": " + said));
      CHECK(o.out.empty());
    }
  }
}

TEST_CASE("a directory given as the broker's separate worker keyfile is a configuration error too") {
  temp_dir dir;
  const std::string key = dir.file("good.key");
  REQUIRE(run({exe("ARGON_CLI"), "keygen", key}, "", 30s).exit_code == 0);
  auto o = run({exe("ARGON_BROKER_PROGRAM"), "--bind", "tcp://127.0.0.1:1", "--key", key, "--worker-key", dir.path()}, "", 30s);
  CHECK(o.exit_code == 2);
  CHECK(one_line_starting(o.err, "argon-broker: error: cannot read keyfile '" + dir.path() + "'"));
}

TEST_CASE("a task input that cannot be read is a configuration error, not an empty payload") {
  temp_dir dir;
  auto from_file = run({exe("ARGON_CLI"), "exec", "--broker", "tcp://127.0.0.1:1", "--insecure", "-i", dir.path(), "/bin/cat"}, "", 30s);
  CHECK(from_file.exit_code == 2);
  CHECK(one_line_starting(from_file.err, "argon: error: cannot read the input file '" + dir.path() + "': it is a directory"));
  auto missing = run({exe("ARGON_CLI"), "exec", "--broker", "tcp://127.0.0.1:1", "--insecure", "-i", dir.file("none"), "/bin/cat"}, "", 30s);
  CHECK(missing.exit_code == 2);
  CHECK(one_line_starting(missing.err, "argon: error: cannot read the input file '" + dir.file("none") + "'"));
  // Standard input redirected from a directory: read(2) fails, and nothing is sent.
  auto from_stdin = run({"/bin/sh", "-c", "exec \"$0\" submit --broker tcp://127.0.0.1:1 --insecure echo < \"$1\"", exe("ARGON_CLI"), dir.path()},
                        "", 30s);
  CHECK(from_stdin.exit_code == 2);
  CHECK(one_line_starting(from_stdin.err, "argon: error: cannot read the task's input from stdin"));
}

TEST_CASE("a flag a program does not know exits 2, as a bad configuration does") {
  for (const std::string env : {"ARGON_EXAMPLE_WORKER", "ARGON_EXAMPLE_CLIENT"}) {
    CAPTURE(env);
    auto o = run({exe(env.c_str()), "--no-such-flag"}, "", 30s);
    CHECK(o.exit_code == 2);
    CHECK_FALSE(o.err.empty());  // CLI11's words: the unknown flag, or a required one that is missing
  }
  auto help = run({exe("ARGON_BROKER_PROGRAM"), "--help"}, "", 30s);
  CHECK(help.exit_code == 0);
}

TEST_CASE("the four programs: an argument they do not know is named, with exit 2, even when a required flag is missing too") {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {"--no-such-flag", {exe("ARGON_BROKER_PROGRAM"), "--no-such-flag"}},
      {"--no-such-flag", {exe("ARGON_WORKER"), "--no-such-flag"}},  // --capacity and --broker are missing as well
      {"--no-such-flag", {exe("ARGON_MONITOR"), "--no-such-flag"}},  // and --monitor
      {"--no-such-flag", {exe("ARGON_CLI"), "submit", "--no-such-flag"}},
      {"frobnicate", {exe("ARGON_CLI"), "frobnicate"}},  // not a subcommand
  };
  for (const auto& [bad, argv] : cases) {
    CAPTURE(argv[0]);
    CAPTURE(bad);
    auto o = run(argv, "", 30s);
    CHECK(o.exit_code == 2);
    CHECK(o.err.find("not expected: " + bad) != std::string::npos);
  }
}

TEST_CASE("the four programs print their name and version on --version and exit 0") {
  for (const auto& [env, name] : std::vector<std::pair<const char*, std::string>>{
           {"ARGON_BROKER_PROGRAM", "argon-broker"}, {"ARGON_WORKER", "argon-worker"}, {"ARGON_CLI", "argon"}, {"ARGON_MONITOR", "argon-monitor"}}) {
    CAPTURE(name);
    auto o = run({exe(env), "--version"}, "", 30s);
    CHECK(o.exit_code == 0);
    CHECK(o.out == name + " " + ARGON_VERSION + "\n");
  }
}

TEST_CASE("a broker endpoint ZeroMQ refuses stops the worker with exit 2 and says which endpoint") {
  auto o = run({exe("ARGON_WORKER"), "--broker", "tcp://127.0.0.1:nope", "--capacity", "1", "--insecure"}, "", 30s);
  CHECK(o.exit_code == 2);
  CHECK(one_line_starting(o.err, "argon-worker: error: cannot connect to the broker endpoint tcp://127.0.0.1:nope"));
}
}

TEST_SUITE("e2e") {
TEST_CASE("ARGON_BROKER and ARGON_KEY stand in for --broker and --key; the client's default broker is 127.0.0.1:5555") {
  argon_system sys({.secure = true, .workers = 1, .capacity = 1});
  REQUIRE(sys.wait_for_slots(1));
  setenv("ARGON_BROKER", sys.endpoint.c_str(), 1);
  setenv("ARGON_KEY", sys.keyfile.c_str(), 1);
  auto o = run({exe("ARGON_CLI"), "submit", "echo", "from the environment"}, "", 30s);
  auto status = run({exe("ARGON_CLI"), "status"}, "", 30s);
  unsetenv("ARGON_BROKER");
  auto defaulted = run({exe("ARGON_CLI"), "status", "--connect-timeout", "1"}, "", 30s);
  unsetenv("ARGON_KEY");
  CHECK(o.exit_code == 0);
  CHECK(o.out == "from the environment");
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("\"slots\": 1") != std::string::npos);
  CHECK(defaulted.exit_code == 4);  // nothing listens on the default endpoint in this test
  CHECK(defaulted.err.find("tcp://127.0.0.1:5555") != std::string::npos);
}
}

TEST_SUITE("e2e") {
TEST_CASE("argon keygen - writes the keyfile to stdout; a keyfile others may read works, with a warning naming it and the fix") {
  temp_dir dir;
  auto to_stdout = run({exe("ARGON_CLI"), "keygen", "-"}, "", 30s);
  CHECK(to_stdout.exit_code == 0);
  const std::string prefix = "argon-master-key:";
  REQUIRE(to_stdout.out.size() == prefix.size() + 65);  // the prefix, 32 bytes in hex and a newline
  CHECK(to_stdout.out.starts_with(prefix));
  CHECK(to_stdout.out.find_first_not_of("0123456789abcdef\n", prefix.size()) == std::string::npos);
  CHECK(run({exe("ARGON_CLI"), "keygen", "-"}, "", 30s).out != to_stdout.out);
  CHECK(read_file("-").empty());  // no file named "-" where the test runs

  argon_system sys({.secure = true, .workers = 0});
  const std::string shared = dir.file("shared.key");
  {
    std::ofstream copy(shared);
    copy << read_file(sys.keyfile);
  }
  REQUIRE(chmod(shared.c_str(), 0644) == 0);
  auto status = run({exe("ARGON_CLI"), "status", "--broker", sys.endpoint, "--key", shared}, "", 30s);
  CHECK(status.exit_code == 0);
  CHECK(status.err.find("keyfile " + shared + " can be read by its group or by others (mode 0644)") != std::string::npos);
  CHECK(status.err.find("chmod 600 " + shared) != std::string::npos);
  auto quiet = run({exe("ARGON_CLI"), "status", "--broker", sys.endpoint, "--key", sys.keyfile}, "", 30s);
  CHECK(quiet.err.find("can be read") == std::string::npos);  // argon keygen's files are 0600
}
}

TEST_SUITE("e2e") {
TEST_CASE("log lines carry an ISO 8601 local time; on the journal's stream they carry the syslog priority instead") {
  temp_dir dir;
  const std::string plain = dir.file("plain.log"), journal = dir.file("journal.log");
  // The broker's first line, NOTE listening on ..., is written at every level.
  auto run_broker = [](const std::string& log) {
    child_process broker({exe("ARGON_BROKER_PROGRAM"), "--insecure", "--bind", fmt::format("tcp://127.0.0.1:{}", free_port())}, log);
    for (int i = 0; i < 100 && read_file(log).find("listening on") == std::string::npos; ++i) std::this_thread::sleep_for(50ms);
    CHECK(broker.stop(SIGTERM, 10s) == 0);
  };
  run_broker(plain);
  { std::ofstream create(journal); }
  struct stat st{};
  REQUIRE(::stat(journal.c_str(), &st) == 0);
  setenv("JOURNAL_STREAM", fmt::format("{}:{}", st.st_dev, st.st_ino).c_str(), 1);
  run_broker(journal);
  unsetenv("JOURNAL_STREAM");
  const std::string a = read_file(plain), b = read_file(journal);
  INFO(a, b);
  // 2026-12-01T04:15:14.123+00:00 argon-broker[PID] NOTE listening on tcp://...
  const auto first = a.substr(0, a.find('\n'));
  REQUIRE(first.size() > 40);
  CHECK(first[4] == '-');
  CHECK(first[10] == 'T');
  CHECK((first[23] == '+' || first[23] == '-'));
  CHECK(first.substr(29, 14) == " argon-broker[");
  CHECK(first.find("] NOTE listening on tcp://127.0.0.1:") != std::string::npos);
  CHECK(b.starts_with("<5>argon-broker["));  // NOTE is syslog priority 5 (notice); the journal adds the time
  CHECK(b.find("] NOTE listening on") != std::string::npos);
}
}

TEST_SUITE("e2e") {
TEST_CASE("argon bench against a broker that never answers gives up after --connect-timeout with exit 4 and one line") {
  const auto started = std::chrono::steady_clock::now();
  auto o = run({exe("ARGON_CLI"), "bench", "--insecure", "--broker", fmt::format("tcp://127.0.0.1:{}", free_port()),
                "--tasks", "20000", "--connect-timeout", "1"}, "", 60s);
  CHECK(std::chrono::steady_clock::now() - started < 10s);  // not 313 windows of one second each
  CHECK(o.exit_code == 4);
  CHECK(o.err.find("did not answer within 1 s") != std::string::npos);
  CHECK(o.err.find("gave up after 64 of 20000 tasks") != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
}
}
