// End to end: argon-monitor's live view in a pseudo-terminal. It renders a
// header and the worker, redraws with changing counters, restores the
// terminal and exits 0 on `q`. The last frame is printed as plain text.
#include <doctest/doctest.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <regex>
#include <thread>
#include <set>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "event_log.hpp"
#include "raw_peer.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// A program running on the slave side of a new pseudo-terminal; killed on destruction.
class pty_process {
 public:
  explicit pty_process(std::vector<std::string> argv) {
    winsize size{};
    size.ws_col = 120;
    size.ws_row = 40;
    pid_ = forkpty(&master_, nullptr, nullptr, &size);
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      setenv("TERM", "xterm", 1);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~pty_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(master_);
  }
  // Reads what the program writes for a while (until pred holds on everything read, or limit).
  bool read_until(const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred(out_) && std::chrono::steady_clock::now() < end) {
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, static_cast<std::size_t>(n));
    }
    return pred(out_);
  }
  void type(const std::string& keys) { REQUIRE(write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size())); }
  // The exit code once it has exited within limit; -1 otherwise.
  int wait_exit(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      read_until([](const std::string&) { return false; }, 20ms);  // keep the pty drained
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
    }
    return -1;
  }
  [[nodiscard]] const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;   // the program
  int master_ = -1;  // our side of the terminal
  std::string out_;  // everything it wrote
};

// The screen as text: the last frame, escape sequences removed.
std::string last_frame(const std::string& out) {
  std::string frame = out.substr(out.rfind("\x1b[H") + 3);
  frame = std::regex_replace(frame, std::regex("\x1b\\[[0-9;?]*[A-Za-z]"), "");
  return std::regex_replace(frame, std::regex("\r"), "");
}

// How many times needle occurs in text.
std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::set<std::string> event_counts(const std::string& out) {
  std::set<std::string> seen;
  static const std::regex counter("events ([0-9]+)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), counter); it != std::sregex_iterator(); ++it) seen.insert((*it)[1]);
  return seen;
}

// The id of the first worker `argon status --workers` lists.
std::string first_worker_id(argon_system& sys) {
  const auto status = nlohmann::json::parse(run(sys.cli("status", {"--workers"}), "", 30s).out);
  return status["worker_list"][0]["id"];
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("the live view renders the worker, updates every second and quits cleanly on q") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = true, .workers = 1, .capacity = 3, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(3));
  const std::string worker = first_worker_id(sys);
  pty_process view({exe("ARGON_MONITOR"), "--monitor", mon, "--key", sys.keyfile});
  REQUIRE(view.read_until([&](const std::string& o) { return o.find(worker) != std::string::npos; }, 10s));
  CHECK(view.output().find("argon-monitor  " + mon) != std::string::npos);
  CHECK(view.output().find("\x1b[?1049h") != std::string::npos);  // the alternate screen
  for (int i = 0; i < 5; ++i) REQUIRE(run(sys.cli("submit", {"fail", "broken " + std::to_string(i)}), "", 30s).exit_code == 1);
  REQUIRE(view.read_until([](const std::string& o) { return o.find("broken 4") != std::string::npos; }, 5s));
  REQUIRE(view.read_until([](const std::string& o) { return event_counts(o).size() >= 3; }, 5s));
  const std::string frame = last_frame(view.output());
  MESSAGE("the live view:\n" << frame);
  CHECK(frame.find("WORKER") != std::string::npos);
  CHECK(frame.find(worker) != std::string::npos);
  CHECK(frame.find("RECENT FAILURES") != std::string::npos);
  CHECK(frame.find("task_error: broken") != std::string::npos);
  view.type("q");
  CHECK(view.wait_exit(5s) == 0);
  CHECK(view.output().find("\x1b[?1049l") != std::string::npos);  // the normal screen is back
}

