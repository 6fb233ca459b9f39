// End to end: a secure broker with one real worker takes ten rounds of
// hostile input ($ARGON_NONSENSE_ROUNDS for more) and keeps serving, with
// bounded memory.
//
// Each round lasts about a second. A client-key peer sends random,
// truncated and bad-msgpack frames (with and without the delimiter),
// payloads over --max-payload, SUBMITs with empty ids, STATUS floods and
// CANCELs of other clients' task ids; a worker-key peer sends
// protocol-valid nonsense: DONE for unknown tasks, READY twice, HELLO with
// capacity 2^20 (and one more), HEARTBEAT floods under its own and made-up
// worker ids; a fresh peer sends a frame far over the broker's
// ZMQ_MAXMSGSIZE, so libzmq drops that connection. After every round the
// broker must report exactly the real worker's slots, run a real echo
// through argon::client, and its VmRSS must not grow by more than 64 MiB
// from round 1 to the last.
//
// Before the rounds, with both real slots busy: a CANCEL from another
// client leaves a victim client's queued task alone (the victim's own
// CANCEL works), a worker-key peer's DONE for a task a real slot is
// running is not taken as its result, and a real client's `sleep 1500`
// finishes ok.
//
// The worker-key peer's READY and DONE register a fake slot, which the
// broker may hand a task (a mutated SUBMIT can be a runnable task). So that
// nothing can hang on it, the fake slot answers every TASK as an echo
// worker would, and each round ends with BYE for its fake worker id: the
// broker forgets the fake slot at once (or when its last DONE arrives). The
// round's checks wait for the fake slot to be gone, so the real echo can
// only run on the real worker.
#include <doctest/doctest.h>

#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "argon/client.hpp"
#include "raw_peer.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

constexpr int real_slots = 2;                 // the real worker's capacity
constexpr std::size_t max_payload = 4096;     // --max-payload for this broker
constexpr int default_rounds = 10;            // hostile rounds, unless $ARGON_NONSENSE_ROUNDS says more
constexpr auto round_length = 1000ms;         // how long each round throws

