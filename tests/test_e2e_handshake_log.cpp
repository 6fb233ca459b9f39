// End to end: what the broker logs and publishes about connections that
// fail before they speak Argon, with the real broker, worker, CLI and
// monitor over loopback. Only a refused key or mechanism is an auth_failed
// event; a handshake cut short (a paused broker, a port scan) or broken (a
// peer that is not ZMTP) is not. Each peer address gets at most one log line
// per 10 s, with the count of the others; running out of file descriptors is
// said once per 10 s with what to do; and the lines are the ones
// docs/operations.md shows.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "event_log.hpp"
#include "keys.hpp"
#include "raw_peer.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

// Lines of text that contain needle.
std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// Re-reads a file until pred(text) holds or limit passes.
bool wait_for_text(const std::string& path, const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred(read_file(path))) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// Plain TCP connections to 127.0.0.1:port, closed on destruction. They say nothing unless told.
struct tcp_crowd {
  std::vector<int> fds;
  tcp_crowd(int port, int n) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      REQUIRE(fd >= 0);
      (void)connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // in progress is fine
      fds.push_back(fd);
    }
  }
  void say(const std::string& text) {
    for (int fd : fds) (void)send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  }
  void close_all() {
    for (int fd : fds) close(fd);
    fds.clear();
  }
  ~tcp_crowd() { close_all(); }
};

// The broker's log lines as docs/operations.md shows them ("Connection log
// lines"), as patterns over a log line: ADDR, ENDPOINT and REASON stand for
// the values of one event.
std::vector<std::pair<std::string, std::regex>> documented_lines() {
  const char* path = std::getenv("ARGON_OPERATIONS_DOC");
  REQUIRE(path);
  std::istringstream in(read_file(path));
  std::vector<std::pair<std::string, std::regex>> out;
  bool section = false, block = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) section = line == "### Connection log lines";
    if (!section) continue;
    if (line.starts_with("```")) { block = !block; continue; }
    if (!block || line.empty()) continue;
    std::string re = std::regex_replace(line, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
    re = std::regex_replace(re, std::regex("ADDR"), R"((127\.0\.0\.1(:[0-9]+)?|an unknown address))");
    re = std::regex_replace(re, std::regex("ENDPOINT"), "tcp://[^ ]+");
    re = std::regex_replace(re, std::regex("REASON"), ".+");
    re = std::regex_replace(re, std::regex("^([A-Z]+) "), R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2} argon-broker\[[0-9]+\] $1 )");
    out.emplace_back(line, std::regex(re + "( \\([0-9]+ more from (127\\.0\\.0\\.1|an unknown address|tcp://[^ ]+) not logged\\))?$"));
  }
  REQUIRE(out.size() >= 5);
  return out;
}

// Whether some line of the log matches the documented line that starts with prefix (after its level).
bool logged_as_documented(const std::string& log, const std::string& prefix) {
  for (auto& [doc, re] : documented_lines()) {
    if (doc.find(prefix) == std::string::npos) continue;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
      if (std::regex_match(line, re)) return true;
    FAIL_CHECK("no log line matches the documented " << doc);
    return false;
  }
  FAIL_CHECK("docs/operations.md shows no line with " << prefix);
  return false;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a client with the wrong keyfile retrying for 2 s: a line or two with a count, and auth_failed in the monitor") {
  auth_watch watch;
  argon_system& sys = watch.sys;
  event_log& log = watch.log;
  const std::string& wrong = watch.wrong_key;
  auto cli = run({exe("ARGON_CLI"), "status", "--broker", sys.endpoint, "--key", wrong, "--connect-timeout", "2"}, "", 30s);
  CHECK(cli.exit_code == 4);
  REQUIRE(log.wait_for([](const auto& evs) { return count_named(evs, "auth_failed") >= 1; }, 5s));
  CHECK(log.named("auth_failed").at(0)["why"].get<std::string>().find("decrypt") != std::string::npos);
  const std::string broker_log = sys.dir.file("broker.log");
  // The summary comes when the address's 10 s are over.
  CHECK(wait_for_text(broker_log, [](const std::string& t) { return t.find(" not logged)") != std::string::npos; }, 20s));
  const std::string text = read_file(broker_log);
  MESSAGE(text);
  CHECK(count_lines(text, "refused connection from") >= 1);
  CHECK(count_lines(text, "refused connection from") <= 4);  // one per address (known or not) and its summary
  CHECK(count_lines(text, "WARN") <= 4);
  CHECK(std::regex_search(text, std::regex(R"(\(([0-9]+) more from (127\.0\.0\.1|an unknown address) not logged\))")));
  CHECK(logged_as_documented(text, "did not decrypt"));
}

