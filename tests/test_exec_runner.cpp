// The program runner on its own, without a broker: results, failures with
// their kinds and stderr, limits, deadlines, cancels, and that nothing of a
// program's process group is left behind.
//
// Orphans are reparented to PID 1, which in some containers never reaps
// them; this test process makes itself a child subreaper and reaps them, so
// "nothing left" can be checked as kill(-pgid, 0) failing with ESRCH.
#include <doctest/doctest.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <thread>

#include "exec_policy.hpp"
#include "exec_runner.hpp"

using namespace argon::worker;
using namespace std::chrono_literals;

namespace {

exec_request request(std::vector<std::string> argv, std::string_view input = {}) {
  exec_request r;
  r.argv = std::move(argv);
  r.env = build_exec_env({});
  r.input = input;
  return r;
}

// Reaps orphans of the group (we are their subreaper) until none is left, up to limit.
bool group_gone(pid_t pgid, std::chrono::milliseconds limit = 3000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (::kill(-pgid, 0) == -1 && errno == ESRCH) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
}

struct subreaper {
  subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
} const become_subreaper;

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("stdout is the result; the payload is the program's stdin") {
  exec_result r = run_program(request({"/usr/bin/tr", "a-z", "A-Z"}, "hello, world\n"), {});
  CHECK(r.status == exec_status::ok);
  CHECK(r.output == "HELLO, WORLD\n");
  CHECK(r.pid > 0);
  CHECK(group_gone(r.pid));
}

TEST_CASE("a non-zero exit fails with the exit status and the tail of stderr") {
  exec_result r = run_program(request({"/bin/sh", "-c", "echo partial; echo 'disk full' >&2; exit 3"}), {});
  CHECK(r.status == exec_status::task_error);
  CHECK(std::string(kind_of(r.status)) == "task_error");
  CHECK(r.error == "exit status 3; stderr: disk full");
  CHECK(r.output.empty());
}

TEST_CASE("only the last 4 KiB of stderr are kept") {
  exec_result r = run_program(request({"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a >&2; echo END >&2; exit 1"}), {});
  CHECK(r.status == exec_status::task_error);
  CHECK(r.error.size() < 4096 + 64);
  CHECK(r.error.size() > 4000);
  CHECK(r.error.find("aaaaEND") != std::string::npos);
}

TEST_CASE("a program killed by a signal says which") {
  exec_result r = run_program(request({"/bin/sh", "-c", "kill -9 $$"}), {});
  CHECK(r.status == exec_status::task_error);
  CHECK(r.error.find("killed by signal 9") != std::string::npos);
}

TEST_CASE("a program that cannot be started fails as exec_failed with the reason") {
  exec_result r = run_program(request({"/nonexistent/program"}), {});
  CHECK(r.status == exec_status::exec_failed);
  CHECK(std::string(kind_of(r.status)) == "exec_failed");
  CHECK(r.error.find("cannot start /nonexistent/program") != std::string::npos);
  CHECK(r.error.find("no such file") != std::string::npos);
  CHECK(r.pid == 0);
  exec_result dir = run_program(request({"/tmp"}), {});
  CHECK(dir.status == exec_status::exec_failed);
}

TEST_CASE("stdout past the limit kills the group and fails as result_too_large") {
  exec_limits lim;
  lim.max_result_bytes = 1000;
  exec_result r = run_program(request({"/bin/sh", "-c", "while :; do echo yyyyyyyyyyyyyyyy; done"}), lim);
  CHECK(r.status == exec_status::result_too_large);
  CHECK(r.error.find("more than 1000 bytes") != std::string::npos);
  CHECK(r.output.empty());
  CHECK(group_gone(r.pid));
  lim.max_result_bytes = 5;
  CHECK(run_program(request({"/usr/bin/printf", "12345"}), lim).output == "12345");
}

TEST_CASE("large input and large output flow at once without a deadlock") {
  std::string big(8u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  exec_result r = run_program(request({"/bin/cat"}, big), {});
  REQUIRE(r.status == exec_status::ok);
  CHECK(r.output == big);
}

TEST_CASE("a program that ignores SIGTERM is killed at its deadline after the grace period, with its group") {
  exec_limits lim;
  lim.kill_grace = 300ms;
  exec_request rq = request({"/bin/sh", "-c", "trap '' TERM; sleep 30 & sleep 30; wait"});
  rq.deadline = std::chrono::steady_clock::now() + 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  exec_result r = run_program(rq, lim);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == exec_status::timeout);
  CHECK(std::string(kind_of(r.status)) == "timeout");
  CHECK(r.error.find("deadline") != std::string::npos);
  CHECK(took >= 550ms);  // the deadline, then the grace period
  CHECK(took < 10s);     // not the program's 30 s
  CHECK(group_gone(r.pid));
}

TEST_CASE("a cancel stops the program") {
  std::atomic<bool> cancelled{false};
  exec_request rq = request({"/bin/sleep", "30"});
  rq.cancelled = [&] { return cancelled.load(); };
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancelled = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  exec_result r = run_program(rq, {});
  canceller.join();
  CHECK(r.status == exec_status::cancelled);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK(group_gone(r.pid));
}

TEST_CASE("a task cancelled or past its deadline before it starts starts nothing") {
  exec_request rq = request({"/bin/sleep", "30"});
  rq.deadline = std::chrono::steady_clock::now() - 1ms;
  exec_result r = run_program(rq, {});
  CHECK(r.status == exec_status::timeout);
  CHECK(r.pid == 0);
  CHECK(r.error.find("not started") != std::string::npos);
  exec_request rc = request({"/bin/sleep", "30"});
  rc.cancelled = [] { return true; };
  CHECK(run_program(rc, {}).status == exec_status::cancelled);
}

TEST_CASE("what a program leaves running in its group is killed when it exits") {
  const auto t0 = std::chrono::steady_clock::now();
  exec_result r = run_program(request({"/bin/sh", "-c", "sleep 30 & echo started"}), {});
  CHECK(r.status == exec_status::ok);
  CHECK(r.output == "started\n");
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK(group_gone(r.pid));
}

TEST_CASE("the environment is scrubbed: PATH and what was asked for, nothing else") {
  ::setenv("ARGON_TEST_SECRET", "do not leak", 1);
  exec_result r = run_program(request({"/usr/bin/env"}), {});
  CHECK(r.output == "PATH=/usr/local/bin:/usr/bin:/bin\n");
  exec_request with = request({"/usr/bin/env"});
  with.env = build_exec_env({"ARGON_TEST_SECRET", "MODE=fast"});
  CHECK(run_program(with, {}).output == "PATH=/usr/local/bin:/usr/bin:/bin\nARGON_TEST_SECRET=do not leak\nMODE=fast\n");
}

TEST_CASE("a program starts in its own session with default signal handling") {
  exec_result r = run_program(request({"/bin/sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status; ps -o sid= -p $$ | tr -d ' '"}), {});
  REQUIRE(r.status == exec_status::ok);
  CHECK(r.output.find("SigBlk:\t0000000000000000\n") != std::string::npos);
  CHECK(r.output.find("SigIgn:\t0000000000000000\n") != std::string::npos);
  const std::string session_line = std::to_string(r.pid).append("\n");
  CHECK(r.output.substr(r.output.size() - std::min(r.output.size(), session_line.size())) == session_line);  // session id = its own pid
}
}
