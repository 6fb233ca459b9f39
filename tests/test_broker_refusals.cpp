// A SUBMIT the broker cannot accept, but whose task id it can read, is
// answered with FAILED naming that id, never with an ERROR the client
// cannot tie to a task: a field out of range (a task name or argv item too
// long, priority, max_attempts or timeout_ms past their limits), or a
// missing payload frame. Only what names no task (no readable id) gets
// ERROR.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "broker_fixture.hpp"

using namespace argon;
using namespace argon::test;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

// The FAILED (or ERROR) the broker answers c with.
std::optional<message> answer(fixture& f, raw_peer& c) { return reply_to(f, c); }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a SUBMIT with a field out of range fails with its own id and says which field") {
  one_slot rig;
  auto& f = rig.f;
  auto& c = rig.client;  // the slot is there so that SUBMITs are not refused as no_workers
  struct bad {
    submit_msg m;       // what the client sends
    std::string field;  // what the refusal names
  };
  const std::vector<bad> cases{
      {submit_msg{"long-name", std::string(129, 'n'), priority::normal, 0, 1, {}}, "'task'"},
      {submit_msg{"lane", "echo", static_cast<priority>(3), 0, 1, {}}, "'priority'"},
      {submit_msg{"attempts", "echo", priority::normal, 0, 1001, {}}, "'max_attempts'"},
      {submit_msg{"long-arg", exec_task, priority::normal, 0, 1, {"/bin/echo", std::string(max_header_bytes, 'a')}}, ""},
  };
  for (const auto& b : cases) {
    CAPTURE(b.m.id);
    c.send(role::client, b.m, "in");
    auto r = answer(f, c);
    REQUIRE(r);
    REQUIRE(std::holds_alternative<failed_msg>(r->content));
    const auto& fm = std::get<failed_msg>(r->content);
    CHECK(fm.id == b.m.id);
    CHECK(fm.kind == "protocol_error");
    CHECK(fm.message.find(b.field) != std::string::npos);
  }
  CHECK(f.b->snapshot().queue_depth == 0);
  CHECK(f.b->unfinished() == 0);
}

TEST_CASE("a SUBMIT without its payload frame fails with its id too") {
  one_slot rig;
  auto& f = rig.f;
  auto& c = rig.client;  // the slot is there so that SUBMITs are not refused as no_workers
  const zmq::message_t header = encode_header(role::client, submit_msg{"no-payload", "echo", priority::normal, 0, 1, {}});
  c.send_frames({std::string(static_cast<const char*>(header.data()), header.size())});
  auto r = answer(f, c);
  REQUIRE(r);
  REQUIRE(std::holds_alternative<failed_msg>(r->content));
  CHECK(std::get<failed_msg>(r->content).id == "no-payload");
  CHECK(std::get<failed_msg>(r->content).message.find("payload frame") != std::string::npos);
}

TEST_CASE("a SUBMIT whose id cannot be read still gets ERROR, and the broker goes on") {
  fixture f;
  raw_peer c(f.b->endpoint(), nullptr, nullptr);
  c.send(role::client, submit_msg{std::string(129, 'i'), "echo", priority::normal, 0, 1, {}}, "in");
  auto r = answer(f, c);
  REQUIRE(r);
  REQUIRE(std::holds_alternative<error_msg>(r->content));
  CHECK(std::get<error_msg>(r->content).kind == "protocol_error");
  c.send(role::client, ping_msg{});
  auto pong = answer(f, c);
  REQUIRE(pong);
  CHECK(std::holds_alternative<pong_msg>(pong->content));
}
}
