// End to end: the broker and the worker under a service manager. With
// $NOTIFY_SOCKET set (as systemd sets it for a Type=notify unit) the broker
// says READY=1 once it listens and the worker once its slots are open, and
// each says STOPPING=1 when SIGTERM starts its stop, each with a STATUS=
// line; a build without libsystemd says nothing and runs as usual.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <optional>
#include <string>

#include "process.hpp"

using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// A datagram socket standing in for systemd's notification socket.
class notify_socket {
 public:
  explicit notify_socket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof a.sun_path);
    std::memcpy(a.sun_path, path_.c_str(), path_.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~notify_socket() { ::close(fd_); }
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  // The next notification, or empty after limit.
  std::optional<std::string> next(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::nullopt : std::optional<std::string>(std::string(buf, static_cast<std::size_t>(n)));
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;  // where it is bound
  int fd_ = -1;       // the socket
};

// argv run with NOTIFY_SOCKET=path in its environment.
std::vector<std::string> with_notify(const std::string& path, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/env", "NOTIFY_SOCKET=" + path});
  return argv;
}

// Checks what a program says from start to a SIGTERM stop; ready_status is part of its READY's STATUS=.
void check_notifications(notify_socket& ns, child_process& p, const std::string& ready_status) {
#ifdef ARGON_HAVE_SYSTEMD
  auto ready = ns.next(30s);
  REQUIRE(ready);
  CHECK(ready->find("READY=1") != std::string::npos);
  CHECK(ready->find("STATUS=") != std::string::npos);
  CHECK(ready->find(ready_status) != std::string::npos);
  p.signal(SIGTERM);
  auto stopping = ns.next(30s);
  REQUIRE(stopping);
  CHECK(stopping->find("STOPPING=1") != std::string::npos);
#else
  CHECK_FALSE(ns.next(2s));  // built without libsystemd: nothing is sent
  p.signal(SIGTERM);
#endif
  CHECK(p.stop(0, 30s) == 0);  // signal 0: no second SIGTERM (that one stops at once), just wait for the clean exit
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("the broker says READY=1 once it listens and STOPPING=1 when it drains") {
  temp_dir dir;
  notify_socket ns(dir.file("notify"));
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  child_process broker(with_notify(ns.path(), {exe("ARGON_BROKER_PROGRAM"), "--bind", endpoint, "--insecure"}),
                       dir.file("broker.log"));
  check_notifications(ns, broker, "listening on " + endpoint);
}

TEST_CASE("the worker says READY=1 once its slots are open and STOPPING=1 when it stops") {
  temp_dir dir;
  notify_socket ns(dir.file("notify"));
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  child_process broker({exe("ARGON_BROKER_PROGRAM"), "--bind", endpoint, "--insecure"}, dir.file("broker.log"));
  child_process worker(with_notify(ns.path(), {exe("ARGON_WORKER"), "--broker", endpoint, "--insecure", "--capacity", "3"}),
                       dir.file("worker.log"));
  check_notifications(ns, worker, "3 slots for " + endpoint);
}
}
