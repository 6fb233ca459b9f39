// End to end: the daemons and their signals. SIGHUP is logged and ignored
// (argon-broker and argon-worker reload nothing), and a SIGTERM that comes
// while a daemon is still starting (here: blocked reading its keyfile from
// a FIFO, before the key derivation) is held and handled as a clean stop
// once it has started, instead of killing it with the default action.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "process.hpp"

using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// Polls pred every 20 ms for up to limit.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Whether pid's main thread blocks sig (from /proc/PID/status, SigBlk).
bool blocks(pid_t pid, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("SigBlk:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1u;
  return false;
}

// Writes a keyfile's bytes into a FIFO that a starting daemon is waiting on.
void feed_fifo(const std::string& fifo, const std::string& key) {
  const int fd = ::open(fifo.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  const std::string bytes = read_file(key);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string keygen(const temp_dir& dir) {
  const std::string key = dir.file("argon.key");
  REQUIRE(run({exe("ARGON_CLI"), "keygen", key}, "", 30s).exit_code == 0);
  return key;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("SIGHUP is logged and ignored by the broker and the worker; SIGTERM still drains them") {
  temp_dir dir;
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  child_process broker({exe("ARGON_BROKER_PROGRAM"), "--bind", endpoint, "--insecure", "--verbose", "7"}, dir.file("broker.log"));
  child_process worker({exe("ARGON_WORKER"), "--broker", endpoint, "--insecure", "--capacity", "1", "--verbose", "7"}, dir.file("worker.log"));
  // Both print these once their loops watch the signals: before that (a sanitizer build
  // takes a while to reach main) a signal could only take its default action.
  REQUIRE(eventually([&] { return read_file(dir.file("broker.log")).find("NOTE listening on") != std::string::npos; }));
  REQUIRE(eventually([&] { return read_file(dir.file("worker.log")).find("serving") != std::string::npos; }));
  broker.signal(SIGHUP);
  worker.signal(SIGHUP);
  CHECK(eventually([&] { return read_file(dir.file("broker.log")).find("SIGHUP: ignored") != std::string::npos; }));
  CHECK(eventually([&] { return read_file(dir.file("worker.log")).find("SIGHUP: ignored") != std::string::npos; }));
  CHECK(broker.running());
  CHECK(worker.running());
  auto echo = run({exe("ARGON_CLI"), "submit", "--broker", endpoint, "--insecure", "echo", "still here"}, "", 30s);
  CHECK(echo.exit_code == 0);
  CHECK(echo.out == "still here");
  CHECK(worker.stop(SIGTERM, 10s) == 0);
  CHECK(broker.stop(SIGTERM, 10s) == 0);
}

TEST_CASE("a SIGTERM while a daemon starts is held and stops it cleanly once it has started") {
  temp_dir dir;
  const std::string key = keygen(dir);
  const std::string fifo = dir.file("key.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  struct daemon_case {
    std::string name;               // which program
    std::vector<std::string> argv;  // started with its keyfile being the FIFO
    std::string stopping;           // what it logs when a stop signal is handled
  };
  const std::vector<daemon_case> daemons{
      {"argon-broker", {exe("ARGON_BROKER_PROGRAM"), "--bind", endpoint, "--key", fifo, "--verbose", "7"}, "signal 15: draining"},
      {"argon-worker", {exe("ARGON_WORKER"), "--broker", endpoint, "--capacity", "1", "--key", fifo, "--verbose", "7"}, "stopping:"},
  };
  for (const auto& d : daemons) {
    CAPTURE(d.name);
    const std::string log = dir.file(d.name + ".log");
    child_process p(d.argv, log);
    // Opening the FIFO blocks until it is written: the daemon is starting, with SIGTERM held.
    REQUIRE(eventually([&] { return blocks(p.pid(), SIGTERM); }));
    p.signal(SIGTERM);
    std::this_thread::sleep_for(100ms);
    CHECK(p.running());  // not killed by the default action
    feed_fifo(fifo, key);
    CHECK(eventually([&] { return !p.running(); }));
    CHECK(p.stop(0, 1s) == 0);  // it exited 0 by itself: a clean stop
    CHECK(read_file(log).find(d.stopping) != std::string::npos);
  }
}
}
