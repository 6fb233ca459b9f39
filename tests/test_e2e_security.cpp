// End to end: keys, the ZAP handler, role checks and encryption on the wire,
// with the real broker, worker and CLI over loopback.
#include <doctest/doctest.h>

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "raw_peer.hpp"
#include "system.hpp"
#include "tcp_tap.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {
int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }
}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("a client with the wrong keyfile gets exit 4 and a hint; the broker keeps serving") {
  argon_system sys({.secure = true, .workers = 1, .capacity = 2});
  REQUIRE(sys.wait_for_slots(2));
  std::string wrong = sys.dir.file("wrong.key");
  common::write_keyfile(wrong);
  std::vector<std::string> argv{exe("ARGON_CLI"), "submit", "--broker", sys.endpoint, "--key", wrong,
                                "--connect-timeout", "2", "echo", "hello"};
  auto bad = run(argv, "", 30s);
  CHECK(bad.exit_code == 4);
  CHECK(bad.err.find("key") != std::string::npos);
  CHECK(bad.out.empty());
  CHECK(read_file(sys.dir.file("broker.log")).find("refused connection from ") != std::string::npos);
  auto good = run(sys.cli("submit", {"echo", "hello"}), "", 30s);
  CHECK(good.exit_code == 0);
  CHECK(good.out == "hello");
}

TEST_CASE("the ZAP handler refuses a key that knows the broker but is not a role key") {
  argon_system sys({.secure = true, .workers = 0});
  auto keys = common::load_keys(sys.keyfile);
  common::keypair stranger;
  crypto_box_keypair(stranger.public_key.data(), stranger.secret_key.data());
  raw_peer intruder(sys.endpoint, &stranger, &keys.broker);
  intruder.send(common::role::client, common::ping_msg{});
  CHECK_FALSE(intruder.receive(1500ms).has_value());
  raw_peer friendly(sys.endpoint, &keys.client, &keys.broker);
  friendly.send(common::role::client, common::ping_msg{});
  auto pong = friendly.receive(5000ms);
  REQUIRE(pong.has_value());
  CHECK(std::holds_alternative<common::pong_msg>(pong->content));
  CHECK(read_file(sys.dir.file("broker.log")).find("refused connection") != std::string::npos);
}

TEST_CASE("a client key cannot act as a worker slot") {
  argon_system sys({.secure = true, .workers = 0});
  auto keys = common::load_keys(sys.keyfile);
  raw_peer pretender(sys.endpoint, &keys.client, &keys.broker);
  pretender.send(common::role::slot, common::ready_msg{"fake", std::nullopt});
  auto answer = pretender.receive(5000ms);
  REQUIRE(answer.has_value());
  auto* err = std::get_if<common::error_msg>(&answer->content);
  REQUIRE(err);
  CHECK(err->kind == "not_allowed");
  auto status = nlohmann::json::parse(sys.status_json());
  CHECK(status["slots"] == 0);  // the pretender was not registered as a slot
}

TEST_CASE("a payload marker never appears on the wire with CURVE, and does without it") {
  const std::string marker = "ARGON-PLAINTEXT-MARKER-7f3a9c";
  for (bool secure : {true, false}) {
    CAPTURE(secure);
    argon_system sys({.secure = secure, .workers = 1, .capacity = 1});
    REQUIRE(sys.wait_for_slots(1));
    tcp_tap tap(port_of(sys.endpoint));
    std::vector<std::string> argv{exe("ARGON_CLI"), "submit", "--broker", "tcp://127.0.0.1:" + std::to_string(tap.port())};
    for (auto& f : sys.key_flags()) argv.push_back(f);
    argv.insert(argv.end(), {"echo", marker});
    auto o = run(argv, "", 30s);
    CHECK(o.exit_code == 0);
    CHECK(o.out == marker);
    const bool seen = tap.captured().find(marker) != std::string::npos;
    CHECK(seen == !secure);
  }
}
}
