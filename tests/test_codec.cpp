// The codec: every message round-trips; every defect is one protocol_error.
#include <doctest/doctest.h>

#include <msgpack.hpp>

#include <random>

#include "codec.hpp"
#include "sample_messages.hpp"

using namespace argon::common;
using argon::test::one_of_each;

namespace {

std::string packed(const msgpack::sbuffer& b) { return std::string(b.data(), b.size()); }

template <class... T> std::string header_of(T... items) {
  msgpack::sbuffer b;
  msgpack::pack(b, std::make_tuple(items...));
  return packed(b);
}

void expect_error(const std::string& bytes, const char* fragment) {
  CAPTURE(fragment);
  try {
    (void)decode_header(bytes.data(), bytes.size());
    FAIL("decoded without an error");
  } catch (const protocol_error& e) {
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("every message type round-trips through the header codec") {
  for (const body& b : one_of_each()) {
    CAPTURE(command_name(command_of(b)));
    auto frame = encode_header(role::broker, b);
    message m = decode_header(frame.data(), frame.size());
    CHECK(m.from == role::broker);
    CHECK(m.content.index() == b.index());
    auto again = encode_header(role::broker, m.content);
    CHECK(again.to_string() == frame.to_string());
  }
}

TEST_CASE("decoded fields keep their values") {
  auto f = encode_header(role::client, submit_msg{"abc", "resize", priority::low, 42, 7, {}});
  auto s = std::get<submit_msg>(decode_header(f.data(), f.size()).content);
  CHECK(s.id == "abc");
  CHECK(s.task == "resize");
  CHECK(s.pri == priority::low);
  CHECK(s.timeout_ms == 42);
  CHECK(s.max_attempts == 7);
  auto g = encode_header(role::broker, status_reply_msg{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, std::nullopt});
  auto st = std::get<status_reply_msg>(decode_header(g.data(), g.size()).content);
  CHECK(st.workers == 1);
  CHECK(st.queue_limit == 8);
  CHECK(st.uptime_ms == 16);
  auto d = encode_header(role::slot, done_msg{"w", "t", false, "why", ""});
  auto dm = std::get<done_msg>(decode_header(d.data(), d.size()).content);
  CHECK_FALSE(dm.ok);
  CHECK(dm.error == "why");
}

TEST_CASE("STATUS may ask for workers; STATUS_REPLY then lists them, and older forms still decode") {
  CHECK_FALSE(std::get<status_msg>(decode_header(header_of(1, 0, 3).data(), header_of(1, 0, 3).size()).content).workers);
  const std::string asks = header_of(1, 0, 3, true);
  CHECK(std::get<status_msg>(decode_header(asks.data(), asks.size()).content).workers);
  expect_error(header_of(1, 0, 3, 1), "'workers' has the wrong type");
  expect_error(header_of(1, 0, 3, true, true), "needs 0 to 1 fields");
  auto plain = encode_header(role::broker, status_reply_msg{});
  CHECK_FALSE(std::get<status_reply_msg>(decode_header(plain.data(), plain.size()).content).worker_list.has_value());
  status_reply_msg full;
  full.workers = max_listed_workers;
  full.worker_list.emplace(max_listed_workers, worker_status{std::string(max_id_bytes, 'w'), "[2001:db8::1]", 8, 8, 3,
                                                              UINT64_MAX, 1500, true});
  auto g = encode_header(role::broker, full);
  CHECK(g.size() <= max_header_bytes);  // the most a broker lists fits in one header
  auto back = std::get<status_reply_msg>(decode_header(g.data(), g.size()).content);
  REQUIRE(back.worker_list.has_value());
  CHECK(*back.worker_list == *full.worker_list);
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  p.pack_array(5).pack(1).pack(3).pack(13);
  p.pack_map(0);
  p.pack_array(1).pack(7);
  expect_error(packed(b), "'workers' has an item that is not a map");
}

TEST_CASE("frames round-trip over ROUTER/DEALER and ROUTER/REQ with payloads and routing ids") {
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router), dealer(ctx, zmq::socket_type::dealer), req(ctx, zmq::socket_type::req);
  router.bind("inproc://codec");
  dealer.set(zmq::sockopt::routing_id, "client-1");
  req.set(zmq::sockopt::routing_id, "slot-1");
  dealer.connect("inproc://codec");
  req.connect("inproc://codec");
  zmq::message_t in("payload", 7);
  REQUIRE(send(dealer, socket_kind::dealer, nullptr, role::client, submit_msg{"t", "echo", priority::normal, 0, 1, {}}, &in) == send_status::sent);
  auto f = read_frames(router, socket_kind::router);
  REQUIRE(f);
  CHECK(f->routing_id.to_string() == "client-1");
  message m = decode(*f);
  CHECK(std::get<submit_msg>(m.content).id == "t");
  CHECK(m.payload.to_string() == "payload");
  REQUIRE(send(req, socket_kind::req, nullptr, role::slot, ready_msg{"w", std::nullopt}) == send_status::sent);
  auto r = read_frames(router, socket_kind::router);
  REQUIRE(r);
  CHECK(r->routing_id.to_string() == "slot-1");
  CHECK(std::holds_alternative<ready_msg>(decode(*r).content));
  zmq::message_t out("x", 1);
  REQUIRE(send(router, socket_kind::router, &r->routing_id, role::broker, task_msg{"t", "echo", 1, 0, {}}, &out) == send_status::sent);
  auto t = read_frames(req, socket_kind::req);
  REQUIRE(t);
  message tm = decode(*t);
  CHECK(std::get<task_msg>(tm.content).task == "echo");
  CHECK(tm.payload.to_string() == "x");
  zmq::message_t gone_id("nobody", 6);
  router.set(zmq::sockopt::router_mandatory, 1);
  CHECK(send(router, socket_kind::router, &gone_id, role::broker, pong_msg{}) == send_status::unreachable);
}

TEST_CASE("fields added after version 1 are optional on input and checked when present") {
  auto legacy = header_of(1, 0, 1, "id", "echo", 1, 0, 1);
  auto s = std::get<submit_msg>(decode_header(legacy.data(), legacy.size()).content);
  CHECK(s.argv.empty());
  auto ready = header_of(1, 1, 20, "w");
  CHECK_FALSE(std::get<ready_msg>(decode_header(ready.data(), ready.size()).content).caps);
  auto task = header_of(1, 3, 21, "t", "echo", 1, 0);
  CHECK(std::get<task_msg>(decode_header(task.data(), task.size()).content).argv.empty());
  expect_error(header_of(1, 1, 20, "w", "echo"), "'tasks' has the wrong type");
  expect_error(header_of(1, 0, 1, "id", "exec", 1, 0, 1, "/bin/ls"), "'argv' has the wrong type");
  expect_error(header_of(1, 0, 23, "id", 101, ""), "'percent' is out of range");
  expect_error(header_of(1, 0, 23, "id", 100, std::string(max_progress_bytes + 1, 'p')), "too long");
}

TEST_CASE("malformed headers give protocol_error naming the defect") {
  expect_error("", "empty header");
  expect_error("\xc1", "not valid msgpack");
  expect_error(header_of(1, 0, 4).substr(0, 2), "not valid msgpack");
  expect_error(header_of(1, 0, 4) + "x", "trailing bytes");
  expect_error(header_of(std::string("hello")), "not an array");
  expect_error(header_of(1, 0), "at least 3");
  expect_error(header_of(2, 0, 4), "version 2");
  expect_error(header_of(1, 9, 4), "unknown role");
  expect_error(header_of(1, 0, 99), "unknown command");
  expect_error(header_of(1, 0, 1, 5, "echo", 1, 0, 1), "'id' has the wrong type");
  expect_error(header_of(1, 0, 1, "id", "echo", 1, 0), "'max_attempts' is missing");
  expect_error(header_of(1, 0, 4, "extra"), "needs 0 fields");
  expect_error(header_of(1, 0, 1, std::string(200, 'x'), "echo", 1, 0, 1), "too long");
  expect_error(header_of(1, 0, 1, "id", "echo", 7, 0, 1), "'priority' is out of range");
  expect_error(header_of(-1, 0, 4), "unsigned");
  expect_error(std::string(70000, '\x90'), "too large");
}

TEST_CASE("envelope defects: missing payload, extra frames, missing delimiter") {
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router), dealer(ctx, zmq::socket_type::dealer);
  router.bind("inproc://envelope");
  dealer.connect("inproc://envelope");
  auto submit = encode_header(role::client, submit_msg{"t", "echo", priority::normal, 0, 1, {}});
  auto ping = encode_header(role::client, ping_msg{});
  auto send_parts = [&](std::vector<std::string> parts) {
    for (std::size_t i = 0; i < parts.size(); ++i)
      (void)dealer.send(zmq::buffer(parts[i]), i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  };
  auto decode_next = [&] {
    auto f = read_frames(router, socket_kind::router);
    REQUIRE(f);
    CHECK_THROWS_AS((void)decode(*f), protocol_error);
  };
  send_parts({"", submit.to_string()});
  decode_next();
  send_parts({"", ping.to_string(), "unexpected"});
  decode_next();
  send_parts({"", submit.to_string(), "p", "q", "r"});
  decode_next();
  send_parts({ping.to_string()});
  decode_next();
  send_parts({"", ping.to_string()});  // and a good one still decodes afterwards
  auto f = read_frames(router, socket_kind::router);
  REQUIRE(f);
  CHECK(std::holds_alternative<ping_msg>(decode(*f).content));
}

TEST_CASE("20,000 random, truncated and bit-flipped headers decode or throw protocol_error, nothing else") {
  std::mt19937 rng(1234);
  std::vector<std::string> seeds;
  for (const body& b : one_of_each()) seeds.push_back(encode_header(role::client, b).to_string());
  int decoded = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string h = seeds[rng() % seeds.size()];
    switch (i % 4) {
      case 0: h.resize(rng() % (h.size() + 1)); break;
      case 1: for (int k = 0; k < 3; ++k) h[rng() % h.size()] ^= static_cast<char>(1u << (rng() % 8)); break;
      case 2: h[rng() % h.size()] = static_cast<char>(rng()); break;
      default: h.assign(rng() % 64, '\0'); for (auto& c : h) c = static_cast<char>(rng());
    }
    try {
      (void)decode_header(h.data(), h.size());
      ++decoded;
    } catch (const protocol_error&) {
      ++refused;
    }
  }
  CHECK(decoded + refused == 20000);
  CHECK(refused > 10000);
}
}