int round_count() {
  const char* env = std::getenv("ARGON_NONSENSE_ROUNDS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : default_rounds;
}

std::string header(common::role r, const common::body& b) { return common::encode_header(r, b).to_string(); }

// Valid headers of every command the broker might meet, to be broken.
std::vector<std::string> valid_headers() {
  using namespace common;
  return {header(role::client, submit_msg{"t", "echo", priority::normal, 0, 1, {}}),
          header(role::client, cancel_msg{"t"}), header(role::client, status_msg{}),
          header(role::client, ping_msg{}), header(role::slot, ready_msg{"w", std::nullopt}),
          header(role::slot, done_msg{"w", "t", true, "", ""}), header(role::control, hello_msg{"w", 1, "x"}),
          header(role::control, heartbeat_msg{"w"}), header(role::control, bye_msg{"w"}),
          header(role::broker, result_msg{"t"})};
}

std::string random_text(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// One broken message: truncated, bit-flipped, bad msgpack, a huge declared
// length, deep nesting or random bytes, followed by 0-3 payload frames.
std::vector<std::string> junk_message(std::mt19937_64& rng, const std::vector<std::string>& valid) {
  std::string h = valid[rng() % valid.size()];
  switch (rng() % 6) {
    case 0: h.resize(rng() % h.size()); break;
    case 1: for (int k = 0; k < 3; ++k) h[rng() % h.size()] ^= static_cast<char>(1u << (rng() % 8)); break;
    case 2: h[rng() % h.size()] = '\xc1'; break;  // a byte msgpack never uses
    case 3: h = std::string("\xdd\xff\xff\xff\xff", 5) + h; break;  // an array of 2^32-1 items
    case 4: h = std::string(200, '\x91') + "\xc0"; break;
    default: h = random_text(rng, rng() % 64); break;
  }
  std::vector<std::string> frames{h};
  for (auto extra = rng() % 4; extra > 0; --extra) frames.push_back(random_text(rng, rng() % 32));
  return frames;
}

// What the hostile peers got back, for the report.
struct tally {
  long messages = 0;                    // messages thrown at the broker
  std::map<std::string, long> replies;  // replies by command; ERROR and FAILED also by kind
};

std::string describe(const tally& t) {
  std::string s = std::to_string(t.messages) + " messages thrown; replies:";
  for (const auto& [what, n] : t.replies) s += " " + what + " " + std::to_string(n);
  return s;
}

// The peers that misbehave, and the fake worker id of the current round.
struct hostile_peers {
  raw_peer junk;        // client key: garbage, floods, other clients' CANCELs
  raw_peer fake;        // worker key: protocol-valid nonsense as a fake worker
  std::string fake_id;  // this round's fake worker id
  tally seen;           // counts
};

// Counts a reply to a hostile peer; the fake slot answers a TASK as an echo worker would.
void take(raw_peer& p, hostile_peers& h, common::message& m, bool answer_tasks) {
  ++h.seen.replies[common::command_name(common::command_of(m.content))];
  if (auto* e = std::get_if<common::error_msg>(&m.content)) ++h.seen.replies["ERROR:" + e->kind];
  if (auto* f = std::get_if<common::failed_msg>(&m.content)) ++h.seen.replies["FAILED:" + f->kind];
  auto* t = std::get_if<common::task_msg>(&m.content);
  if (t && answer_tasks)
    p.send(common::role::slot, common::done_msg{h.fake_id, t->id, true, "", ""}, m.payload.to_string());
}

// Reads what waits for the hostile peers, without blocking.
void drain_all(hostile_peers& h) {
  while (auto m = h.junk.receive(0ms)) take(h.junk, h, *m, false);
  while (auto m = h.fake.receive(0ms)) take(h.fake, h, *m, true);
}

// Sends a PING and handles replies until its PONG: the broker has caught up with
// everything this peer sent, so the peers never run far ahead of it.
bool catch_up(raw_peer& p, hostile_peers& h, bool answer_tasks) {
  p.send(common::role::client, common::ping_msg{});
  for (auto m = p.receive(10000ms); m; m = p.receive(10000ms)) {
    if (std::holds_alternative<common::pong_msg>(m->content)) return true;
    take(p, h, *m, answer_tasks);
  }
  return false;
}

// A client-key burst: junk frames, oversized payloads, empty ids, floods, foreign CANCELs.
void junk_burst(hostile_peers& h, std::mt19937_64& rng, const std::vector<std::string>& valid) {
  using namespace common;
  for (int i = 0; i < 40; ++i) {
    auto frames = junk_message(rng, valid);
    if (rng() % 4 == 0) h.junk.send_parts(frames);  // no delimiter
    else h.junk.send_frames(frames);
  }
  h.junk.send_frames({std::string(max_header_bytes + 100, '\x90')});
  h.junk.send(role::client, submit_msg{"over", "echo", priority::normal, 0, 1, {}}, std::string(max_payload + 1, 'o'));
  h.junk.send(role::client, submit_msg{"far-over", "echo", priority::normal, 0, 1, {}}, std::string(200000, 'f'));
  h.junk.send(role::client, submit_msg{"", "echo", priority::normal, 0, 1, {}}, "x");
  h.junk.send(role::client, submit_msg{"no-name", "", priority::high, 0, 1, {}}, "x");
  for (int i = 0; i < 20; ++i) h.junk.send(role::client, status_msg{});
  for (const char* id : {"v-queued", "v-run", "1", "t"}) h.junk.send(role::client, cancel_msg{id});
  h.junk.send(role::slot, ready_msg{"pretender", std::nullopt});  // a worker command without the worker key
  h.seen.messages += 40 + 5 + 20 + 4 + 1;
}

// A worker-key burst of messages that decode but make no sense.
void fake_worker_burst(hostile_peers& h, std::mt19937_64& rng) {
  using namespace common;
  for (int i = 0; i < 5; ++i)
    h.fake.send(role::slot, done_msg{h.fake_id, "unknown-" + std::to_string(rng() % 1000), i % 2 == 0, "e", ""}, "out");
  h.fake.send(role::slot, ready_msg{h.fake_id, std::nullopt});
  h.fake.send(role::slot, ready_msg{h.fake_id, std::nullopt});
  h.fake.send(role::control, hello_msg{h.fake_id, 1u << 20, "9.9.9"});
  h.fake.send(role::control, hello_msg{h.fake_id, (1u << 20) + 1, "9.9.9"});  // one over the limit
  for (int i = 0; i < 50; ++i) h.fake.send(role::control, heartbeat_msg{h.fake_id});
  for (int i = 0; i < 10; ++i) h.fake.send(role::control, heartbeat_msg{"ghost-" + std::to_string(rng() % 100000)});
  h.seen.messages += 5 + 2 + 2 + 50 + 10;
}

// A fresh peer sends one frame far over ZMQ_MAXMSGSIZE. libzmq drops the connection
// without the broker seeing the frame (a PING sent right behind it may go down with
// it); the peer reconnects by itself, and its PINGs are answered again.
void oversized_connection(const std::string& endpoint, const common::role_keys& keys, tally& seen) {
  raw_peer giant(endpoint, &keys.client, &keys.broker);
  giant.send_frames({header(common::role::client, common::submit_msg{"giant", "echo", common::priority::normal, 0, 1, {}}),
                     std::string(1u << 20, 'g')});
  bool pong = false, answered = false;
  const auto end = steady::now() + 10s;
  while (!pong && steady::now() < end) {
    giant.send(common::role::client, common::ping_msg{});
    ++seen.messages;
    for (auto m = giant.receive(300ms); m && !pong; m = giant.receive(300ms)) {
      pong = std::holds_alternative<common::pong_msg>(m->content);
      answered = answered || std::holds_alternative<common::failed_msg>(m->content);
    }
  }
  CHECK_MESSAGE(pong, "a peer dropped for an oversized frame is served after it reconnects");
  CHECK_MESSAGE(!answered, "a frame over ZMQ_MAXMSGSIZE never reaches the broker");
  ++seen.messages;
}

// One hostile round of about round_length, ending with BYE for the fake worker.
void hostile_round(hostile_peers& h, const std::string& endpoint, const common::role_keys& keys, int round) {
  std::mt19937_64 rng(1000 + static_cast<unsigned>(round));
  const auto valid = valid_headers();
  h.fake_id = "fake-" + std::to_string(round);
  oversized_connection(endpoint, keys, h.seen);
  const auto end = steady::now() + round_length;
  while (steady::now() < end) {
    junk_burst(h, rng, valid);
    fake_worker_burst(h, rng);
    REQUIRE(catch_up(h.junk, h, false));
    REQUIRE(catch_up(h.fake, h, true));
  }
  h.fake.send(common::role::control, common::bye_msg{h.fake_id});
}

// Waits (draining the hostile peers) until the broker reports only the real
// worker's slots, all idle, and an empty queue; returns the last status.
common::status_reply_msg settled_status(client& c, hostile_peers& h) {
  const auto end = steady::now() + 8s;
  common::status_reply_msg s = c.status();
  while (steady::now() < end) {
    drain_all(h);
    if (s.slots == real_slots && s.busy_slots == 0 && s.queue_depth == 0) break;
    std::this_thread::sleep_for(50ms);
    s = c.status();
  }
  return s;
}

// Checks the round's outcome as a user would see it: the real slots, and a real echo.
void check_still_serving(client& c, hostile_peers& h, int round) {
  CAPTURE(round);
  const auto s = settled_status(c, h);
  CHECK(s.slots == real_slots);
  CHECK(s.busy_slots == 0);
  CHECK(s.queue_depth == 0);
  const std::string text = "still here after round " + std::to_string(round);
  submit_options o;
  o.timeout = 15s;
  result r = c.call("echo", text, o);
  CHECK_MESSAGE(r.ok(), r.error_kind(), ": ", r.error_message());
  if (r.ok()) CHECK(r.value() == text);
}

client_options client_for(const argon_system& sys) {
  client_options o;
  o.broker = sys.endpoint;
  o.keyfile = sys.keyfile;
  return o;
}

}  // namespace

namespace {

// Waits until the broker reports this many busy slots and queued tasks.
bool wait_for_load(client& c, std::uint64_t busy, std::uint64_t queued) {
  const auto end = steady::now() + 10s;
  while (steady::now() < end) {
    const auto s = c.status();
    if (s.busy_slots == busy && s.queue_depth == queued) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// The outcome each task id of a raw client got: a RESULT's payload, or "FAILED:" and the kind.
std::map<std::string, std::string> outcomes(raw_peer& p, std::size_t want) {
  std::map<std::string, std::string> got;
  const auto end = steady::now() + 15s;
  while (got.size() < want && steady::now() < end) {
    auto m = p.receive(100ms);
    if (!m) continue;
    if (auto* r = std::get_if<common::result_msg>(&m->content)) got[r->id] = m->payload.to_string();
    if (auto* f = std::get_if<common::failed_msg>(&m->content)) got[f->id] = "FAILED:" + f->kind;
  }
  return got;
}

// With both real slots busy, a victim client has two tasks queued. The junk peer's
// CANCELs of the victim's ids must not touch them; the victim's own CANCEL does.
void check_foreign_cancel(client& c, hostile_peers& h, raw_peer& victim) {
  using namespace common;
  victim.send(role::client, submit_msg{"v-run", "sleep", priority::normal, 0, 1, {}}, "1500");
  victim.send(role::client, submit_msg{"v-queued", "echo", priority::normal, 0, 1, {}}, "keep me");
  victim.send(role::client, submit_msg{"v-own", "echo", priority::normal, 0, 1, {}}, "cancel me");
  REQUIRE(wait_for_load(c, real_slots, 2));
  for (const char* id : {"v-queued", "v-own", "v-run"}) h.junk.send(role::client, cancel_msg{id});
  REQUIRE(catch_up(h.junk, h, false));  // the foreign CANCELs were handled while the tasks waited
  victim.send(role::client, cancel_msg{"v-own"});
  CHECK(outcomes(victim, 1)["v-own"] == "FAILED:cancelled");
}

// A worker-key peer's DONE for a task that a real slot is running must not become
// its result. (That DONE makes the peer a fake slot, which may then be handed the
// victim's queued task: it answers it as an echo worker, and says BYE after.)
void check_forged_done(hostile_peers& h, raw_peer& victim) {
  h.fake_id = "fake-0";
  h.fake.send(common::role::slot, common::done_msg{h.fake_id, "v-run", true, "", ""}, "forged");
  REQUIRE(catch_up(h.fake, h, true));
  auto got = outcomes(victim, 2);
  REQUIRE(catch_up(h.fake, h, true));
  h.fake.send(common::role::control, common::bye_msg{h.fake_id});
  CHECK(got["v-run"] == "1500");
  CHECK(got["v-queued"] == "keep me");
}

// Made-up workers from HELLO and HEARTBEAT expire after the liveness limit; waits for that.
common::status_reply_msg after_fakes_expire(client& c, hostile_peers& h) {
  const auto end = steady::now() + 10s;
  auto s = c.status();
  while (s.workers != 1 && steady::now() < end) {
    drain_all(h);
    std::this_thread::sleep_for(100ms);
    s = c.status();
  }
  return s;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("rounds of hostile input: the broker keeps serving, reports the real slots, and its memory stays bounded") {
  shrink_sanitizer_quarantine();
  argon_system sys({.secure = true, .workers = 1, .capacity = real_slots,
                    .broker_args = {"--max-payload", std::to_string(max_payload)}});
  REQUIRE(sys.wait_for_slots(real_slots));
  const auto keys = common::load_keys(sys.keyfile);
  client c(client_for(sys));
  hostile_peers h{raw_peer(sys.endpoint, &keys.client, &keys.broker),
                  raw_peer(sys.endpoint, &keys.worker, &keys.broker), "", {}};
  auto sleeper = c.submit("sleep", "1500");
  REQUIRE(wait_for_load(c, 1, 0));
  raw_peer victim(sys.endpoint, &keys.client, &keys.broker);
  check_foreign_cancel(c, h, victim);
  check_forged_done(h, victim);
  REQUIRE(sleeper.wait_for(15s) == std::future_status::ready);
  const result slept = sleeper.get();
  CHECK_MESSAGE(slept.ok(), slept.error_kind(), ": ", slept.error_message());
  if (slept.ok()) CHECK(slept.value() == "1500");

  const pid_t pid = sys.broker->pid();
  const int rounds = round_count();
  long rss_first = -1;
  for (int round = 1; round <= rounds; ++round) {
    hostile_round(h, sys.endpoint, keys, round);
    check_still_serving(c, h, round);
    if (round == 1) rss_first = rss_kib(pid);
  }
  const long rss_last = rss_kib(pid);
  MESSAGE("broker VmRSS after round 1: ", rss_first, " KiB; after round ", rounds, ": ", rss_last,
          " KiB; growth ", rss_last - rss_first, " KiB");
  MESSAGE(describe(h.seen));
  REQUIRE(rss_first > 0);
  CHECK(rss_last - rss_first < 64 * 1024);

  const auto s = after_fakes_expire(c, h);
  CHECK(s.workers == 1);
  CHECK(s.slots == real_slots);
  CHECK(s.protocol_errors > 0);
  CHECK(h.seen.replies["ERROR:protocol_error"] > 0);
  CHECK(h.seen.replies["ERROR:not_allowed"] > 0);
  CHECK(h.seen.replies["FAILED:payload_too_large"] > 0);
  CHECK(h.seen.replies["FAILED:protocol_error"] > 0);  // SUBMIT with an empty id or task name
  CHECK(sys.broker->running());
}
}
