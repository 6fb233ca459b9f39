// Client values: results and task_failed; and, against a fake broker played by
// the test thread, how the client rides out a broker that never answers,
// restarts, or goes away and comes back: unfinished tasks are resubmitted and
// each finishes once. Busy refusals are in test_client_busy.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>

#include "argon/client.hpp"
#include "codec.hpp"
#include "errors.hpp"
#include "fake_broker.hpp"
#include "support/process.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;


TEST_SUITE("unit") {
TEST_CASE("value() returns the output, or throws task_failed with the kind and text") {
  auto ok = result::success("t1", "out");
  CHECK(ok.ok());
  CHECK(ok.value() == "out");
  auto bad = result::failure("t2", "task_error", "disk full");
  CHECK_FALSE(bad.ok());
  try {
    (void)bad.value();
    FAIL("value() did not throw");
  } catch (const task_failed& e) {
    CHECK(e.kind() == "task_error");
    CHECK(std::string(e.what()) == "disk full");
  }
  auto busy = result::refused("t3", busy_info{12, 12, 4, 1500ms, "queue_full"});
  CHECK(busy.error_kind() == "busy");
  REQUIRE(busy.busy().has_value());
  CHECK(busy.busy()->depth == 12);
  CHECK(busy.error_message().find("12/12") != std::string::npos);
}

TEST_CASE("options are checked: no key and not insecure is a configuration error") {
  client_options o;
  o.broker = "tcp://127.0.0.1:1";
  CHECK_THROWS_AS(client{o}, common::config_error);
  o.insecure = true;
  o.broker = "";
  CHECK_THROWS_AS(client{o}, common::config_error);
}

TEST_CASE("a broker that never answers: tasks end as unreachable, an oversized payload is refused locally") {
  client_options o;
  o.broker = "tcp://127.0.0.1:" + std::to_string(test::free_port());
  o.insecure = true;
  o.connect_timeout = 300ms;
  o.max_payload = 10;
  client c(o);
  auto big = c.submit("echo", std::string(11, 'x')).get();
  CHECK(big.error_kind() == "payload_too_large");
  auto lost = c.submit("echo", "x");
  REQUIRE(lost.wait_for(10s) == std::future_status::ready);
  auto r = lost.get();
  CHECK(r.error_kind() == "unreachable");
  CHECK(r.error_message().find("did not answer") != std::string::npos);
  CHECK_THROWS_AS((void)c.status(), task_failed);
}

TEST_CASE("a task the broker would refuse for its name or options fails at once, before anything is sent") {
  client_options o;
  o.broker = "tcp://127.0.0.1:" + std::to_string(test::free_port());  // nothing listens: no answer could come
  o.insecure = true;
  o.connect_timeout = 60s;  // so an unreachable broker cannot be what ends these tasks
  client c(o);
  auto long_name = c.submit("n" + std::string(128, 'n'), "x");
  REQUIRE(long_name.wait_for(5s) == std::future_status::ready);
  auto r = long_name.get();
  CHECK(r.error_kind() == "protocol_error");
  CHECK(r.error_message().find("at most 128 bytes") != std::string::npos);
  submit_options too_many;
  too_many.max_attempts = 1001;
  auto attempts = c.submit("echo", "x", too_many);
  REQUIRE(attempts.wait_for(5s) == std::future_status::ready);
  CHECK(attempts.get().error_message().find("max_attempts") != std::string::npos);
  auto control = c.submit("ec\nho", "x");
  REQUIRE(control.wait_for(5s) == std::future_status::ready);
  CHECK(control.get().error_kind() == "protocol_error");
  auto program = c.exec({"/bin/echo"}, "", too_many);
  REQUIRE(program.wait_for(5s) == std::future_status::ready);
  CHECK(program.get().error_kind() == "protocol_error");
}

TEST_CASE("a payload over the limit the broker's PONG says fails at the client and is never sent") {
  fake_broker broker("b-limits", "tcp://127.0.0.1:*");
  broker.max_payload = 100;
  client c(fast_options(broker.endpoint));
  settle_contact(broker);
  auto big = c.submit("echo", std::string(101, 'x'));
  REQUIRE(big.wait_for(5s) == std::future_status::ready);
  auto r = big.get();
  CHECK(r.error_kind() == "payload_too_large");
  CHECK(r.error_message().find("broker's limit of 100 bytes") != std::string::npos);
  CHECK_FALSE(broker.next_submit(300ms));  // nothing went out
  auto fits = c.submit("echo", std::string(100, 'x'));
  auto sent = broker.next_submit(5s);
  REQUIRE(sent);
  CHECK(sent->msg.payload.size() == 100);
  broker.reply(sent->routing_id, common::result_msg{submit_of(*sent).id}, "ok");
  CHECK(fits.get().value() == "ok");
}

TEST_CASE("a task sent before the broker said its limit, and over it, fails when the broker says it") {
  fake_broker broker("b-late", "tcp://127.0.0.1:*");
  broker.answer_pings = false;
  broker.max_payload = 100;
  client c(fast_options(broker.endpoint));
  auto big = c.submit("echo", std::string(500, 'x'));
  auto sent = broker.next_submit(5s);  // sent at once, before any PONG
  REQUIRE(sent);
  broker.answer_pings = true;  // the next PING gets the PONG with the limit
  for (int i = 0; i < 100 && big.wait_for(0s) != std::future_status::ready; ++i) (void)broker.next(100ms);
  REQUIRE(big.wait_for(1s) == std::future_status::ready);
  CHECK(big.get().error_kind() == "payload_too_large");
}

TEST_CASE("destroying a client finishes its unfinished tasks as cancelled") {
  client_options o;
  o.broker = "tcp://127.0.0.1:" + std::to_string(test::free_port());
  o.insecure = true;
  std::future<result> pending;
  {
    client c(o);
    pending = c.submit("echo", "x");
  }
  REQUIRE(pending.wait_for(0s) == std::future_status::ready);
  CHECK(pending.get().error_kind() == "cancelled");
}

TEST_CASE("keep-alive options are checked") {
  client_options o = fast_options("tcp://127.0.0.1:1");
  o.heartbeat = 0ms;
  CHECK_THROWS_AS(client{o}, common::config_error);
  o.heartbeat = 100ms;
  o.liveness = 0;
  CHECK_THROWS_AS(client{o}, common::config_error);
}

TEST_CASE("a broker restart: the client resubmits its unfinished task under the same id, and a doubled result finishes it once") {
  fake_broker broker("b-1", "tcp://127.0.0.1:*");
  client c(fast_options(broker.endpoint));
  settle_contact(broker);
  std::atomic<int> calls{0};
  std::promise<result> first;
  submit_options so;
  so.timeout = 20s;
  c.submit("echo", "hello", so, [&](result r) {
    if (calls++ == 0) first.set_value(std::move(r));
  });
  auto sent = broker.next_submit(3s);
  REQUIRE(sent);
  const std::string id = submit_of(*sent).id;
  CHECK(sent->msg.payload.to_string() == "hello");
  CHECK(submit_of(*sent).timeout_ms <= 20000);
  std::this_thread::sleep_for(200ms);  // the restart comes later, so less of the timeout is left
  broker.instance = "b-2";              // the broker "restarted": it knows no task
  auto again = broker.next_submit(3s);
  REQUIRE(again);
  CHECK(submit_of(*again).id == id);
  CHECK(submit_of(*again).task == "echo");
  CHECK(again->msg.payload.to_string() == "hello");
  CHECK(submit_of(*again).timeout_ms >= 1);
  CHECK(submit_of(*again).timeout_ms < submit_of(*sent).timeout_ms);  // the caller's timeout still counts from submit()
  broker.reply(again->routing_id, common::result_msg{id}, "value");
  broker.reply(again->routing_id, common::result_msg{id}, "value");
  auto outcome = first.get_future();
  REQUIRE(outcome.wait_for(3s) == std::future_status::ready);
  CHECK(outcome.get().value() == "value");
  (void)broker.next(300ms);  // the duplicate arrives and is dropped
  CHECK(calls == 1);
  auto later = c.submit("echo", "still here");  // and the client carries on
  auto next = broker.next_submit(3s);
  REQUIRE(next);
  broker.reply(next->routing_id, common::result_msg{submit_of(*next).id}, "still here");
  REQUIRE(later.wait_for(3s) == std::future_status::ready);
  CHECK(later.get().value() == "still here");
}

TEST_CASE("an exec task carries its argv in SUBMIT, and again when it is resubmitted after a restart") {
  fake_broker broker("b-1", "tcp://127.0.0.1:*");
  client c(fast_options(broker.endpoint));
  settle_contact(broker);
  const std::vector<std::string> argv{"/usr/bin/tr", "a-z", "A-Z"};
  auto f = c.exec(argv, "input");
  auto sent = broker.next_submit(3s);
  REQUIRE(sent);
  CHECK(submit_of(*sent).task == "exec");
  CHECK(submit_of(*sent).argv == argv);
  CHECK(sent->msg.payload.to_string() == "input");
  broker.instance = "b-2";
  auto again = broker.next_submit(3s);
  REQUIRE(again);
  CHECK(submit_of(*again).id == submit_of(*sent).id);
  CHECK(submit_of(*again).argv == argv);
  broker.reply(again->routing_id, common::result_msg{submit_of(*again).id}, "INPUT");
  REQUIRE(f.wait_for(3s) == std::future_status::ready);
  CHECK(f.get().value() == "INPUT");
  auto plain = c.submit("echo", "x");  // other tasks carry no argv
  auto echo = broker.next_submit(3s);
  REQUIRE(echo);
  CHECK(submit_of(*echo).argv.empty());
}

TEST_CASE("a broker that goes away and comes back on the same port gets every unfinished task again") {
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(test::free_port());
  std::string same_or_new;
  SUBCASE("as a new instance") { same_or_new = "b-2"; }
  SUBCASE("as the same instance") { same_or_new = "b-1"; }
  auto gone = std::make_unique<fake_broker>("b-1", endpoint);
  client c(fast_options(endpoint));
  auto before = c.submit("echo", "before");
  auto sent = gone->next_submit(3s);
  REQUIRE(sent);
  const std::string first_id = submit_of(*sent).id;
  gone.reset();                          // silent: no PONG, no socket
  std::this_thread::sleep_for(700ms);    // lost after 3 x 100 ms
  auto during = c.submit("echo", "during");  // held until the broker answers
  std::this_thread::sleep_for(800ms);
  fake_broker back(same_or_new, endpoint);
  std::map<std::string, received> got;
  const auto end = std::chrono::steady_clock::now() + 8s;
  while (got.size() < 2 && std::chrono::steady_clock::now() < end) {
    auto r = back.next_submit(500ms);
    if (r) got.emplace(submit_of(*r).id, std::move(*r));
  }
  REQUIRE(got.size() == 2);
  REQUIRE(got.count(first_id) == 1);
  for (auto& [id, r] : got) back.reply(r.routing_id, common::result_msg{id}, r.msg.payload.to_string());
  REQUIRE(before.wait_for(3s) == std::future_status::ready);
  CHECK(before.get().value() == "before");
  REQUIRE(during.wait_for(3s) == std::future_status::ready);
  CHECK(during.get().value() == "during");
}

TEST_CASE("first contact by a HEARTBEAT naming the broker's instance: a SUBMIT sent before it is sent again") {
  fake_broker broker("b-1", "tcp://127.0.0.1:*");
  broker.answer_pings = false;  // this broker never PONGs; its HEARTBEAT is the first word the client hears
  client c(fast_options(broker.endpoint));
  auto task = c.submit("echo", "x");
  auto sent = broker.next_submit(3s);
  REQUIRE(sent);
  const std::string id = submit_of(*sent).id;
  broker.reply(sent->routing_id, common::heartbeat_msg{"b-1"});
  auto again = broker.next_submit(3s);
  REQUIRE(again);
  CHECK(submit_of(*again).id == id);
  CHECK(again->msg.payload.to_string() == "x");
  broker.reply(again->routing_id, common::result_msg{id}, "x");
  REQUIRE(task.wait_for(3s) == std::future_status::ready);
  CHECK(task.get().value() == "x");
}

TEST_CASE("a broker lost for longer than reconnect_timeout: unfinished tasks fail as unreachable, saying for how long") {
  auto broker = std::make_unique<fake_broker>("b-1", "tcp://127.0.0.1:*");
  client_options o = fast_options(broker->endpoint);
  o.reconnect_timeout = 500ms;
  client c(o);
  auto task = c.submit("echo", "x");
  REQUIRE(broker->next_submit(3s));
  const auto closed = std::chrono::steady_clock::now();
  broker.reset();
  REQUIRE(task.wait_for(5s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - closed >= 700ms);  // liveness (300 ms) + reconnect_timeout (500 ms), less a tick
  auto r = task.get();
  CHECK(r.error_kind() == "unreachable");
  CHECK(r.error_message().find("has not answered for") != std::string::npos);
  CHECK(r.error_message().find(o.broker) != std::string::npos);
}
}

TEST_SUITE("unit") {
TEST_CASE("progress reports reach the task's callback in order; after the outcome they are dropped") {
  fake_broker broker("b-1", "tcp://127.0.0.1:*");
  client c(fast_options(broker.endpoint));
  std::mutex m;
  std::vector<std::string> seen;
  submit_options so;
  so.on_progress = [&](const progress_info& p) {
    std::lock_guard lock(m);
    seen.push_back(p.id + ":" + std::to_string(p.percent) + ":" + p.message);
  };
  auto f = c.submit("echo", "x", so);
  auto sent = broker.next_submit(3s);
  REQUIRE(sent);
  const std::string id = submit_of(*sent).id;
  broker.reply(sent->routing_id, common::progress_msg{id, 10, "start"});
  broker.reply(sent->routing_id, common::progress_msg{"someone-else", 50, ""});
  broker.reply(sent->routing_id, common::progress_msg{id, 60, "more"});
  broker.reply(sent->routing_id, common::result_msg{id}, "done");
  broker.reply(sent->routing_id, common::progress_msg{id, 99, "late"});
  REQUIRE(f.wait_for(3s) == std::future_status::ready);
  CHECK(f.get().value() == "done");
  (void)broker.next(200ms);
  std::lock_guard lock(m);
  CHECK(seen == std::vector<std::string>{id + ":10:start", id + ":60:more"});
}
}
