// The broker's observer: without a feed its hooks publish nothing; with a
// feed, each hook's event reaches a subscriber of exactly that event, with
// the fields taken from the broker's objects, once that subscription has
// reached the observer; a subscriber to a replay topic of its own gets every
// worker of the registry that said HELLO and has not left, and no other
// subscriber sees that replay; the stats
// event carries the broker's snapshot and the waits and run times the
// hooks recorded. The clock is fake; the loop is pumped by the test (the
// stats tick is a real one-second timer, so those cases wait for it).
#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include <zmq.hpp>

#include "loop_pump.hpp"
#include "monitor_subscriber.hpp"
#include "observer.hpp"

using namespace argon;
using namespace argon::broker;
using namespace argon::common;
using namespace argon::test;
namespace mon = argon::common::monitor;
using namespace std::chrono_literals;

namespace {

// A task and the slot running it, as the broker would hold them.
struct scene {
  explicit scene(const common::clock& clk) {
    w.id = "W1";
    w.capacity = 4;
    s.routing_id = "sW1.0";
    s.worker = &w;
    t.id = "t1";
    t.client = "C1";
    t.name = "echo";
    t.pri = priority::high;
    t.payload = zmq::message_t("abc", 3);
    t.attempt = 2;
    t.queued_at = clk.now() - 1750ms;
    t.started_at = clk.now() - 1500ms;  // waited 250 ms, has run 1500 ms
    t.running_on = &s;
  }
  worker_record w;
  slot s;
  task t;
};

// Every hook once, in a fixed order.
void fire_all(observer& obs, scene& sc) {
  obs.worker_joined(sc.w);
  obs.task_submitted(sc.t);
  obs.received("C1", message{role::client, submit_msg{"t1", "echo", priority::high, 0, 1, {}}, zmq::message_t("abc", 3)});
  obs.sent("sW1.0", task_msg{"t1", "echo", 2, 0, {}}, 3);  // the outbox's TASK, then the dispatch
  obs.task_dispatched(sc.t, sc.s);
  obs.task_progress("t1", 40, "under way");
  obs.task_requeued(sc.t, "worker_lost");
  obs.task_finished(sc.t, result_msg{"t1"});
  obs.task_finished(sc.t, failed_msg{"t1", "task_error", "boom"});
  obs.task_refused("t2", "not_allowed", "no such program");
  obs.sent("C2", busy_msg{"t3", 5, 5, 2, 100, "queue_full"}, 0);
  obs.sent("wW1", cancel_msg{"t1"}, 0);
  obs.auth_failed("192.0.2.7", "CURVE", "unknown CURVE key (wrong keyfile?)");
  obs.connection(true, "127.0.0.1:5000");
  obs.connection(false, "127.0.0.1:5000");
  obs.worker_left("W1", "bye");
}

// An observer with a feed on inproc, on a loop the test pumps.
struct observer_rig {
  observer_rig() {
    obs.open_feed(ctx, loop.get(), "inproc://argon-test-observer", nullptr, [] {
      status_reply_msg s;
      s.workers = 2;
      s.slots = 5;
      s.busy_slots = 1;
      s.queue_high = 3;
      s.queue_limit = 100;
      s.queued_clients = 2;
      return s;
    }, queue, workers);
  }
  ~observer_rig() { obs.close_feed(); }

  // A SUB subscribed to prefix; returns once the observer knows of it.
  std::unique_ptr<zmq::socket_t> subscribe(const std::string& prefix, std::size_t kind) {
    auto s = monitor_subscriber(ctx, obs.feed_endpoint(), {prefix});
    REQUIRE(pump_until(loop.get(), [&] { return obs.feed()->subscriptions().wants(kind); }));
    return s;
  }
  // The next event on s; empty if none within limit.
  std::optional<mon::event> next(zmq::socket_t& s, std::chrono::milliseconds limit = 5s) {
    return next_monitor_event(loop.get(), s, limit);
  }
  // Every event on s until none comes for quiet.
  std::vector<mon::body> drain(zmq::socket_t& s, std::chrono::milliseconds quiet = 150ms) {
    std::vector<mon::body> out;
    while (auto e = next(s, quiet)) out.push_back(std::move(e->content));
    return out;
  }

