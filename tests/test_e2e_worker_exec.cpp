// End to end, worker side: a real argon-worker driven by a scripted broker
// (a bare ROUTER in this file), so the tests see exactly what the worker
// says: the capabilities in READY, DONE with its error kind for client-named
// programs that are allowed, refused or malformed, a program stopped by
// CANCEL, and a plugin task's PROGRESS on the control channel.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <thread>

#include <zmq.hpp>

#include "codec.hpp"
#include "scripted_broker.hpp"
#include "system.hpp"

using namespace argon;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

// The scripted broker of a worker with one slot: it beats to the worker's
// control channel every 200 ms and notes the control channel and the slot.
class beating_broker : public scripted_broker {
 public:
  // The first message that matches, within limit; HELLO and READY are noted on the way.
  std::optional<received> await(const std::function<bool(const received&)>& match, std::chrono::milliseconds limit = 20s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      beat();
      auto r = receive(50ms);
      if (!r) continue;
      if (std::holds_alternative<common::hello_msg>(r->message.content)) control = r->from;
      if (std::holds_alternative<common::ready_msg>(r->message.content)) slot = r->from;
      if (match(*r)) return r;
    }
    return std::nullopt;
  }

  // Sends TASK to the slot and returns its DONE.
  received run(const common::task_msg& t, const std::string& payload) {
    send(slot, t, payload);
    auto done = await([&](const received& r) {
      auto* d = std::get_if<common::done_msg>(&r.message.content);
      return d && d->id == t.id;
    });
    REQUIRE(done.has_value());
    return std::move(*done);
  }

  std::string control;  // the worker's control channel
  std::string slot;     // the worker's one slot

 private:
  void beat() {
    if (control.empty() || std::chrono::steady_clock::now() < next_beat_) return;
    send(control, common::heartbeat_msg{"scripted"});
    next_beat_ = std::chrono::steady_clock::now() + 200ms;
  }

  std::chrono::steady_clock::time_point next_beat_{};  // next HEARTBEAT to the control channel
};

const common::done_msg& done_of(const received& r) { return std::get<common::done_msg>(r.message.content); }

common::task_msg exec_task(const std::string& id, std::vector<std::string> argv) {
  return common::task_msg{id, common::exec_task, 1, 0, std::move(argv)};
}

// A worker with one slot, a named program, client-named programs under /usr/bin and a plugin.
struct worker_rig {
  temp_dir dir;
  beating_broker broker;
  child_process worker{{exe("ARGON_WORKER"), "--broker", broker.endpoint, "--insecure", "--capacity", "1", "--verbose", "8",
                        "--heartbeat-ms", "200", "--allow-exec", "/usr/bin/*", "--exec", "upper=tr a-z A-Z",
                        "--plugin", exe("ARGON_TEST_PLUGIN_GOOD"), "--kill-grace-ms", "300"},
                       dir.file("worker.log")};
  common::ready_msg ready;  // the first READY

  worker_rig() {
    auto r = broker.await([this](const received& m) {
      if (auto* rd = std::get_if<common::ready_msg>(&m.message.content)) ready = *rd;
      return !broker.slot.empty() && !broker.control.empty();
    });
    REQUIRE(r.has_value());
  }
};

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("READY announces the task names, without exec, and the --allow-exec patterns") {
  worker_rig rig;
  REQUIRE(rig.ready.caps.has_value());
  CHECK(rig.ready.caps->tasks == std::vector<std::string>{"describe", "echo", "fail", "refuse", "sleep", "upper"});
  CHECK(rig.ready.caps->exec == std::vector<std::string>{"/usr/bin/*"});
}

TEST_CASE("task exec runs an allowed program, and refuses others with not_allowed before starting anything") {
  worker_rig rig;
  auto ok = rig.broker.run(exec_task("t1", {"/usr/bin/tr", "a-z", "A-Z"}), "quiet");
  CHECK(done_of(ok).ok);
  CHECK(ok.message.payload.to_string() == "QUIET");

  const std::string marker = rig.dir.file("marker");
  auto refused = rig.broker.run(exec_task("t2", {"/bin/sh", "-c", "touch " + marker}), "");
  CHECK_FALSE(done_of(refused).ok);
  CHECK(done_of(refused).kind == "not_allowed");
  CHECK(done_of(refused).error == "program /bin/sh is not allowed on this worker (argon-worker --allow-exec PATTERN)");
  CHECK_FALSE(std::filesystem::exists(marker));

  auto climbing = rig.broker.run(exec_task("t3", {"/usr/bin/../../bin/sh", "-c", "touch " + marker}), "");
  CHECK(done_of(climbing).kind == "not_allowed");
  CHECK_FALSE(std::filesystem::exists(marker));

  auto bare = rig.broker.run(exec_task("t4", {}), "");
  CHECK(done_of(bare).kind == "protocol_error");

  auto missing = rig.broker.run(exec_task("t5", {"/usr/bin/no-such-program-argon"}), "");
  CHECK(done_of(missing).kind == "exec_failed");
  CHECK(done_of(missing).error.find("no such file") != std::string::npos);

  auto failing = rig.broker.run(exec_task("t6", {"/usr/bin/sh", "-c", "echo why >&2; exit 4"}), "");
  CHECK(done_of(failing).kind == "task_error");
  CHECK(done_of(failing).error == "exit status 4; stderr: why");
}

TEST_CASE("a CANCEL stops a running program and DONE says cancelled") {
  worker_rig rig;
  rig.broker.send(rig.broker.slot, exec_task("long", {"/usr/bin/sleep", "30"}), "");
  std::this_thread::sleep_for(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  rig.broker.send(rig.broker.control, common::cancel_msg{"long"});
  auto done = rig.broker.await([](const received& r) { return std::holds_alternative<common::done_msg>(r.message.content); });
  REQUIRE(done.has_value());
  CHECK(done_of(*done).kind == "cancelled");
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  auto after = rig.broker.run(common::task_msg{"next", "upper", 1, 0, {}}, "still serving");
  CHECK(after.message.payload.to_string() == "STILL SERVING");
}

TEST_CASE("a task's progress arrives on the control channel") {
  worker_rig rig;
  rig.broker.send(rig.broker.slot, common::task_msg{"p1", "describe", 3, 0, {}}, "x");
  int progress = 0;
  std::optional<std::string> output;
  // PROGRESS leaves first, but on another connection than DONE, so either may arrive first.
  auto last = rig.broker.await([&](const received& r) {
    if (auto* p = std::get_if<common::progress_msg>(&r.message.content)) {
      CHECK(r.from == rig.broker.control);
      CHECK(p->id == "p1");
      CHECK(p->percent == 50);
      CHECK(p->message == "half way");
      ++progress;
    }
    if (std::holds_alternative<common::done_msg>(r.message.content)) output = r.message.payload.to_string();
    return progress > 0 && output;
  });
  REQUIRE(last.has_value());
  CHECK(progress == 1);
  CHECK(output->find("attempt=3") != std::string::npos);
}
}
