// The codec: every message round-trips; every defect is one protocol_error.
#include <doctest/doctest.h>

#include <msgpack.hpp>

#include <map>
#include <random>
#include <utility>
#include <vector>

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


// Hex with runs written "69*128" (byte 0x69, 128 times) and spaces between, as the pins below use.
std::string unrun(const std::string& pinned) {
  std::string out;
  std::size_t at = 0;
  while (at < pinned.size()) {
    std::size_t end = pinned.find(' ', at);
    if (end == std::string::npos) end = pinned.size();
    const std::string token = pinned.substr(at, end - at);
    const std::size_t star = token.find('*');
    if (star == std::string::npos) out += token;
    else for (int n = std::stoi(token.substr(star + 1)); n > 0; --n) out += token.substr(0, star);
    at = end + 1;
  }
  return out;
}

std::string hex_of(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += digits[c >> 4], out += digits[c & 15];
  return out;
}

// Wire bytes, pinned: each message below must encode to exactly these bytes,
// whatever the codec's internals look like. A change here is a protocol change.
std::vector<std::pair<body, const char*>> pinned_messages() {
  const std::string longest(max_id_bytes, 'i');
  return {
      {submit_msg{"id-1", "resize", priority::high, 2500, 3, {}}, "99010001a469642d31a6726573697a6500cd09c40390"},
      {submit_msg{"id-1x", exec_task, priority::normal, 0, 1, {"/usr/bin/tr", "a-z", "A-Z"}}, "99010001a569642d3178a46578656301000193ab2f7573722f62696e2f7472a3612d7aa3412d5a"},
      {submit_msg{longest, longest, priority::low, UINT32_MAX, 1000, {}}, "99010001d980 69*128 d980 69*128 02ceffffffffcd03e890"},
      {cancel_msg{"id-2"}, "94010002a469642d32"},
      {status_msg{}, "93010003"},
      {status_msg{true}, "94010003c3"},
      {ping_msg{}, "93010004"},
      {result_msg{"id-3"}, "9401000aa469642d33"},
      {result_msg{""}, "9401000aa0"},
      {failed_msg{"id-4", "task_error", "disk full"}, "9601000ba469642d34aa7461736b5f6572726f72a96469736b2066756c6c"},
      {failed_msg{"id-4", "task_error", std::string(300, 'm')}, "9601000ba469642d34aa7461736b5f6572726f72da012c 6d*300"},
      {busy_msg{"id-5", 12, 24, 8, 1500, "queue_full"}, "9901000ca469642d350c1808cd05dcaa71756575655f66756c6c"},
      {busy_msg{"id-5", 12, 24, UINT64_MAX, UINT32_MAX, "queue_bytes"}, "9901000ca469642d350c18cfffffffffffffffffceffffffffab71756575655f6279746573"},
      {status_reply_msg{2, 8, 3, 5, 1, 2, 2, 3, 24, 640, 1000, 100, 90, 4, 7, 1, 123456, std::nullopt}, "9401000dde0011a7776f726b65727302a5736c6f747308aa627573795f736c6f747303ab71756575655f646570746805aa71756575655f6869676801ac71756575655f6e6f726d616c02a971756575655f6c6f7702ae7175657565645f636c69656e747303ab71756575655f6c696d697418ab71756575655f6279746573cd0280b171756575655f62797465735f6c696d6974cd03e8a97375626d697474656464a9636f6d706c657465645aa66661696c656404ac627573795f7265706c69657307af70726f746f636f6c5f6572726f727301a9757074696d655f6d73ce0001e240"},
      {status_reply_msg{2, 8, 3, 5, 1, 2, 2, 3, 24, 640, 1000, 100, 90, 4, 7, 1, 123456,
                        std::vector<worker_status>{{"w1", "10.0.0.7", 4, 4, 3, 120, 250, false},
                                                   {"w2", "", 0, 1, 0, 0, 0, true}}}, "9501000dde0011a7776f726b65727302a5736c6f747308aa627573795f736c6f747303ab71756575655f646570746805aa71756575655f6869676801ac71756575655f6e6f726d616c02a971756575655f6c6f7702ae7175657565645f636c69656e747303ab71756575655f6c696d697418ab71756575655f6279746573cd0280b171756575655f62797465735f6c696d6974cd03e8a97375626d697474656464a9636f6d706c657465645aa66661696c656404ac627573795f7265706c69657307af70726f746f636f6c5f6572726f727301a9757074696d655f6d73ce0001e2409288a26964a27731a761646472657373a831302e302e302e37a8636170616369747904a5736c6f747304a46275737903a4646f6e6578b16c6173745f6865617274626561745f6d73ccfaa76c656176696e67c288a26964a27732a761646472657373a0a8636170616369747900a5736c6f747301a46275737900a4646f6e6500b16c6173745f6865617274626561745f6d7300a76c656176696e67c3"},
      {status_reply_msg{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, UINT64_MAX, std::vector<worker_status>{}}, "9501000dde0011a7776f726b65727300a5736c6f747300aa627573795f736c6f747300ab71756575655f646570746800aa71756575655f6869676800ac71756575655f6e6f726d616c00a971756575655f6c6f7700ae7175657565645f636c69656e747300ab71756575655f6c696d697400ab71756575655f627974657300b171756575655f62797465735f6c696d697400a97375626d697474656400a9636f6d706c6574656400a66661696c656400ac627573795f7265706c69657300af70726f746f636f6c5f6572726f727300a9757074696d655f6d73cfffffffffffffffff90"},
      {pong_msg{"b-7f3a"}, "9501000ea6622d3766336100"},
      {pong_msg{"b-7f3a", 16u << 20}, "9501000ea6622d37663361ce01000000"},
      {error_msg{"protocol_error", "bad"}, "9501000fae70726f746f636f6c5f6572726f72a3626164"},
      {ready_msg{"w1", std::nullopt}, "94010014a27731"},
      {ready_msg{"w2", capabilities{{"echo", "upper"}, {"/usr/bin/*"}}}, "96010014a2773292a46563686fa5757070657291aa2f7573722f62696e2f2a"},
      {ready_msg{"w3", capabilities{{}, {}}}, "96010014a277339090"},
      {ready_msg{"w4", capabilities{{"echo"}, {}}, 1}, "97010014a2773491a46563686f9001"},
      {task_msg{"id-6", "sleep", 2, 1700000000000, {}}, "98010015a469642d36a5736c65657002cf0000018bcfe5680090"},
      {task_msg{"id-6x", exec_task, 1, 0, {"/bin/cat"}}, "98010015a569642d3678a465786563010091a82f62696e2f636174"},
      {done_msg{"w1", "id-6", false, "boom", ""}, "98010016a27731a469642d36c2a4626f6f6da0"},
      {done_msg{"w1", "id-6x", false, "program /tmp/x is not allowed", "not_allowed"}, "98010016a27731a569642d3678c2bd70726f6772616d202f746d702f78206973206e6f7420616c6c6f776564ab6e6f745f616c6c6f776564"},
      {done_msg{"w1", "id-7", true, "", ""}, "98010016a27731a469642d37c3a0a0"},
      {done_msg{"w1", "id-7", true, "", "", true}, "99010016a27731a469642d37c3a0a0c3"},
      {hello_msg{"w1", 8, "0.1.0"}, "9701001ea2773108a5302e312e3000"},
      {hello_msg{"w1", 1u << 20, "0.1.0", 0x1122334455667788}, "9701001ea27731ce00100000a5302e312e30cf1122334455667788"},
      {heartbeat_msg{"w1"}, "9401001fa27731"},
      {limits_msg{16u << 20}, "94010020ce01000000"},
      {limits_msg{0}, "9401002000"},
      {bye_msg{"w1"}, "94010023a27731"},
      {withdraw_msg{"w1", "sw1.0"}, "95010024a27731a57377312e30"},
      {progress_msg{"id-6", 40, "page 4 of 10"}, "96010017a469642d3628ac706167652034206f66203130"},
      {progress_msg{"id-8", 100, ""}, "96010017a469642d3864a0"},
  };
}

