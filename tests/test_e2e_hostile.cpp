// End to end: garbage, truncated and oversized messages get clear errors and
// the broker goes on serving real work.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "raw_peer.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

std::string error_kind(raw_peer& p) {
  auto m = p.receive(5000ms);
  if (!m) return "<no answer>";
  if (auto* e = std::get_if<common::error_msg>(&m->content)) return e->kind;
  if (auto* f = std::get_if<common::failed_msg>(&m->content)) return "FAILED:" + f->kind;
  return common::command_name(common::command_of(m->content));
}

std::string header(common::role r, const common::body& b) {
  auto frame = common::encode_header(r, b);
  return frame.to_string();
}

void spray_raw_tcp(int port) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::string junk(static_cast<std::size_t>(rng() % 4096), '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      ssize_t r = write(fd, junk.data(), junk.size());
      (void)r;
    }
    close(fd);
  }
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("malformed messages each get a protocol error (FAILED when they name a task) and the broker still serves") {
  argon_system sys({.secure = false, .workers = 1, .capacity = 2, .broker_args = {"--max-payload", "1000"}});
  REQUIRE(sys.wait_for_slots(2));
  raw_peer p(sys.endpoint, nullptr, nullptr);
  const std::string submit = header(common::role::client, common::submit_msg{"t1", "echo", common::priority::normal, 0, 1, {}});
  p.send_frames({"\xc1\xff not msgpack"});
  CHECK(error_kind(p) == "protocol_error");
  p.send_frames({submit.substr(0, submit.size() / 2), "payload"});  // truncated header
  CHECK(error_kind(p) == "protocol_error");
  p.send_frames({"\x93\x09\x00\x04"});  // [9, 0, 4]: PING of protocol version 9
  CHECK(error_kind(p) == "protocol_error");
  p.send_frames({"\x93\x01\x00\x63"});  // command 99
  CHECK(error_kind(p) == "protocol_error");
  p.send_frames({submit});  // SUBMIT without its payload frame: its id is readable, so FAILED for it
  CHECK(error_kind(p) == "FAILED:protocol_error");
  p.send_frames({submit, "a", "b"});  // one frame too many, the same
  CHECK(error_kind(p) == "FAILED:protocol_error");
  p.send_frames({std::string(70000, '\x90')});  // oversized header
  CHECK(error_kind(p) == "protocol_error");
  p.send(common::role::client, common::submit_msg{"big", "echo", common::priority::normal, 0, 1, {}}, std::string(2000, 'x'));
  CHECK(error_kind(p) == "FAILED:payload_too_large");
  p.send(common::role::client, common::result_msg{"nope"}, "x");  // a broker-to-client command
  CHECK(error_kind(p) == "protocol_error");
  spray_raw_tcp(std::stoi(sys.endpoint.substr(sys.endpoint.rfind(':') + 1)));
  p.send(common::role::client, common::ping_msg{});
  CHECK(error_kind(p) == "PONG");
  auto o = run(sys.cli("submit", {"echo", "still here"}), "", 30s);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "still here");
  CHECK(sys.broker->running());
}

TEST_CASE("thousands of random frames do not stop the broker") {
  argon_system sys({.secure = false, .workers = 1, .capacity = 1});
  REQUIRE(sys.wait_for_slots(1));
  raw_peer p(sys.endpoint, nullptr, nullptr);
  std::mt19937 rng(42);
  const std::string valid = header(common::role::client, common::submit_msg{"t", "echo", common::priority::high, 5, 2, {}});
  for (int i = 0; i < 3000; ++i) {
    std::string h = valid;
    if (i % 3 == 0) h.resize(rng() % h.size());
    else for (int k = 0; k < 3; ++k) h[rng() % h.size()] = static_cast<char>(rng());
    std::vector<std::string> frames{h};
    for (unsigned extra = rng() % 3; extra > 0; --extra) frames.push_back(std::string(rng() % 64, 'p'));
    p.send_frames(frames);
  }
  p.send(common::role::client, common::ping_msg{});
  bool pong = false;
  int answers = 0;
  for (int i = 0; i < 4000 && !pong; ++i) {
    auto m = p.receive(5000ms);
    if (!m) break;
    ++answers;
    pong = std::holds_alternative<common::pong_msg>(m->content);
  }
  INFO("answers before giving up: ", answers);
  INFO("broker log tail: ", read_file(sys.dir.file("broker.log")).substr(0, 3000));
  CHECK(pong);
  auto o = run(sys.cli("submit", {"echo", "alive"}), "", 30s);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "alive");
}

TEST_CASE("a payload far over the broker's --max-payload fails payload_too_large at the client instead of waiting") {
  argon_system sys({.secure = true, .workers = 1, .capacity = 1, .broker_args = {"--max-payload", "100000"}});
  REQUIRE(sys.wait_for_slots(1));
  // 700,000 bytes is over ZMQ_MAXMSGSIZE (4 x the limit): the broker would never see it.
  const std::string payload(700000, 'p');
  auto big = run(sys.cli("submit", {"echo"}), payload, 30s);
  CHECK(big.exit_code == 1);
  CHECK(big.err.find("payload_too_large") != std::string::npos);
  CHECK(big.err.find("100000") != std::string::npos);
  auto near = run(sys.cli("submit", {"echo"}), std::string(100001, 'p'), 30s);  // just over: refused too
  CHECK(near.exit_code == 1);
  CHECK(near.err.find("payload_too_large") != std::string::npos);
  auto fits = run(sys.cli("submit", {"echo"}), std::string(100000, 'p'), 30s);
  CHECK(fits.exit_code == 0);
  CHECK(fits.out.size() == 100000);
}
}