TEST_CASE("the live view shows the queue per lane and the clients with the most tasks queued") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = true, .workers = 1, .capacity = 1, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(1));
  client c(client_options_for(sys));
  submit_options low;
  low.pri = common::priority::low;
  std::vector<std::future<result>> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(c.submit("sleep", "4000", low));  // one runs, two wait in the low lane
  pty_process view({exe("ARGON_MONITOR"), "--monitor", mon, "--key", sys.keyfile});
  static const std::regex top("clients with tasks queued 1  top: \\S+ 2");
  REQUIRE(view.read_until([](const std::string& o) { return std::regex_search(o, top); }, 10s));
  const std::string frame = last_frame(view.output());
  MESSAGE("the live view:\n" << frame);
  CHECK(frame.find("queue high 0 normal 0 low 2") != std::string::npos);
  view.type("q");
  CHECK(view.wait_exit(5s) == 0);
}

TEST_CASE("the live view shows a peer's control bytes escaped, so they cannot retitle or wipe the terminal") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = false, .workers = 1, .capacity = 1, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(1));
  const std::string known = first_worker_id(sys);
  pty_process view({exe("ARGON_MONITOR"), "--monitor", mon, "--insecure"});
  // The worker it knows comes to a new subscriber only once the broker has the
  // subscription: until then events are not sent to it (the view's first frame
  // comes before that), and on a loaded machine the failure below came first.
  REQUIRE(view.read_until([&](const std::string& o) { return o.find(known) != std::string::npos; }, 10s));
  const std::string hostile_id = "w\033[2J\033]2;t\007";
  raw_peer stranger(sys.endpoint, nullptr, nullptr);
  stranger.send(common::role::control, common::hello_msg{hostile_id, 1, "9.9.9"});
  // Its heartbeats keep the stranger listed however slowly the machine runs the rest.
  std::atomic<bool> beating{true};
  std::thread beats([&] {
    while (beating) {
      stranger.send(common::role::control, common::heartbeat_msg{hostile_id});
      std::this_thread::sleep_for(200ms);
    }
  });
  struct stop_beats {
    std::atomic<bool>& beating;  // cleared on the way out
    std::thread& beats;          // joined on the way out
    ~stop_beats() {
      beating = false;
      beats.join();
    }
  } stop_on_exit{beating, beats};
  REQUIRE(run(sys.cli("submit", {"fail", "x\033]0;pwned\007\033[2J"}), "", 30s).exit_code == 1);
  const std::string failure = R"(task_error: x\x1b]0;pwned\x07\x1b[2J)";
  const std::string worker = R"(w\x1b[2J\x1b]2;t\x07)";
  INFO("the live view's last frame:\n" << last_frame(view.output()));  // shown only if what follows fails
  REQUIRE(view.read_until([&](const std::string& o) { return o.find(failure) != std::string::npos && o.find(worker) != std::string::npos; }, 5s));
  const std::string frame = last_frame(view.output());
  MESSAGE("the live view:\n" << frame);
  CHECK(frame.find(failure) != std::string::npos);
  CHECK(view.output().find("pwned\007") == std::string::npos);
  CHECK(view.output().find('\007') == std::string::npos);         // no BEL at all
  CHECK(view.output().find("\x1b]") == std::string::npos);         // no OSC: the title stays
  CHECK(count_of(view.output(), "\x1b[2J") == 1);                  // only the view's own clear, at the start
  view.type("q");
  CHECK(view.wait_exit(5s) == 0);
}

TEST_CASE("the live view exits 0 on Ctrl-C and on SIGTERM") {
  argon_system sys({.secure = false, .workers = 0});
  pty_process ctrl_c({exe("ARGON_MONITOR"), "--monitor", monitor_endpoint(), "--insecure", "--quiet-after", "1"});
  REQUIRE(ctrl_c.read_until([](const std::string& o) { return o.find("no events from") != std::string::npos; }, 5s));
  ctrl_c.type("\x03");
  CHECK(ctrl_c.wait_exit(5s) == 0);
  CHECK(ctrl_c.output().find("\x1b[?1049l") != std::string::npos);
}
}
