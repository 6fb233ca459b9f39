// Client values: busy backoff, results and task_failed; and the client's
// handling of a broker that never answers, without a real broker.
#include <doctest/doctest.h>

#include <cmath>

#include "argon/client.hpp"
#include "errors.hpp"
#include "support/process.hpp"

using namespace argon;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("busy backoff follows Argon's 1 + ln n seconds") {
  retry_policy p;
  p.jitter = 0;
  CHECK(busy_backoff(p, 1, 0ms, 0.5) == 1000ms);
  CHECK(busy_backoff(p, 2, 0ms, 0.5) == std::chrono::milliseconds(std::lround(1000 * (1 + std::log(2.0)))));
  CHECK(busy_backoff(p, 10, 0ms, 0.5) == std::chrono::milliseconds(std::lround(1000 * (1 + std::log(10.0)))));
  p.base_seconds = 0.1;
  CHECK(busy_backoff(p, 1, 0ms, 0.5) == 100ms);
}

TEST_CASE("the broker's hint wins when it is longer, up to 32 s") {
  retry_policy p;
  p.jitter = 0;
  CHECK(busy_backoff(p, 1, 5000ms, 0.5) == 5000ms);
  CHECK(busy_backoff(p, 1, 10min, 0.5) == 32000ms);
  CHECK(busy_backoff(p, 1, 200ms, 0.5) == 1000ms);
  p.base_seconds = 100;
  CHECK(busy_backoff(p, 3, 0ms, 0.5) == 32000ms);
}

TEST_CASE("jitter spreads the delay by at most the given fraction") {
  retry_policy p;
  p.jitter = 0.1;
  CHECK(busy_backoff(p, 1, 0ms, 0.0) == 900ms);
  CHECK(busy_backoff(p, 1, 0ms, 1.0) == 1100ms);
  CHECK(busy_backoff(p, 1, 0ms, 0.5) == 1000ms);
}

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

TEST_CASE("destroying a client resolves its unfinished tasks as cancelled") {
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
}