  zmq::context_t ctx;
  event_loop loop;
  fake_clock clk;
  worker_registry workers;
  task_queue queue;
  observer obs{clk};
};

template <class T> constexpr std::size_t kind_no = mon::kind_index<T>();

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("without a feed the hooks publish nothing and need nothing") {
  fake_clock clk;
  observer obs(clk);
  scene sc(clk);
  CHECK_FALSE(obs.feeding());
  CHECK(obs.feed_endpoint().empty());
  CHECK_FALSE(obs.wants_connections());
  CHECK(obs.feed() == nullptr);
  fire_all(obs, sc);  // no feed and no registry: every hook returns at its first test
  CHECK_FALSE(obs.feeding());
}

TEST_CASE("each hook's event reaches a subscriber of exactly that event, with the broker's fields") {
  // One subscription at a time, so a hook that tested the wrong bit would publish nothing.
  struct expectation {
    std::string prefix;                               // what the subscriber asks for
    std::size_t kind;                                 // the bit that must become wanted
    std::function<void(const std::vector<mon::body>&)> check;  // what it must receive from fire_all
  };
  const std::vector<expectation> table{
      {"worker_joined", kind_no<mon::worker_joined>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::worker_joined{"W1", 4, ""}});
       }},
      {"worker_left", kind_no<mon::worker_left>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::worker_left{"W1", "bye"}});
       }},
      {"task_submitted", kind_no<mon::task_submitted>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::task_submitted{"t1", "echo", "high", 3, "C1"}});
       }},
      {"task_dispatched", kind_no<mon::task_dispatched>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::task_dispatched{"t1", "W1", 2, 250.0}});
       }},
      {"task_progress", kind_no<mon::task_progress>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::task_progress{"t1", 40, "under way"}});
       }},
      {"task_requeued", kind_no<mon::task_requeued>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::task_requeued{"t1", 2, "worker_lost"}});
       }},
      {"task_done", kind_no<mon::task_done>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::task_done{"t1", "W1", 1500.0}});
       }},
      {"task_failed", kind_no<mon::task_failed>, [](auto& evs) {
         REQUIRE(evs.size() == 2);  // the worker's failure, then a SUBMIT refused at once
         CHECK(evs[0] == mon::body{mon::task_failed{"t1", "task_error", "boom", "W1"}});
         CHECK(evs[1] == mon::body{mon::task_failed{"t2", "not_allowed", "no such program", ""}});
       }},
      {"busy", kind_no<mon::busy>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::busy{"queue_full", 5, 5}});
       }},
      {"auth_failed", kind_no<mon::auth_failed>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::auth_failed{"192.0.2.7", "CURVE", "unknown CURVE key (wrong keyfile?)"}});
       }},
      {"connected", kind_no<mon::connected>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::connected{"127.0.0.1:5000"}});
       }},
      {"disconnected", kind_no<mon::disconnected>, [](auto& evs) {
         REQUIRE(evs.size() == 1);
         CHECK(evs[0] == mon::body{mon::disconnected{"127.0.0.1:5000"}});
       }},
      {"trace", kind_no<mon::trace>, [](auto& evs) {
         REQUIRE(evs.size() == 4);  // SUBMIT in; TASK, BUSY and CANCEL out
         CHECK(evs[0] == mon::body{mon::trace{"in", "SUBMIT", "t1", "C1", "client", 3, "task=echo pri=high"}});
         CHECK(evs[1] == mon::body{mon::trace{"out", "TASK", "t1", "sW1.0", "slot", 3, "task=echo attempt=2"}});
         const auto& busy = std::get<mon::trace>(evs[2]);
         CHECK(busy.direction == "out");
         CHECK(busy.command == "BUSY");
         CHECK(busy.id == "t3");
         CHECK(busy.role == "client");
         CHECK(busy.detail == "reason=queue_full depth=5/5");
         CHECK(evs[3] == mon::body{mon::trace{"out", "CANCEL", "t1", "wW1", "control", 0, ""}});
       }},
  };
  for (const auto& e : table) {
    INFO("subscribed to ", e.prefix);
    observer_rig rig;
    scene sc(rig.clk);
    auto sub = rig.subscribe(e.prefix, e.kind);
    CHECK(rig.obs.feed()->subscriptions().wanted() == (1u << e.kind));
    fire_all(rig.obs, sc);
    e.check(rig.drain(*sub));
  }
}

