// End to end: programs as tasks, through the real broker, worker and CLI.
// Named programs (--exec NAME=COMMAND) via argon submit; client-named ones
// (argon exec / client::exec) on a worker with --allow-exec, and refused
// with not_allowed, starting nothing, when the worker does not allow them;
// mistakes in the worker's flags stop it at start; and a worker that ran a
// hundred programs at once has no zombie children afterwards.
#include <doctest/doctest.h>

#include <dirent.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <filesystem>
#include <future>
#include <thread>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// The worker's children that are zombies (State Z), by scanning /proc.
std::vector<int> zombie_children(pid_t parent) {
  std::vector<int> zombies;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string status = read_file(entry.path().string() + "/status");
    const bool child = status.find("\nPPid:\t" + std::to_string(parent) + "\n") != std::string::npos;
    if (child && status.find("\nState:\tZ") != std::string::npos) zombies.push_back(std::stoi(name));
  }
  return zombies;
}

// Processes of this process group that are alive (not zombies), from /proc/PID/stat.
int live_in_group(pid_t pgid) {
  int live = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(entry.path().string() + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid && state != 'Z') ++live;
  }
  return live;
}

// Starts argon-worker with these flags against a broker that is not there; it must stop at start.
outcome start_worker_with(std::vector<std::string> flags) {
  std::vector<std::string> argv{exe("ARGON_WORKER"), "--broker", "tcp://127.0.0.1:1", "--insecure", "--capacity", "1"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return run(argv, "", 30s);
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a named program runs with the payload on stdin; its failure carries the exit status and stderr") {
  argon_system sys({.secure = true, .workers = 0});
  sys.add_worker(2, {"--exec", "upper=tr a-z A-Z", "--exec", "broken=sh -c 'echo half; echo disk full >&2; exit 3'"});
  REQUIRE(sys.wait_for_slots(2));
  auto upper = run(sys.cli("submit", {"upper"}), "hello, argon\n", 30s);
  CHECK(upper.exit_code == 0);
  CHECK(upper.out == "HELLO, ARGON\n");
  auto broken = run(sys.cli("submit", {"broken", "x"}), "", 30s);
  CHECK(broken.exit_code == 1);
  CHECK(broken.out.empty());
  CHECK(broken.err.find("task failed (task_error): exit status 3; stderr: disk full") != std::string::npos);
}

TEST_CASE("a program past its task's timeout is stopped and the task fails as timeout") {
  argon_system sys({.secure = false, .workers = 0});
  sys.add_worker(1, {"--exec", "stuck=sh -c 'trap \"\" TERM; sleep 60'", "--kill-grace-ms", "200"});
  REQUIRE(sys.wait_for_slots(1));
  auto stuck = run(sys.cli("submit", {"--timeout", "1", "stuck", "x"}), "", 30s);
  CHECK(stuck.exit_code == 4);
  CHECK(stuck.err.find("timeout") != std::string::npos);
  // The slot is free again well before the program's 60 s.
  auto again = run(sys.cli("submit", {"echo", "free"}), "", 30s);
  CHECK(again.out == "free");
}

TEST_CASE("a worker stopped twice exits at once and takes its running programs with it") {
  argon_system sys({.secure = false, .workers = 0});
  const std::string pidfile = sys.dir.file("program.pid");
  auto& worker = sys.add_worker(1, {"--exec", "slow=sh -c 'echo $$ > " + pidfile + "; sleep 60 & sleep 60'"});
  REQUIRE(sys.wait_for_slots(1));
  auto running = std::async(std::launch::async, [&] { return run(sys.cli("submit", {"--timeout", "6", "slow", "x"}), "", 30s); });
  pid_t pgid = 0;
  for (int i = 0; i < 100 && pgid == 0; ++i) {
    std::this_thread::sleep_for(100ms);
    pgid = std::atoi(read_file(pidfile).c_str());
  }
  REQUIRE(pgid > 0);
  std::this_thread::sleep_for(200ms);
  CHECK(live_in_group(pgid) == 3);  // sh and its two sleeps
  worker.signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  CHECK(worker.running());  // the first stop waits for the running task
  CHECK(worker.stop(SIGTERM, 10s) == 1);
  for (int i = 0; i < 50 && live_in_group(pgid) > 0; ++i) std::this_thread::sleep_for(100ms);
  CHECK(live_in_group(pgid) == 0);
  CHECK(running.get().exit_code == 4);  // the broker fails the task at its deadline: its worker is gone
}

TEST_CASE("mistakes in program flags stop the worker at start with exit 2 and a clear message") {
  auto missing = start_worker_with({"--exec", "x=no-such-program-argon-test"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--exec x: program 'no-such-program-argon-test' was not found in PATH") != std::string::npos);
  auto reserved = start_worker_with({"--exec", "exec=cat"});
  CHECK(reserved.exit_code == 2);
  CHECK(reserved.err.find("reserved") != std::string::npos);
  auto quote = start_worker_with({"--exec", "x=sh -c 'echo"});
  CHECK(quote.exit_code == 2);
  CHECK(quote.err.find("unterminated single quote") != std::string::npos);
  auto no_name = start_worker_with({"--exec", "cat"});
  CHECK(no_name.exit_code == 2);
  CHECK(no_name.err.find("NAME=COMMAND") != std::string::npos);
  auto relative = start_worker_with({"--allow-exec", "bin/*"});
  CHECK(relative.exit_code == 2);
  CHECK(relative.err.find("absolute") != std::string::npos);
}

TEST_CASE("argon exec needs an absolute program path, and says so without contacting anyone") {
  auto o = run({exe("ARGON_CLI"), "exec", "--broker", "tcp://127.0.0.1:1", "--insecure", "--", "tr", "a-z", "A-Z"}, "x", 30s);
  CHECK(o.exit_code == 2);
  CHECK(o.err.find("give the absolute path of the program") != std::string::npos);
}

TEST_CASE("client::exec refuses a bad argv locally with protocol_error") {
  client_options o;
  o.broker = "tcp://127.0.0.1:1";
  o.insecure = true;
  client c(o);
  CHECK(c.exec({}, "").get().error_kind() == "protocol_error");
  CHECK(c.exec({"tr"}, "").get().error_kind() == "protocol_error");
  CHECK(c.exec({"/usr/bin/../bin/tr"}, "").get().error_kind() == "protocol_error");
  CHECK(c.exec(std::vector<std::string>(1025, "/bin/echo"), "").get().error_kind() == "protocol_error");
  CHECK(c.exec({"/bin/echo", std::string(70000, 'x')}, "").get().error_message().find("64 KiB") != std::string::npos);
}

TEST_CASE("argon exec runs an allowed program and refuses the rest as not_allowed, starting nothing") {
  argon_system sys({.secure = true, .workers = 0});
  sys.add_worker(2, {"--allow-exec", "/usr/bin/tr", "--allow-exec", "/usr/bin/e*"});
  REQUIRE(sys.wait_for_slots(2));
  auto upper = run(sys.cli("exec", {"--", "/usr/bin/tr", "a-z", "A-Z"}), "shout\n", 30s);
  CHECK(upper.exit_code == 0);
  CHECK(upper.out == "SHOUT\n");
  const std::string marker = sys.dir.file("must-not-exist");
  auto refused = run(sys.cli("exec", {"--", "/usr/bin/touch", marker}), "", 30s);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("(not_allowed)") != std::string::npos);
  CHECK(refused.err.find("/usr/bin/touch") != std::string::npos);
  CHECK(refused.err.find("--allow-exec") != std::string::npos);
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(std::filesystem::exists(marker));
  auto env = run(sys.cli("exec", {"--", "/usr/bin/env"}), "", 30s);
  CHECK(env.out == "PATH=/usr/local/bin:/usr/bin:/bin\n");
}

TEST_CASE("100 programs at once on 8 slots all finish, and the worker keeps no zombie children") {
  argon_system sys({.secure = false, .workers = 0});
  auto& worker = sys.add_worker(8, {"--exec", "spawn=sh -c 'sleep 0.05 & sleep 30 & cat'", "--allow-exec", "/usr/bin/*"});
  REQUIRE(sys.wait_for_slots(8));
  client c(client_options_for(sys));
  std::vector<std::future<result>> runs;
  for (int i = 0; i < 100; ++i) {
    const std::string input = "task " + std::to_string(i) + "\n";
    if (i % 2) runs.push_back(c.exec({"/usr/bin/tr", "a-z", "A-Z"}, input));
    else runs.push_back(c.submit("spawn", input));
  }
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(runs[i].wait_for(60s) == std::future_status::ready);
    result r = runs[i].get();
    const std::string expected = (i % 2) ? "TASK " + std::to_string(i) + "\n" : "task " + std::to_string(i) + "\n";
    if (r.ok() && r.value() == expected) ++ok;
    else FAIL_CHECK("task " << i << ": " << (r.ok() ? "wrong output " + r.value() : r.error_kind() + ": " + r.error_message()));
  }
  CHECK(ok == 100);
  std::this_thread::sleep_for(200ms);
  CHECK(zombie_children(worker.pid()).empty());
  CHECK(worker.running());
}
}
