// A client that reads too slowly, at the broker in-process, with a fake
// clock: nothing that waits for it leaves until the clock says it is due,
// so the test decides when the client is behind. Past its bound its new
// SUBMITs get BUSY client_slow, while a resubmitted running task is still
// ignored and a finished one still gets its kept outcome; the outcomes of
// its accepted tasks wait, and when it reads, everything arrives in the
// order it was made, each answer once; then it is served again.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "broker_fixture.hpp"
#include "client_backlog.hpp"

using namespace argon;
using namespace argon::test;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

// What a client read, in order: "RESULT id", "FAILED id kind", "BUSY id reason".
struct reading {
  std::vector<std::string> lines;  // every answer to a SUBMIT, as it came
  std::size_t pongs = 0;           // PONGs read

  [[nodiscard]] std::size_t count_of(const std::string& line) const {
    return static_cast<std::size_t>(std::count(lines.begin(), lines.end(), line));
  }
};

void take(reading& r, const message& m) {
  if (const auto* x = std::get_if<result_msg>(&m.content)) r.lines.push_back("RESULT " + x->id);
  else if (const auto* f = std::get_if<failed_msg>(&m.content)) r.lines.push_back(fmt::format("FAILED {} {}", f->id, f->kind));
  else if (const auto* b = std::get_if<busy_msg>(&m.content)) r.lines.push_back(fmt::format("BUSY {} {}", b->id, b->reason));
  else if (std::holds_alternative<pong_msg>(m.content)) ++r.pongs;
}

// Reads everything made for the client so far: the PONG of a PING comes
// after it. Each round of the loop moves the clock past the longest retry,
// so what waits for the client is offered again at once.
reading read_everything(fixture& f, raw_peer& c) {
  reading r;
  c.send(role::client, ping_msg{});
  f.pump_until([&] {
    f.clk.advance(broker::client_backlog::max_retry);
    while (auto m = c.receive(0ms)) take(r, *m);
    return r.pongs == 1;
  });
  return r;
}

std::string big(std::size_t n) { return std::string(n, 'o'); }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("past its bound a client's new SUBMITs get client_slow; its outcomes wait and arrive in order once it reads") {
  broker::config cfg;
  cfg.queue_limit = 10;
  cfg.liveness = 100000;  // the fake clock moves; no worker here may expire
  cfg.client_backlog_bytes = 1 << 20;
  fixture f(cfg);
  slot_peer sleeper(f, "W1", "w1.0", capabilities{{"sleep"}, {}}), echo(f, "W2", "w2.0", capabilities{{"echo"}, {}});
  REQUIRE(f.wait_for_slots(2));
  // ZeroMQ takes one message off the network for it, and the kernel's receive buffer is fixed and small.
  raw_peer c(f.b->endpoint(), nullptr, nullptr, {.rcvhwm = 1, .rcvbuf = 4096});
  c.send(role::client, submit("long", "sleep"), "5000");
  REQUIRE(sleeper.task());
  // 64 KiB outcomes until the client is refused: ZeroMQ's 100 messages and
  // the kernel's buffers fill first, then the bound.
  std::size_t accepted = 0;
  for (; accepted < 1000; ++accepted) {
    const std::uint64_t busy_before = f.b->snapshot().busy_replies;
    c.send(role::client, submit(fmt::format("e{:04}", accepted)), "in");
    std::optional<message> t;
    REQUIRE(f.pump_until([&] {
      if (auto fr = read_frames(echo.socket, socket_kind::req)) t = decode(*fr);
      return t.has_value() || f.b->snapshot().busy_replies > busy_before;
    }));
    if (!t) break;
    echo.done(std::get<task_msg>(t->content).id, big(64 * 1024));
    REQUIRE(f.pump_until([&] { return f.b->unfinished() == 1; }));  // its RESULT is made before the next SUBMIT is read
  }
  INFO("accepted before the client was past its bound: ", accepted);
  REQUIRE(accepted < 1000);
  const std::string refused = fmt::format("e{:04}", accepted);
  const auto busy = f.b->snapshot().busy_replies;
  c.send(role::client, submit("long", "sleep"), "5000");  // running: ignored, as always
  c.send(role::client, submit("e0000"), "in");           // finished: its kept outcome, as always
  c.send(role::client, submit("later"), "in");           // new: refused
  REQUIRE(f.pump_until([&] { return f.b->snapshot().busy_replies == busy + 1; }));
  f.settle();
  CHECK(f.b->snapshot().busy_replies == busy + 1);
  CHECK(f.b->snapshot().submitted == accepted + 1);
  sleeper.done("long", "5000");  // an outcome for a client past its bound: it waits too
  REQUIRE(f.pump_until([&] { return f.b->unfinished() == 0; }));

  const reading r = read_everything(f, c);
  CHECK(f.b->clients_behind() == 0);
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < accepted; ++i) expected.push_back(fmt::format("RESULT e{:04}", i));
  expected.push_back("BUSY " + refused + " client_slow");
  expected.push_back("RESULT e0000");
  expected.push_back("BUSY later client_slow");
  expected.push_back("RESULT long");
  CHECK(r.lines.size() == expected.size());
  for (std::size_t i = 0; i < std::min(r.lines.size(), expected.size()); ++i) {
    CAPTURE(i);
    CHECK(r.lines[i] == expected[i]);
  }

  c.send(role::client, submit("again"), "in");  // it has read everything: served again
  auto t = echo.task();
  REQUIRE(t);
  echo.done("again", "out");
  auto answer = reply_to(f, c);
  REQUIRE(answer);
  CHECK(std::holds_alternative<result_msg>(answer->content));
}
}
