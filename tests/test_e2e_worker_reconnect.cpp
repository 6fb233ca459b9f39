// End to end: a worker follows its broker. When the broker restarts or goes
// silent, the worker's slots register again and tasks run; a CANCEL from the
// broker is logged and the task's outcome still comes back.
//
// The first cases drive a real argon-worker from a scripted broker (a bare
// ROUTER in this file), so they can see exactly which HELLO, READY and DONE
// messages arrive and when. The last ones run the real broker and restart or
// freeze it. The backoff rules are checked on a fake clock first.
#include <doctest/doctest.h>

#include <csignal>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <zmq.hpp>

#include "broker_liveness.hpp"
#include "codec.hpp"
#include "raw_peer.hpp"
#include "scripted_broker.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {


// What the scripted broker has seen of the worker.
struct seen {
  std::vector<received> all;   // every message, in order
  std::string control;         // the control channel's routing id
  std::set<std::string> ready; // slot routing ids that said READY

  [[nodiscard]] int count(common::command c) const {
    int n = 0;
    for (auto& r : all) n += common::command_of(r.message.content) == c;
    return n;
  }
};

// Receives for up to limit or until done(s). Like the real broker, it sends the
// worker's control channel a HEARTBEAT naming `instance` every 200 ms, unless
// instance is empty (a silent broker).
seen pump(scripted_broker& b, std::chrono::milliseconds limit, const std::string& instance,
          const std::function<bool(const seen&)>& done = nullptr, const std::string& control = "") {
  seen s;
  s.control = control;
  const auto start = std::chrono::steady_clock::now();
  auto next_beat = start;
  while (!(done && done(s))) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= start + limit) break;
    if (now >= next_beat && !instance.empty() && !s.control.empty()) {
      b.send(s.control, common::heartbeat_msg{instance});
      next_beat = now + 200ms;
    }
    auto r = b.receive(std::chrono::duration_cast<std::chrono::milliseconds>(std::min(start + limit, next_beat) - now) + 1ms);
    if (!r) continue;
    const auto c = common::command_of(r->message.content);
    if (c == common::command::hello) s.control = r->from;
    if (c == common::command::ready) s.ready.insert(r->from);
    s.all.push_back(std::move(*r));
  }
  return s;
}

// Starts argon-worker against the scripted broker, logging at debug level.
std::unique_ptr<child_process> start_worker(const scripted_broker& b, const temp_dir& dir, int capacity) {
  std::vector<std::string> argv{exe("ARGON_WORKER"), "--broker", b.endpoint, "--insecure", "--capacity",
                                std::to_string(capacity), "--verbose", "8"};
  for (auto& a : fast_beats) argv.push_back(a);
  return std::make_unique<child_process>(argv, dir.file("worker.log"));
}

// Waits until the worker has said HELLO and every slot READY.
seen registered(scripted_broker& b, int capacity, const std::string& instance, const std::string& control = "") {
  return pump(b, 10s, instance, [&](const seen& s) {
    return s.count(common::command::hello) > 0 && static_cast<int>(s.ready.size()) == capacity;
  }, control);
}