// Malformed headers, pinned with the whole error text each one gets.
std::vector<std::pair<std::string, const char*>> pinned_errors() {
  const std::string long_id(max_id_bytes + 1, 'x');
  return {
      {header_of(1, 0, 1, "id", long_id, 1, 0, 1), "SUBMIT field 'task' is too long"},
      {header_of(1, 0, 1, "id", "echo", 3, 0, 1), "SUBMIT field 'priority' is out of range"},
      {header_of(1, 0, 1, "id", "echo", 1, 0, 1001), "SUBMIT field 'max_attempts' is out of range"},
      {header_of(1, 0, 1, "id", "echo", 1, 1ull << 32, 1), "SUBMIT field 'timeout_ms' is out of range"},
      {header_of(1, 0, 1, "id", "echo", 1, 0), "SUBMIT field 'max_attempts' is missing"},
      {header_of(1, 0, 1, "id", "echo", 1, 0, 1, std::vector<std::string>{"a"}, 7), "SUBMIT needs 5 to 6 fields, got 7"},
      {header_of(1, 0, 1, "id", "echo", 1, 0, 1, std::vector<int>{1}), "SUBMIT field 'argv' has an item that is not a string"},
      {header_of(1, 0, 2), "CANCEL field 'id' is missing"},
      {header_of(1, 0, 2, "a", "b"), "CANCEL needs 1 fields, got 2"},
      {header_of(1, 0, 3, true, 1), "STATUS needs 0 to 1 fields, got 2"},
      {header_of(1, 0, 3, 1), "STATUS field 'workers' has the wrong type"},
      {header_of(1, 0, 4, 1), "PING needs 0 fields, got 1"},
      {header_of(1, 3, 11, "id", "k"), "FAILED field 'message' is missing"},
      {header_of(1, 3, 12, "id", 1, 2, 3, 1ull << 32, "r"), "BUSY field 'retry_after_ms' is out of range"},
      {header_of(1, 3, 12, "id", -1, 2, 3, 4, "r"), "BUSY field 'depth' has the wrong type"},
      {header_of(1, 3, 13), "STATUS_REPLY field 'snapshot' is missing"},
      {header_of(1, 3, 13, 1), "STATUS_REPLY field 'snapshot' has the wrong type"},
      {header_of(1, 3, 13, std::map<std::string, int>{}, std::vector<int>{1}), "STATUS_REPLY field 'workers' has an item that is not a map"},
      {header_of(1, 3, 13, std::map<std::string, int>{}, std::vector<int>{}, 1), "STATUS_REPLY needs 1 to 2 fields, got 3"},
      {header_of(1, 3, 15, "k"), "ERROR field 'message' is missing"},
      {header_of(1, 1, 20), "READY field 'worker_id' is missing"},
      {header_of(1, 1, 20, "w", std::vector<std::string>{"echo"}), "READY field 'exec' is missing"},
      {header_of(1, 1, 20, "w", std::vector<std::string>{}, std::vector<std::string>{std::string(max_id_bytes * 8 + 1, 'p')}), "READY field 'exec' has an item that is too long"},
      {header_of(1, 1, 20, "w", std::vector<std::string>{long_id}, std::vector<std::string>{}), "READY field 'tasks' has an item that is too long"},
      {header_of(1, 1, 20, "w", std::vector<std::string>{}, std::vector<std::string>{}, 1, 1), "READY needs 1 to 4 fields, got 5"},
      {header_of(1, 1, 20, "w", std::vector<std::string>{}, std::vector<std::string>{}, 8), "READY field 'lanes' is out of range"},
      {header_of(1, 3, 21, "t", "echo", 1), "TASK field 'deadline_ms' is missing"},
      {header_of(1, 3, 21, "t", "echo", 1, 0, std::vector<std::string>{}, 1), "TASK needs 4 to 5 fields, got 6"},
      {header_of(1, 1, 22, "w", "t", 1, "", ""), "DONE field 'ok' has the wrong type"},
      {header_of(1, 1, 22, "w", "t", true, "", long_id), "DONE field 'kind' is too long"},
      {header_of(1, 2, 30, "w", (1u << 20) + 1, "v"), "HELLO field 'capacity' is out of range"},
      {header_of(1, 2, 30, "w", 8), "HELLO field 'version' is missing"},
      {header_of(1, 2, 31), "HEARTBEAT field 'sender' is missing"},
      {header_of(1, 2, 35, "w", "x"), "BYE needs 1 fields, got 2"},
      {header_of(1, 2, 23, "id", 101, ""), "PROGRESS field 'percent' is out of range"},
      {header_of(1, 2, 23, "id", 1, std::string(max_progress_bytes + 1, 'p')), "PROGRESS field 'message' is too long"},
  };
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("every message encodes to the same bytes as protocol version 1 always has") {
  for (const auto& [b, golden] : pinned_messages()) {
    const std::string name = command_name(command_of(b));
    CAPTURE(name);
    const std::string bytes = hex_of(encode_header(role::client, b).to_string());
    CHECK(bytes == unrun(golden));
  }
}

TEST_CASE("every defect gets the same error text as it always has") {
  for (const auto& [bytes, text] : pinned_errors()) {
    CAPTURE(hex_of(bytes));
    try {
      (void)decode_header(bytes.data(), bytes.size());
      FAIL("decoded without an error");
    } catch (const protocol_error& e) {
      CHECK(std::string(e.what()) == text);
    }
  }
}

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

TEST_CASE("the samples, generated from the model, cover every command at its ordinary, least and largest values") {
  std::vector<int> seen(std::variant_size_v<body>, 0);
  for (const body& b : one_of_each()) ++seen[b.index()];
  for (const body& b : argon::test::edge_messages()) ++seen[b.index()];
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == 3);
  for (const body& b : argon::test::edge_messages()) {
    CAPTURE(std::string(command_name(command_of(b))));
    auto frame = encode_header(role::broker, b);
    CHECK(frame.size() <= max_header_bytes);
    auto again = encode_header(role::broker, decode_header(frame.data(), frame.size()).content);
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
  auto g = encode_header(role::broker, status_reply_msg{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, std::nullopt});
  auto st = std::get<status_reply_msg>(decode_header(g.data(), g.size()).content);
  CHECK(st.workers == 1);
  CHECK(st.queued_clients == 8);
  CHECK(st.queue_limit == 9);
  CHECK(st.uptime_ms == 17);
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

TEST_CASE("STATUS_REPLY maps: unknown keys and values of another type are skipped, the last of a repeated key wins") {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  p.pack_array(5).pack(1).pack(3).pack(13);
  p.pack_map(6).pack("slots").pack(4).pack("nope").pack(9).pack(7).pack(1).pack("uptime_ms").pack("x");
  p.pack("queue_low").pack(-2).pack("slots").pack(5);
  p.pack_array(1).pack_map(9);
  p.pack("id").pack("w1").pack("address").pack(std::string(max_id_bytes + 1, 'a')).pack("capacity").pack(true);
  p.pack("busy").pack(2).pack("leaving").pack(1).pack("done").pack("3").pack(4).pack(4);
  p.pack("last_heartbeat_ms").pack(UINT64_MAX).pack("slots").pack(6);
  const auto m = std::get<status_reply_msg>(decode_header(b.data(), b.size()).content);
  CHECK(m.slots == 5);
  CHECK(m.uptime_ms == 0);
  CHECK(m.queue_low == 0);
  REQUIRE(m.worker_list.has_value());
  REQUIRE(m.worker_list->size() == 1);
  CHECK(m.worker_list->front() == worker_status{"w1", "", 0, 6, 2, 0, UINT64_MAX, false});
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

TEST_CASE("a trailing field cannot be sent without the ones before it: encoding refuses instead of shifting it") {
  // READY's lanes follows the capabilities; written alone, the broker would read the mask as the task list.
  CHECK_THROWS_WITH_AS(encode_header(role::slot, ready_msg{"w", std::nullopt, lane_bit(priority::high)}),
                       "field 'lanes' cannot be sent without 'capabilities' before it", std::invalid_argument);
  auto both = encode_header(role::slot, ready_msg{"w", capabilities{}, lane_bit(priority::high)});
  CHECK(std::get<ready_msg>(decode_header(both.data(), both.size()).content).lanes == lane_bit(priority::high));
  // Another trailing field after an absent one: STATUS_REPLY's worker list is the last, so it may go alone.
  status_reply_msg reply;
  reply.worker_list = std::vector<worker_status>{};
  CHECK_NOTHROW(encode_header(role::broker, reply));
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
