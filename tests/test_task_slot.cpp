// One REQ task slot against a scripted broker: READY (with the worker's
// capabilities) at start; a TASK runs its handler off the loop thread and
// DONE, which is also the next READY, carries the result (a quick handler
// runs on the loop thread, except in a stopping slot); an unknown task
// name, a task_error and any other exception come back as failed DONEs; a
// CANCEL sets the flag the handler reads; a non-TASK reply gets READY
// anew; reannounce and reconnect replace the socket and say READY or
// repeat the last DONE; progress goes to the control channel's sender;
// close_when_idle closes an idle slot at once and a busy one after DONE.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "task_slot.hpp"
#include "worker_rig.hpp"

using namespace argon::worker;
using namespace argon::common;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// A task handler that keeps a slot busy until the test opens the gate.
class hold_gate {
 public:
  // Marks itself started, waits for open() (bounded, so a failed check cannot hang the slot), returns out.
  context_handler handler(std::string out) {
    return [this, out = std::move(out)](std::string_view, task_context&) {
      started_ = true;
      opened_.wait_for(10s);
      return out;
    };
  }
  [[nodiscard]] bool started() const { return started_.load(); }
  // Lets the handler return; opening twice is harmless.
  void open() {
    if (open_) return;
    open_ = true;
    gate_.set_value();
  }

 private:
  std::promise<void> gate_;                                       // set by open()
  std::shared_future<void> opened_ = gate_.get_future().share();  // what the handler waits on
  bool open_ = false;                                             // gate_ is set
  std::atomic<bool> started_{false};                              // the handler is running
};

// A slot's world: the worker rig, the progress the slot sent, and a task
// "hold" that runs until the test opens its gate.
struct slot_rig : worker_rig {
  std::vector<progress_msg> progress;  // what the slot sent on the control channel
  slot_env env = slot_env_for(capabilities{{"echo", "wait"}, {}},
                              [this](const progress_msg& p) { progress.push_back(p); });
  int closed = 0;  // on_closed calls
  hold_gate hold;  // keeps task "hold" running
  std::unique_ptr<task_slot> slot;

  slot_rig() {
    handlers["echo"] = [](std::string_view in, task_context&) { return "echo:" + std::string(in); };
  }
  ~slot_rig() {
    hold.open();   // a failed check may leave "hold" waiting: the slot then closes at once
    slot.reset();  // before the loop and the context
  }

  void start() { slot = std::make_unique<task_slot>(env, 0, [this] { ++closed; }); }
  // Starts the slot, waits for its first READY and returns the slot's routing id.
  std::string start_until_ready() {
    start();
    return expect_ready();
  }
  // The next message, which must be a READY; returns its sender.
  std::string expect_ready() { return expect<ready_msg>().from; }
  // The next message, which must be a DONE.
  std::pair<done_msg, std::string> expect_done() {
    const received r = expect<done_msg>();
    return {std::get<done_msg>(r.message.content), r.message.payload.to_string()};
  }
  // The next message must be the DONE of task id, with output out.
  void expect_done_of(const std::string& id, const std::string& out) {
    auto [done, got] = expect_done();
    CHECK(done.id == id);
    CHECK(got == out);
  }
  void send_task(const std::string& to, const std::string& id, const std::string& name, const std::string& input) {
    broker.send(to, task_msg{id, name, 1, 0, {}}, input);
  }
  // Sends "hold" as task id and pumps until it runs: the slot is busy from here.
  void run_hold(const std::string& to, const std::string& id) {
    send_task(to, id, "hold", "");
    REQUIRE(pump_until(loop.get(), [&] { return hold.started(); }));
  }
};

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a slot says READY at start, naming its worker and capabilities, from a fixed routing id") {
  slot_rig rig;
  rig.start();
  const ready_msg ready = rig.expect_announcement<ready_msg>("sW1.0", role::slot);
  REQUIRE(ready.caps);
  CHECK(ready.caps->tasks == std::vector<std::string>{"echo", "wait"});
  CHECK_FALSE(rig.slot->busy());
}