nlohmann::json status(argon_system& sys) {
  auto j = nlohmann::json::parse(sys.status_json(), nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

// Polls the broker until it reports exactly n slots, none busy; false after limit.
bool slots_exactly(argon_system& sys, int n, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    auto st = status(sys);
    if (st.value("slots", -1) == n && st.value("busy_slots", -1) == 0) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Polls the broker until its one worker's HELLO is known (STATUS with workers
// shows a capacity); false after limit.
bool eventually_hello(argon_system& sys, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    auto o = run(sys.cli("status", {"--workers"}), "", 10s);
    auto j = nlohmann::json::parse(o.out, nullptr, false);
    if (!j.is_discarded() && j.contains("worker_list") && j["worker_list"].size() == 1 &&
        j["worker_list"][0].value("capacity", 0) > 0)
      return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Polls the broker until it reports n busy slots; false after limit.
bool busy_slots(argon_system& sys, int n, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (status(sys).value("busy_slots", -1) == n) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void check_echo(argon_system& sys, const std::string& text) {
  auto o = run(sys.cli("submit", {"echo", text}), "", 20s);
  INFO("argon submit stderr: ", o.err);
  CHECK(o.exit_code == 0);
  CHECK(o.out.find(text) != std::string::npos);
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("broker liveness: reconnect after the silence limit, then back off 1 s, 2 s, 4 s ... up to 32 s") {
  common::fake_clock clock;
  worker::broker_liveness b(clock, 600ms);
  clock.advance(600ms);
  CHECK_FALSE(b.reconnect_due());  // exactly at the limit is not yet silent
  clock.advance(1ms);
  CHECK(b.reconnect_due());
  CHECK_FALSE(b.reconnect_due());  // one try per backoff step
  for (auto step : {1000ms, 2000ms, 4000ms, 8000ms, 16000ms, 32000ms, 32000ms, 32000ms}) {
    CHECK(b.until_next_try() == step);
    clock.advance(step - 1ms);
    CHECK_FALSE(b.reconnect_due());
    clock.advance(1ms);
    CHECK(b.reconnect_due());
  }
}

TEST_CASE("broker liveness: any message resets the silence and the backoff") {
  common::fake_clock clock;
  worker::broker_liveness b(clock, 600ms);
  clock.advance(700ms);
  CHECK(b.reconnect_due());
  clock.advance(1000ms);
  CHECK(b.reconnect_due());  // the backoff is now 2 s
  CHECK(b.heard());          // a reconnect had happened
  CHECK_FALSE(b.heard());
  clock.advance(600ms);
  CHECK_FALSE(b.reconnect_due());
  clock.advance(1ms);
  CHECK(b.reconnect_due());
  CHECK(b.until_next_try() == 1000ms);  // back to the first step
}

TEST_CASE("broker liveness: only a change of instance id is a restart, not the first one") {
  common::fake_clock clock;
  worker::broker_liveness b(clock, 600ms);
  CHECK_FALSE(b.named("b-one"));
  CHECK_FALSE(b.named("b-one"));
  CHECK(b.named("b-two"));
  CHECK_FALSE(b.named("b-two"));
}
}

TEST_SUITE("e2e") {
TEST_CASE("a new broker instance id: the worker says HELLO again and every idle slot READY again") {
  temp_dir dir;
  scripted_broker b;
  auto w = start_worker(b, dir, 3);
  seen first = registered(b, 3, "b-one");
  REQUIRE(first.ready.size() == 3);
  b.send(*first.ready.begin(), common::task_msg{"t1", "echo", 1, 0, {}}, "x");  // one slot ends on a DONE
  seen same = pump(b, 700ms, "b-one", nullptr, first.control);  // the same instance: nothing to repeat
  CHECK(same.count(common::command::done) == 1);
  CHECK(same.count(common::command::hello) == 0);
  CHECK(same.count(common::command::ready) == 0);
  seen again = registered(b, 3, "b-two", first.control);
  CHECK(again.control == first.control);  // HELLO came from the same control channel
  CHECK(again.ready == first.ready);  // the same slots, under the same routing ids
  CHECK(again.count(common::command::done) == 0);  // a new broker never knew task t1
  seen settled = pump(b, 700ms, "b-two", nullptr, first.control);
  CHECK(settled.count(common::command::hello) == 0);
  CHECK(settled.count(common::command::ready) == 0);
  std::string log = read_file(dir.file("worker.log"));
  INFO("worker log: ", log);
  CHECK(log.find("restarted") != std::string::npos);
  CHECK(log.find("broker lost") == std::string::npos);
}

TEST_CASE("CANCEL from the broker: logged, the running task still returns DONE; an unknown task id is ignored") {
  temp_dir dir;
  scripted_broker b;
  auto w = start_worker(b, dir, 2);
  seen first = registered(b, 2, "b-one");
  REQUIRE(first.ready.size() == 2);
  const std::string slot = *first.ready.begin();
  b.send(slot, common::task_msg{"t1", "sleep", 1, 0, {}}, "800");
  std::this_thread::sleep_for(100ms);
  b.send(first.control, common::cancel_msg{"t1"});
  b.send(first.control, common::cancel_msg{"not-here"});
  seen after = pump(b, 5s, "b-one", [](const seen& s) { return s.count(common::command::done) == 1; }, first.control);
  REQUIRE(after.count(common::command::done) == 1);
  for (auto& r : after.all) {
    auto* d = std::get_if<common::done_msg>(&r.message.content);
    if (!d) continue;
    CHECK(r.from == slot);
    CHECK(d->id == "t1");
    CHECK(d->ok);
    CHECK(r.message.payload.to_string() == "800");
  }
  std::string log = read_file(dir.file("worker.log"));
  INFO("worker log: ", log);
  CHECK(log.find("cancelled task t1") != std::string::npos);
  CHECK(log.find("ignored CANCEL for task not-here") != std::string::npos);
}

TEST_CASE("a silent broker: the worker reconnects with backoff, idle slots say READY, a busy one sends DONE") {
  temp_dir dir;
  scripted_broker b;
  auto w = start_worker(b, dir, 2);
  seen first = registered(b, 2, "b-one");
  REQUIRE(first.ready.size() == 2);
  const std::string busy = *first.ready.begin(), idle = *first.ready.rbegin();
  b.send(busy, common::task_msg{"t1", "sleep", 1, 0, {}}, "1500");
  seen silent = pump(b, 4000ms, "");  // answer nothing for 4 s
  // Lost after 0.6 s, then tries at +1 s and +2 s: three reconnects, not one per heartbeat.
  CHECK(silent.count(common::command::hello) >= 2);
  CHECK(silent.count(common::command::hello) <= 4);
  CHECK(silent.ready.count(idle) == 1);
  CHECK(silent.ready.count(busy) == 0);  // it repeats its DONE instead, which also says "ready"
  int done_from_busy = 0;
  for (auto& r : silent.all) {
    auto* d = std::get_if<common::done_msg>(&r.message.content);
    if (d && r.from == busy && d->id == "t1" && r.message.payload.to_string() == "1500") ++done_from_busy;
  }
  CHECK(done_from_busy >= 1);
  pump(b, 500ms, "b-one", nullptr, first.control);  // the broker speaks again: the backoff resets
  seen calm = pump(b, 1500ms, "b-one", nullptr, first.control);
  CHECK(calm.count(common::command::hello) == 0);
  std::string log = read_file(dir.file("worker.log"));
  INFO("worker log: ", log);
  CHECK(log.find("broker lost") != std::string::npos);
  CHECK(log.find("answers again") != std::string::npos);
}

TEST_CASE("the broker killed and restarted: every slot registers with the new broker and tasks run") {
  argon_system sys({.secure = true, .workers = 0});
  sys.add_worker(3, {"--verbose", "7"});
  REQUIRE(sys.wait_for_slots(3));
  sys.restart_broker(SIGKILL);
  CHECK(slots_exactly(sys, 3, 10s));
  check_echo(sys, "hi");
  std::string log = read_file(sys.dir.file("worker0.log"));
  INFO("worker log: ", log);
  CHECK(log.find("restarted") != std::string::npos);
}

TEST_CASE("a slot busy while the broker restarts registers with the new broker after its task") {
  argon_system sys({.secure = false, .workers = 0});
  sys.add_worker(2, {"--verbose", "7"});
  REQUIRE(sys.wait_for_slots(2));
  raw_peer client(sys.endpoint, nullptr, nullptr);
  client.send(common::role::client, common::submit_msg{"long", "sleep", common::priority::normal, 0, 1, {}}, "2000");
  REQUIRE(busy_slots(sys, 1, 5s));
  sys.restart_broker(SIGKILL);
  std::string worker_log;
  INFO("worker log: ", worker_log);  // read when a check below fails
  const bool both = slots_exactly(sys, 2, 15s);  // the idle slot at once, the busy one with its DONE
  worker_log = read_file(sys.dir.file("worker0.log"));
  const std::string log = read_file(sys.dir.file("broker2.log"));
  INFO("new broker log: ", log);
  INFO("status: ", sys.status_json());
  CHECK(both);
  check_echo(sys, "after the restart");
  CHECK(log.find("dropped a result for task long") != std::string::npos);
}

TEST_CASE("the broker frozen longer than the worker's liveness: slots come back, a running task's result arrives") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  std::vector<std::string> worker_flags = fast_beats;
  worker_flags.insert(worker_flags.end(), {"--verbose", "7"});
  sys.add_worker(2, worker_flags);
  REQUIRE(sys.wait_for_slots(2));
  raw_peer client(sys.endpoint, nullptr, nullptr);
  client.send(common::role::client, common::submit_msg{"long", "sleep", common::priority::normal, 0, 3, {}}, "1500");
  REQUIRE(busy_slots(sys, 1, 5s));
  sys.broker->signal(SIGSTOP);
  std::this_thread::sleep_for(2500ms);
  sys.broker->signal(SIGCONT);
  auto m = client.receive(15s);
  REQUIRE(m);
  auto* r = std::get_if<common::result_msg>(&m->content);
  REQUIRE(r);
  CHECK(r->id == "long");
  CHECK(m->payload.to_string() == "1500");
  CHECK(slots_exactly(sys, 2, 10s));
  check_echo(sys, "after the freeze 1");
  check_echo(sys, "after the freeze 2");
  std::string log = read_file(sys.dir.file("worker0.log"));
  INFO("worker log: ", log);
  CHECK(log.find("broker lost") != std::string::npos);
}

TEST_CASE("a worker frozen past its liveness gets its slots back after it continues, and runs tasks again") {
  argon_system sys({.secure = false, .workers = 0, .broker_args = fast_beats});
  std::vector<std::string> worker_flags = fast_beats;
  worker_flags.insert(worker_flags.end(), {"--verbose", "7"});
  auto& worker = sys.add_worker(1, worker_flags);
  REQUIRE(sys.wait_for_slots(1));
  // Its control channel's HELLO must have arrived too: only a worker with one can be declared dead.
  REQUIRE(eventually_hello(sys, 10s));
  worker.signal(SIGSTOP);
  REQUIRE(slots_exactly(sys, 0, 10s));  // declared dead: 3 beats of 200 ms went by
  std::this_thread::sleep_for(1000ms);
  worker.signal(SIGCONT);
  CHECK(slots_exactly(sys, 1, 10s));  // back within about liveness x heartbeat
  check_echo(sys, "after the worker's freeze");
}
}
