// The exception hierarchy: every kind Argon throws is an argon::error and
// keeps its message (and a task's error kind); report_fatal turns each kind
// into its documented exit code; and a blocking client call from the
// client's own I/O thread is a usage_error, not a hang.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <future>
#include <string>

#include <zmq.hpp>

#include "argon/client.hpp"
#include "argon/error.hpp"
#include "argon/task_context.hpp"
#include "errors.hpp"
#include "exit_code.hpp"

using namespace argon;
using namespace std::chrono_literals;

namespace {

// Throws e and returns what a catch of argon::error saw.
template <class E>
std::string caught_as_argon_error(const E& e) {
  try {
    throw e;
  } catch (const argon::error& caught) {
    return caught.what();
  }
}

// Runs report_fatal for e and returns its exit code and what it wrote on stderr.
template <class E>
std::pair<int, std::string> report(const E& e) {
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  std::FILE* capture = std::tmpfile();
  REQUIRE(capture != nullptr);
  ::dup2(::fileno(capture), STDERR_FILENO);
  int code = -1;
  try {
    throw e;
  } catch (...) {
    code = common::report_fatal("argon-test");
  }
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string text(4096, '\0');
  std::rewind(capture);
  text.resize(std::fread(text.data(), 1, text.size(), capture));
  std::fclose(capture);
  return {code, text};
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("every Argon exception is an argon::error and a std::runtime_error, and keeps its message") {
  CHECK(caught_as_argon_error(config_error("bad flag")) == "bad flag");
  CHECK(caught_as_argon_error(protocol_error("bad frame")) == "bad frame");
  CHECK(caught_as_argon_error(system_error("uv_loop_init: out of memory")) == "uv_loop_init: out of memory");
  CHECK(caught_as_argon_error(usage_error("wrong thread")) == "wrong thread");
  CHECK(caught_as_argon_error(task_failed("timeout", "too slow")) == "too slow");
  CHECK(caught_as_argon_error(worker::task_error("not_allowed", "no")) == "no");
  CHECK_THROWS_AS(throw config_error("x"), std::runtime_error);
  CHECK_THROWS_AS(throw worker::task_error("k", "x"), std::runtime_error);
}

TEST_CASE("the kinds stay apart, so a caller can act on the one it cares about") {
  CHECK_THROWS_AS(throw protocol_error("x"), protocol_error);
  bool as_config = false;
  try {
    throw protocol_error("x");
  } catch (const config_error&) {
    as_config = true;
  } catch (const argon::error&) {
  }
  CHECK_FALSE(as_config);
}

TEST_CASE("task_failed and task_error keep the task's error kind") {
  try {
    throw task_failed("unreachable", "the broker did not answer");
  } catch (const argon::error& e) {
    const auto* failed = dynamic_cast<const task_failed*>(&e);
    REQUIRE(failed != nullptr);
    CHECK(failed->kind() == "unreachable");
  }
  try {
    throw worker::task_error("invalid_input", "too long");
  } catch (const argon::error& e) {
    const auto* failed = dynamic_cast<const worker::task_error*>(&e);
    REQUIRE(failed != nullptr);
    CHECK(failed->kind() == "invalid_input");
  }
}

TEST_CASE("the common names are the public types") {
  CHECK_THROWS_AS(throw common::protocol_error("x"), argon::protocol_error);
  CHECK_THROWS_AS(throw common::config_error("x"), argon::config_error);
  CHECK_THROWS_AS(throw common::system_error("x"), argon::system_error);
}

TEST_CASE("report_fatal prints one 'PROGRAM: error: WHAT' line and returns the kind's exit code") {
  auto [config_code, config_text] = report(config_error("cannot read keyfile 'k'"));
  CHECK(config_code == 2);
  CHECK(config_text == "argon-test: error: cannot read keyfile 'k'\n");
  auto [zmq_code, zmq_text] = report(zmq::error_t());
  CHECK(zmq_code == 2);
  CHECK(zmq_text.rfind("argon-test: error: ", 0) == 0);
  CHECK(report(system_error("uv_loop_init: no memory")).first == 5);
  CHECK(report(protocol_error("garbage from the broker")).first == 5);
  CHECK(report(task_failed("task_error", "failed")).first == 5);
  CHECK(report(usage_error("wrong thread")).first == 6);
  auto [other_code, other_text] = report(std::logic_error("a bug"));
  CHECK(other_code == 6);
  CHECK(other_text == "argon-test: error: a bug\n");
  CHECK(report(42).first == 6);
}

TEST_CASE("exit_code_of, for programs built on the library, gives the codes Argon's own programs give") {
  CHECK(exit_code_of(config_error("k")) == 2);
  CHECK(exit_code_of(system_error("s")) == 5);
  CHECK(exit_code_of(protocol_error("p")) == 5);
  CHECK(exit_code_of(task_failed("task_error", "f")) == 5);
  CHECK(exit_code_of(usage_error("u")) == 6);
  CHECK(exit_code_of(std::logic_error("l")) == 6);
  // The same codes report_fatal gives, kind by kind.
  CHECK(exit_code_of(config_error("k")) == report(config_error("k")).first);
  CHECK(exit_code_of(system_error("s")) == report(system_error("s")).first);
  CHECK(exit_code_of(usage_error("u")) == report(usage_error("u")).first);
  CHECK(exit_code_of(std::logic_error("l")) == report(std::logic_error("l")).first);
}

TEST_CASE("a blocking call from the client's I/O thread throws usage_error instead of waiting for itself") {
  client_options o;
  o.broker = "tcp://127.0.0.1:1";
  o.insecure = true;
  client c(o);
  std::promise<std::string> seen;
  // A relative argv[0] is refused locally, so its callback runs on the I/O thread at once.
  c.exec({"relative"}, "", {}, [&](result) {
    try {
      (void)c.call("echo", "x");
      seen.set_value("returned");
    } catch (const usage_error& e) {
      seen.set_value(e.what());
    }
  });
  auto what = seen.get_future();
  REQUIRE(what.wait_for(10s) == std::future_status::ready);
  CHECK(what.get().find("I/O thread") != std::string::npos);
}
}