TEST_CASE("a TASK runs its handler off the loop thread; DONE carries the result and is the next READY") {
  slot_rig rig;
  std::thread::id handler_thread_id;
  rig.handlers["where"] = [&](std::string_view in, task_context& ctx) {
    handler_thread_id = std::this_thread::get_id();
    return std::string(ctx.id()) + "/" + ctx.name() + "/" + std::to_string(ctx.attempt()) + "/" + std::string(in);
  };
  const std::string slot = rig.start_until_ready();
  rig.broker.send(slot, task_msg{"t1", "where", 3, 0, {}}, "in");
  auto [done, out] = rig.expect_done();
  CHECK(done.worker_id == "W1");
  CHECK(done.id == "t1");
  CHECK(done.ok);
  CHECK(done.error.empty());
  CHECK(out == "t1/where/3/in");
  CHECK(handler_thread_id != std::this_thread::get_id());
  CHECK(handler_thread_id != std::thread::id());
  // No READY between tasks: the DONE was it, so the broker may send the next TASK at once.
  rig.send_task(slot, "t2", "echo", "again");
  rig.expect_done_of("t2", "echo:again");
}

TEST_CASE("a quick handler runs on the loop thread, task after task; a stopping slot runs it on its thread") {
  slot_rig rig;
  std::vector<std::thread::id> ran_on;
  rig.handlers["quick"] = handler_entry(
      context_handler([&](std::string_view in, task_context&) -> std::string {
        ran_on.push_back(std::this_thread::get_id());
        if (in == "bad") throw task_error("invalid_input", "bad input");
        return "q:" + std::string(in);
      }),
      true);
  const std::string slot = rig.start_until_ready();
  for (const char* id : {"t1", "t2", "t3"}) {
    rig.send_task(slot, id, "quick", id);
    rig.expect_done_of(id, std::string("q:") + id);
  }
  rig.send_task(slot, "t4", "quick", "bad");
  auto [done, out] = rig.expect_done();
  CHECK_FALSE(done.ok);
  CHECK(done.kind == "invalid_input");
  rig.env.leave_wait = 5s;
  rig.slot->close_when_idle();  // the broker sends one more TASK before it reads the BYE
  rig.send_task(slot, "t5", "quick", "last");
  rig.expect_done_of("t5", "q:last");
  CHECK(pump_until(rig.loop.get(), [&] { return rig.closed == 1; }));
  REQUIRE(ran_on.size() == 5);
  for (int i = 0; i < 4; ++i) CHECK(ran_on[i] == std::this_thread::get_id());
  CHECK(ran_on[4] != std::this_thread::get_id());
}

TEST_CASE("a task with no handler fails with a message naming the task") {
  slot_rig rig;
  const std::string slot = rig.start_until_ready();
  rig.send_task(slot, "t1", "nope", "");
  auto [done, out] = rig.expect_done();
  CHECK(done.id == "t1");
  CHECK_FALSE(done.ok);
  CHECK(done.error == "no handler for task 'nope'");
  CHECK(done.kind.empty());
  CHECK(out.empty());
  rig.send_task(slot, "t2", "echo", "x");  // the slot serves on
  CHECK(rig.expect_done().first.ok);
}

TEST_CASE("a handler's exceptions become failed DONEs: task_error keeps its kind, others are task_error") {
  slot_rig rig;
  rig.handlers["refuse"] = [](std::string_view, task_context&) -> std::string {
    throw task_error("invalid_input", "bad numbers");
  };
  rig.handlers["crash"] = [](std::string_view, task_context&) -> std::string { throw std::runtime_error("boom"); };
  rig.handlers["odd"] = [](std::string_view, task_context&) -> std::string { throw 42; };
  rig.handlers["long"] = [](std::string_view, task_context&) -> std::string {
    throw std::runtime_error(std::string(100000, 'e'));
  };
  rig.handlers["long_kind"] = [](std::string_view, task_context&) -> std::string {
    throw task_error(std::string(200, 'k'), "kind too long");
  };
  const std::string slot = rig.start_until_ready();

  rig.send_task(slot, "t1", "refuse", "");
  auto d1 = rig.expect_done().first;
  CHECK_FALSE(d1.ok);
  CHECK(d1.kind == "invalid_input");
  CHECK(d1.error == "bad numbers");

  rig.send_task(slot, "t2", "crash", "");
  auto d2 = rig.expect_done().first;
  CHECK_FALSE(d2.ok);
  CHECK(d2.kind.empty());  // "" is task_error on the wire
  CHECK(d2.error == "boom");

  rig.send_task(slot, "t3", "odd", "");
  auto d3 = rig.expect_done().first;
  CHECK_FALSE(d3.ok);
  CHECK(d3.error == "handler threw something that is not a std::exception");

  rig.send_task(slot, "t4", "long", "");
  auto d4 = rig.expect_done().first;
  CHECK_FALSE(d4.ok);
  CHECK(d4.error.size() < 17 * 1024);  // cut, so DONE's header stays small
  CHECK(d4.error.ends_with(" [cut]"));

  rig.send_task(slot, "t5", "long_kind", "");
  auto d5 = rig.expect_done().first;
  CHECK(d5.kind == "task_error");
  CHECK(d5.error == "kind too long");

  rig.send_task(slot, "t6", "echo", "still here");
  auto [d6, out6] = rig.expect_done();
  CHECK(d6.ok);
  CHECK(out6 == "echo:still here");
}