TEST_CASE("a replay subscriber gets every worker that said HELLO and has not left, and no one else sees it") {
  observer_rig rig;
  rig.workers.hello("W1", "cW1", rig.clk.now(), 2, "");
  rig.workers.hello("W2", "cW2", rig.clk.now(), 3, "");
  rig.workers.hello("W3", "cW3", rig.clk.now(), 1, "");
  (void)rig.workers.retire("W3");  // said BYE
  rig.workers.mark_ready("sW4.0", "W4");  // slots only, no HELLO: nothing to announce
  auto bystander = rig.subscribe("worker_", kind_no<mon::worker_joined>);
  // The replay comes under "replay/NONCE/worker_joined"; each subscriber has its own nonce.
  auto replayed_to = [&](zmq::socket_t& s) {
    std::set<std::string> seen;
    zmq::message_t topic, map;
    while (pump_until(rig.loop.get(), [&] { return s.recv(topic, zmq::recv_flags::dontwait).has_value(); }, 300ms)) {
      REQUIRE(s.recv(map, zmq::recv_flags::none));
      std::string_view name = topic.to_string_view();
      REQUIRE(name.starts_with(mon::replay_prefix));
      name.remove_prefix(name.find('/', mon::replay_prefix.size()) + 1);
      const auto j = std::get<mon::worker_joined>(mon::decode(name, map.to_string_view()).content);
      CHECK(j.capacity == (j.worker == "W1" ? 2u : 3u));
      seen.insert(j.worker);
    }
    return seen;
  };
  auto first = monitor_subscriber(rig.ctx, rig.obs.feed_endpoint(), {"replay/aaaa/"});
  CHECK(replayed_to(*first) == std::set<std::string>{"W1", "W2"});
  auto second = monitor_subscriber(rig.ctx, rig.obs.feed_endpoint(), {"replay/bbbb/"});
  CHECK(replayed_to(*second) == std::set<std::string>{"W1", "W2"});
  CHECK(replayed_to(*first).empty());      // the second one's replay is not the first one's
  CHECK(rig.drain(*bystander).empty());    // nor a plain worker_ subscriber's
}

TEST_CASE("the stats event carries the broker's snapshot and the waits and run times the hooks recorded") {
  observer_rig rig;
  scene sc(rig.clk);
  auto sub = rig.subscribe("stats", kind_no<mon::stats>);
  rig.obs.task_dispatched(sc.t, sc.s);
  rig.obs.task_finished(sc.t, result_msg{"t1"});
  std::deque<task> queued;  // client "few" 1 task, "many" 3, and "\x01\x02" (not printable) 2
  for (const char* client : {"many", "few", "many", "\x01\x02", "many", "\x01\x02"}) {
    auto& t = queued.emplace_back();
    t.client = client;
    t.id = std::to_string(queued.size());
    rig.queue.push(t, rig.clk.now());
  }
  auto e = rig.next(*sub, 5s);  // the tick is once a second
  REQUIRE(e);
  const auto& st = std::get<mon::stats>(e->content);
  CHECK(st.workers == 2);
  CHECK(st.slots == 5);
  CHECK(st.busy_slots == 1);
  CHECK(st.queue_high == 3);
  CHECK(st.queue_limit == 100);
  CHECK(st.queued_clients == 2);
  CHECK(st.top_clients == "many 3, 0102 2, few 1");  // most first, by short routing id
  CHECK(st.wait_p50_ms == doctest::Approx(250.0).epsilon(0.1));
  CHECK(st.run_p50_ms == doctest::Approx(1500.0).epsilon(0.1));
  CHECK(st.dropped == 0);
  CHECK(st.dropped_total == 0);
}

TEST_CASE("after close_feed the hooks are quiet again") {
  observer_rig rig;
  scene sc(rig.clk);
  auto sub = rig.subscribe("", kind_no<mon::trace>);
  CHECK(rig.obs.feeding());
  CHECK(rig.obs.wants_connections());
  rig.obs.close_feed();
  CHECK_FALSE(rig.obs.feeding());
  CHECK_FALSE(rig.obs.wants_connections());
  fire_all(rig.obs, sc);  // must not touch the closed feed
  CHECK(rig.obs.feed() == nullptr);
}
}
