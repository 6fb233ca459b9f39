// End to end: a client's first contact with the broker. The broker it first
// reaches (a scripted CURVE ROUTER with the broker's keys) reads the
// client's PING and SUBMIT (or STATUS), never answers, and goes away; the
// real broker then starts on the same endpoint. The client must treat what
// it sent before first contact as possibly lost and send it again when the
// new broker first answers, so the task completes. And with nothing
// listening at all, `argon submit --connect-timeout T` gives up T after it
// started waiting, not later.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <future>
#include <thread>

#include "argon/client.hpp"
#include "client_for.hpp"
#include "keys.hpp"
#include "scripted_broker.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// How long the test waits for the outcome once the real broker has started.
constexpr auto outcome_limit = 10s;

// A secure system whose broker is not started yet: its endpoint and keyfile are ready.
system_options delayed_broker() {
  // With a queue limit the broker queues a task until the worker arrives instead of answering BUSY.
  return {.secure = true, .workers = 0, .broker_args = {"--queue-limit", "10"}, .start_broker = false};
}

// Client options for the system: a connect timeout long enough that a slow
// machine's broker start never turns the test into one about unreachability.
client_options patient_options(const argon_system& sys) {
  client_options o = client_options_for(sys);
  o.connect_timeout = 30s;
  return o;
}

// Reads messages until one of type T arrives (within 5 s); false if none does.
template <class T> bool expect(scripted_broker& b) {
  const auto end = steady::now() + 5s;
  while (steady::now() < end) {
    auto r = b.receive(100ms);
    if (r && std::holds_alternative<T>(r->message.content)) return true;
  }
  return false;
}

// The real broker and one worker start on the endpoint; returns when the broker was started.
steady::time_point start_real_broker(argon_system& sys) {
  const auto started = steady::now();
  sys.start_broker();
  sys.add_worker(2);
  return started;
}

// How the first, silent broker hears the client.
enum class arrival {
  together,     // SUBMIT right behind the first PING
  submit_later, // SUBMIT a little after the PING has arrived
};

void run_lost_first_contact(arrival a) {
  argon_system sys(delayed_broker());
  const common::role_keys keys = common::load_keys(sys.keyfile);
  auto silent = std::make_unique<scripted_broker>(sys.endpoint, &keys.broker);
  client c(patient_options(sys));
  std::future<result> task;
  if (a == arrival::together) task = c.submit("echo", "first contact");
  REQUIRE(expect<common::ping_msg>(*silent));
  if (a == arrival::submit_later) {
    std::this_thread::sleep_for(30ms);
    task = c.submit("echo", "first contact");
  }
  REQUIRE(expect<common::submit_msg>(*silent));
  silent.reset();  // it dies without a word: the SUBMIT is lost with it
  const auto started = start_real_broker(sys);
  REQUIRE(task.wait_for(outcome_limit) == std::future_status::ready);
  auto r = task.get();
  INFO("outcome ", r.ok() ? "ok" : r.error_kind() + ": " + r.error_message(), " after ",
       std::chrono::duration<double>(steady::now() - started).count(), " s; broker log: ",
       read_file(sys.dir.file("broker.log")));
  REQUIRE(r.ok());
  CHECK(r.value() == "first contact");
}

// Runs `argon submit --connect-timeout T` against a port nobody listens on; returns the seconds it took.
double seconds_to_give_up(double t) {
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  const auto start = steady::now();
  auto o = run({exe("ARGON_CLI"), "submit", "--broker", endpoint, "--insecure", "--connect-timeout",
                fmt::format("{:g}", t), "echo", "x"},
               "", 30s);
  const double took = std::chrono::duration<double>(steady::now() - start).count();
  INFO("stderr: ", o.err);
  CHECK(o.exit_code == 4);
  CHECK(o.err.find("did not answer within " + fmt::format("{:g}", t) + " s") != std::string::npos);
  return took;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("the first broker reads PING and SUBMIT and dies; the task completes on the broker started after it") {
  run_lost_first_contact(arrival::together);
}

TEST_CASE("the first broker reads PING, then SUBMIT a little later, and dies; the task completes on the next broker") {
  run_lost_first_contact(arrival::submit_later);
}

TEST_CASE("the first broker reads PING and STATUS and dies; status() is answered by the broker started after it") {
  argon_system sys(delayed_broker());
  const common::role_keys keys = common::load_keys(sys.keyfile);
  auto silent = std::make_unique<scripted_broker>(sys.endpoint, &keys.broker);
  client c(patient_options(sys));
  auto status = std::async(std::launch::async, [&c] { return c.status(); });
  REQUIRE(expect<common::ping_msg>(*silent));
  REQUIRE(expect<common::status_msg>(*silent));
  silent.reset();
  start_real_broker(sys);
  REQUIRE(status.wait_for(outcome_limit) == std::future_status::ready);
  common::status_reply_msg reply;
  REQUIRE_NOTHROW(reply = status.get());
  CHECK(reply.queue_limit == 10);  // the real broker's answer, with its flags
}

TEST_CASE("argon submit --connect-timeout T with nothing listening gives up T after it started waiting") {
  // The lower bound is the contract (never give up early); the upper one allows
  // for starting a process on a loaded machine, and is still well under 2 x T.
  for (double t : {1.0, 2.0}) {
    CAPTURE(t);
    const double took = seconds_to_give_up(t);
    CHECK(took >= t);
    CHECK(took < t + 0.9);
  }
}
}