TEST_CASE("cancel marks only the running task; the handler sees it and its DONE still comes back") {
  slot_rig rig;
  std::atomic<bool> started{false};
  rig.handlers["wait"] = [&](std::string_view, task_context& ctx) -> std::string {
    started = true;
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(1ms);
    return ctx.cancelled() ? "saw cancel" : "never cancelled";
  };
  rig.handlers["peek"] = [](std::string_view, task_context& ctx) { return ctx.cancelled() ? "cancelled" : "fresh"; };
  const std::string slot = rig.start_until_ready();
  CHECK_FALSE(rig.slot->cancel("t1"));  // idle: nothing to cancel
  rig.send_task(slot, "t1", "wait", "");
  REQUIRE(pump_until(rig.loop.get(), [&] { return started.load(); }));
  CHECK(rig.slot->busy());
  CHECK_FALSE(rig.slot->cancel("other"));
  CHECK_FALSE(rig.slot->cancelled().load());
  CHECK(rig.slot->cancel("t1"));
  CHECK(rig.slot->cancelled().load());
  auto [done, out] = rig.expect_done();
  CHECK(done.id == "t1");
  CHECK(done.ok);
  CHECK(out == "saw cancel");
  CHECK_FALSE(rig.slot->busy());
  // The next task starts uncancelled.
  rig.send_task(slot, "t2", "peek", "");
  CHECK(rig.expect_done().second == "fresh");
}

TEST_CASE("a reply that is not a TASK gets READY anew") {
  slot_rig rig;
  const std::string slot = rig.start_until_ready();
  rig.broker.send(slot, error_msg{"protocol_error", "scripted refusal"});
  CHECK(rig.expect_ready() == slot);
  rig.broker.send(slot, pong_msg{});
  CHECK(rig.expect_ready() == slot);
  rig.send_task(slot, "t1", "echo", "ok");  // and it still runs tasks
  CHECK(rig.expect_done().second == "echo:ok");
}