TEST_CASE("a broker paused for 4 s with a client and a worker connected reports no auth_failed") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = true, .workers = 1, .capacity = 1, .broker_args = {"--monitor", mon}});
  REQUIRE(sys.wait_for_slots(1));
  event_log log(sys, mon, {"--json", "--filter", "auth_failed,stats"}, "monitor.log");
  REQUIRE(log.wait_ready());
  client c(client_options_for(sys));
  REQUIRE(c.call("echo", "before").ok());
  sys.broker->signal(SIGSTOP);
  // Connections that start their handshake while the broker sleeps and give up before it wakes.
  auto keys = common::load_keys(sys.keyfile);
  for (int i = 0; i < 4; ++i) {
    raw_peer impatient(sys.endpoint, &keys.client, &keys.broker);
    impatient.send(common::role::client, common::ping_msg{});
    std::this_thread::sleep_for(200ms);
  }
  (void)run(sys.cli("status", {"--connect-timeout", "1"}), "", 10s);
  tcp_crowd scanners(port_of(sys.endpoint), 5);
  std::this_thread::sleep_for(2s);
  scanners.close_all();
  sys.broker->signal(SIGCONT);
  CHECK(c.call("echo", "after").ok());
  const std::size_t stats_now = log.named("stats").size();
  REQUIRE(log.wait_for([&](const auto& evs) { return count_named(evs, "stats") >= stats_now + 3; }, 20s));
  CHECK(log.named("auth_failed").empty());
  const std::string text = read_file(sys.dir.file("broker.log"));
  CHECK(text.find("refused connection") == std::string::npos);
  CHECK(count_lines(text, "did not finish") <= 2);  // at most one per address, and its summary
}

TEST_CASE("a broker out of file descriptors says so once per 10 s and serves again when connections close") {
  bool secure = true;
  SUBCASE("CURVE") {}
  SUBCASE("plaintext, without a monitor stream") { secure = false; }
  argon_system sys({.secure = secure, .workers = 0, .broker_fd_limit = 48});
  REQUIRE(run(sys.cli("status", {"--connect-timeout", "5"}), "", 30s).exit_code == 0);
  const std::string broker_log = sys.dir.file("broker.log");
  {
    tcp_crowd crowd(port_of(sys.endpoint), 120);
    REQUIRE(wait_for_text(broker_log, [](const std::string& t) { return t.find("out of file descriptors") != std::string::npos; }, 20s));
    std::this_thread::sleep_for(2s);
    const std::string text = read_file(broker_log);
    CHECK(count_lines(text, "out of file descriptors") == 1);
    CHECK(count_lines(text, "WARN") + count_lines(text, "ERROR") <= 3);
    CHECK(text.find("ulimit -n") != std::string::npos);
    CHECK(logged_as_documented(text, "out of file descriptors"));
  }
  // The crowd is gone: the broker takes new connections again.
  bool served = false;
  for (int i = 0; i < 10 && !served; ++i) served = run(sys.cli("status", {"--connect-timeout", "3"}), "", 30s).exit_code == 0;
  CHECK(served);
  const std::string text = read_file(broker_log);
  CHECK(count_lines(text, "WARN") + count_lines(text, "ERROR") <= 4);
}

TEST_CASE("a peer that is no ZMTP peer and a port scan: no auth_failed, a line or two per address") {
  const std::string mon = monitor_endpoint();
  argon_system sys({.secure = true, .workers = 0, .broker_args = {"--monitor", mon}});
  event_log log(sys, mon, {"--json", "--filter", "auth_failed,stats"}, "monitor.log");
  REQUIRE(log.wait_ready());
  for (int round = 0; round < 10; ++round) {
    tcp_crowd web(port_of(sys.endpoint), 3);
    std::this_thread::sleep_for(20ms);
    web.say("GET / HTTP/1.1\r\nHost: argon\r\n\r\n");
    tcp_crowd scan(port_of(sys.endpoint), 3);
    std::this_thread::sleep_for(100ms);
  }
  const std::size_t stats_now = log.named("stats").size();
  REQUIRE(log.wait_for([&](const auto& evs) { return count_named(evs, "stats") >= stats_now + 2; }, 20s));
  CHECK(log.named("auth_failed").empty());
  const std::string text = read_file(sys.dir.file("broker.log"));
  CHECK(text.find("refused connection") == std::string::npos);
  CHECK(count_lines(text, "WARN") <= 2);
  CHECK(count_lines(text, "handshake with") <= 6);
}

TEST_CASE("the documented refusals are logged as docs/operations.md shows them") {
  argon_system sys({.secure = true, .workers = 0});
  auto keys = common::load_keys(sys.keyfile);
  common::keypair stranger = keys.broker;  // the broker's own key is no role key: the ZAP handler refuses it
  raw_peer intruder(sys.endpoint, &stranger, &keys.broker);
  intruder.send(common::role::client, common::ping_msg{});
  // Both ends check the mechanism, and the one that reads the other's first closes; when
  // the peer does, the broker sees a handshake that did not finish. So try a few times.
  const std::string broker_log = sys.dir.file("broker.log");
  for (int i = 0; i < 20 && read_file(broker_log).find("no CURVE") == std::string::npos; ++i) {
    raw_peer plaintext(sys.endpoint, nullptr, nullptr);
    plaintext.send(common::role::client, common::ping_msg{});
    std::this_thread::sleep_for(300ms);
  }
  const bool both = wait_for_text(broker_log, [](const std::string& t) {
    return t.find("unknown CURVE key") != std::string::npos && t.find("no CURVE") != std::string::npos;
  }, 10s);
  const std::string text = read_file(broker_log);
  INFO(text);
  REQUIRE(both);
  CHECK(logged_as_documented(text, "unknown CURVE key"));
  CHECK(logged_as_documented(text, "no CURVE"));
  CHECK(text.find("refused connection from 127.0.0.1: unknown CURVE key (wrong keyfile?)") != std::string::npos);
}
}