TEST_CASE("progress from a handler goes to the control channel's sender, tagged with the task") {
  slot_rig rig;
  std::atomic<bool> seen{false};  // the test saw the progress: the handler may return
  rig.handlers["report"] = [&](std::string_view, task_context& ctx) {
    ctx.progress(40, "under way");
    const auto end = std::chrono::steady_clock::now() + 10s;  // DONE would drop a report not yet sent
    while (!seen && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(1ms);
    return std::string("done");
  };
  const std::string slot = rig.start_until_ready();
  rig.send_task(slot, "t9", "report", "");
  const bool arrived = pump_until(rig.loop.get(), [&] { return !rig.progress.empty(); });
  seen = true;
  REQUIRE(arrived);
  CHECK(rig.progress[0].id == "t9");
  CHECK(rig.progress[0].percent == 40);
  CHECK(rig.progress[0].message == "under way");
  CHECK(rig.expect_done().first.ok);
}

TEST_CASE("reannounce: an idle slot says READY anew from the same routing id; a busy one waits for its DONE") {
  slot_rig rig;
  rig.handlers["hold"] = rig.hold.handler("held");
  const std::string slot = rig.start_until_ready();
  rig.slot->reannounce();
  CHECK(rig.expect_ready() == slot);
  rig.run_hold(slot, "t1");
  rig.slot->reannounce();  // busy: no READY now
  auto early = rig.next(200ms);
  CHECK_FALSE(early.has_value());
  rig.hold.open();
  rig.expect_done_of("t1", "held");
}

TEST_CASE("reconnect: an idle slot repeats its last DONE on a new socket, or READY before any task") {
  slot_rig rig;
  const std::string slot = rig.start_until_ready();
  rig.slot->reconnect();  // nothing done yet: READY again
  CHECK(rig.expect_ready() == slot);
  rig.send_task(slot, "t1", "echo", "once");
  CHECK(rig.expect_done().first.id == "t1");
  rig.slot->reconnect();  // the broker may still wait for that DONE
  const received r = rig.expect<done_msg>();
  CHECK(r.from == slot);
  CHECK(std::get<done_msg>(r.message.content).id == "t1");
  CHECK(r.message.payload.to_string() == "echo:once");
  // The kept DONE is always the last one.
  rig.send_task(slot, "t2", "echo", "twice");
  CHECK(rig.expect_done().first.id == "t2");
  rig.slot->reconnect();
  CHECK(rig.expect_done().first.id == "t2");
  // Once the broker has answered and the slot said READY, READY is what it repeats.
  rig.broker.send(slot, error_msg{"protocol_error", "not now"});
  CHECK(rig.expect_ready() == slot);
  rig.slot->reconnect();
  CHECK(rig.expect_ready() == slot);
}

TEST_CASE("close_when_idle: an idle slot closes on the broker's answer, a busy one right after its DONE") {
  SUBCASE("idle, answered with ERROR worker_leaving") {
    slot_rig rig;
    const std::string slot = rig.start_until_ready();
    rig.slot->close_when_idle();
    CHECK(rig.closed == 0);  // a TASK the broker sent before it read BYE may be on its way
    rig.slot->close_when_idle();  // asking twice is harmless
    rig.broker.send(slot, error_msg{"worker_leaving", "worker W1 said BYE"});
    CHECK(pump_until(rig.loop.get(), [&] { return rig.closed == 1; }));
    CHECK_FALSE(rig.next(200ms).has_value());  // no READY after the answer
  }
  SUBCASE("idle, and a TASK comes first: it runs, then the slot closes") {
    slot_rig rig;
    const std::string slot = rig.start_until_ready();
    rig.slot->close_when_idle();
    rig.send_task(slot, "t0", "echo", "late");
    rig.expect_done_of("t0", "echo:late");
    CHECK(pump_until(rig.loop.get(), [&] { return rig.closed == 1; }));
    CHECK_FALSE(rig.next(200ms).has_value());
  }
  SUBCASE("idle, and the broker never answers: it closes after leave_wait") {
    slot_rig rig;
    rig.env.leave_wait = 150ms;
    rig.start_until_ready();
    rig.slot->close_when_idle();
    CHECK(pump_until(rig.loop.get(), [&] { return rig.closed == 1; }));
  }
  SUBCASE("busy") {
    slot_rig rig;
    rig.handlers["hold"] = rig.hold.handler("last");
    const std::string slot = rig.start_until_ready();
    rig.run_hold(slot, "t1");
    rig.slot->close_when_idle();
    CHECK(rig.closed == 0);
    rig.hold.open();
    rig.expect_done_of("t1", "last");
    CHECK(pump_until(rig.loop.get(), [&] { return rig.closed == 1; }));
    CHECK_FALSE(rig.next(200ms).has_value());  // no READY after the last DONE
  }
}

TEST_CASE("a result over the broker's LIMITS max_result fails as result_too_large; one at the limit passes") {
  slot_rig rig;
  rig.env.max_result = 10;
  const std::string slot = rig.start_until_ready();
  rig.send_task(slot, "t1", "echo", "12345");  // "echo:12345": 10 bytes
  rig.expect_done_of("t1", "echo:12345");
  rig.send_task(slot, "t2", "echo", "123456");  // 11 bytes
  auto [done, out] = rig.expect_done();
  CHECK(done.id == "t2");
  CHECK_FALSE(done.ok);
  CHECK(done.kind == "result_too_large");
  CHECK(done.error.find("11 bytes") != std::string::npos);
  CHECK(out.empty());
}
}
