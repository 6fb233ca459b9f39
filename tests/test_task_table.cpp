// The broker's task table on its own: a task's states and the slot link,
// every ending sent once through the outbox to the client, requeue and its
// attempt limit, fail (timeout, cancel) with CANCEL to the worker,
// deadlines on a fake clock, resubmissions answered from the finished
// cache, and the invariant check catching a broken link.
#include <doctest/doctest.h>

#include <optional>

#include "capability_class.hpp"
#include "codec.hpp"
#include "task_table.hpp"

using namespace argon::broker;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

// A DEALER with a chosen routing id, connected to the table's ROUTER over inproc.
struct peer {
  peer(zmq::context_t& ctx, zmq::socket_ref router, const std::string& id) : socket(ctx, zmq::socket_type::dealer) {
    socket.set(zmq::sockopt::routing_id, id);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect("inproc://task-table");
    socket.send(zmq::str_buffer("hi"), zmq::send_flags::none);  // the ROUTER learns the routing id
    zmq::message_t part;
    do (void)router.recv(part); while (part.more());
  }
  // The next message, decoded; empty when none comes within a second.
  std::optional<message> next() {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 1000ms) == 0) return std::nullopt;
    auto f = read_frames(socket, socket_kind::dealer);
    return f ? std::optional<message>(decode(*f)) : std::nullopt;
  }
  // Whether a message is waiting.
  bool quiet() {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    return zmq::poll(&item, 1, 50ms) == 0;
  }
  zmq::socket_t socket;  // the DEALER
};

struct fixture {
  fixture() : router(ctx, zmq::socket_type::router) {
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::router_mandatory, 1);
    router.bind("inproc://task-table");
    client.emplace(ctx, router, "client-1");
    worker_slot.emplace(ctx, router, "slot-1");
    control.emplace(ctx, router, "control-1");
    workers.hello("w1", "control-1", clk.now());
    workers.mark_ready("slot-1", "w1");
  }
  // A SUBMIT from client-1, added to the table.
  task& add(const std::string& id, std::uint32_t timeout_ms = 0, std::uint32_t max_attempts = 1, const std::string& input = "in") {
    submit_msg m{id, "echo", priority::normal, timeout_ms, max_attempts, {}};
    zmq::message_t payload(input.data(), input.size());
    return table.add("client-1", m, payload, route_of("echo", ""));
  }
  // Takes slot-1 and starts the best queued task on it.
  task* start_next() {
    task* t = nullptr;
    slot* s = workers.take_ready_if([&](const worker_record& w) { return (t = table.take_next(w)) != nullptr; });
    if (!s) return nullptr;
    return table.start(*t, *s) ? t : nullptr;
  }
  [[nodiscard]] bool healthy() const {
    const auto v = table.violations(workers);
    for (const auto& line : v) MESSAGE(line);
    return v.empty();
  }

  fake_clock clk;
  zmq::context_t ctx;
  zmq::socket_t router;
  std::optional<peer> client, worker_slot, control;
  observer seen{clk};
  outbox out{router, seen, clk, 64u << 20};
  stats st;
  worker_registry workers;
  task_table table{clk, {millis(60000), 1 << 20}, out, seen, st};
};

template <class T> const T* as(const std::optional<message>& m) { return m ? std::get_if<T>(&m->content) : nullptr; }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a task goes queued, running, ended, with its result sent once to its client") {
  fixture f;
  task& t = f.add("t1");
  CHECK(t.state == task_state::queued);
  CHECK(f.table.size() == 1);
  CHECK(f.table.queue().size() == 1);
  CHECK(f.healthy());

  task* running = f.start_next();
  REQUIRE(running == &t);
  CHECK(t.state == task_state::running);
  CHECK(t.attempt == 1);
  REQUIRE(t.running_on);
  CHECK(t.running_on->running == &t);
  CHECK(f.table.running() == 1);
  CHECK(f.healthy());
  auto sent = f.worker_slot->next();
  REQUIRE(as<task_msg>(sent));
  CHECK(as<task_msg>(sent)->id == "t1");
  CHECK(sent->payload.to_string() == "in");

  slot* s = f.workers.find("slot-1");
  done_msg d{"w1", "t1", true, "", ""};
  zmq::message_t output("out", 3);
  CHECK(f.table.accept_done(s, d, output));
  CHECK(f.table.size() == 0);
  CHECK(s->running == nullptr);
  CHECK(f.healthy());
  auto result = f.client->next();
  REQUIRE(as<result_msg>(result));
  CHECK(as<result_msg>(result)->id == "t1");
  CHECK(result->payload.to_string() == "out");
  CHECK(f.client->quiet());
  CHECK(f.st.submitted == 1);
  CHECK(f.st.completed == 1);
}

TEST_CASE("a resubmission is answered from the table or the finished cache, never run twice") {
  fixture f;
  f.add("t1");
  CHECK(f.table.answer_known("client-1", "t1"));   // unfinished: its one outcome will come
  CHECK(f.client->quiet());
  CHECK_FALSE(f.table.answer_known("client-2", "t1"));  // ids are per client
  f.start_next();
  done_msg d{"w1", "t1", false, "boom", ""};
  zmq::message_t none;
  CHECK(f.table.accept_done(f.workers.find("slot-1"), d, none));
  auto first = f.client->next();
  REQUIRE(as<failed_msg>(first));
  CHECK(as<failed_msg>(first)->kind == "task_error");
  CHECK(f.table.answer_known("client-1", "t1"));  // finished: the kept outcome again
  auto again = f.client->next();
  REQUIRE(as<failed_msg>(again));
  CHECK(as<failed_msg>(again)->message == "boom");
  CHECK(f.table.size() == 0);
}

TEST_CASE("a result for another task requeues the slot's task at the front of its lane") {
  fixture f;
  task& t1 = f.add("t1", 0, 2);
  f.add("t2");
  REQUIRE(f.start_next() == &t1);
  done_msg stale{"w1", "other", true, "", ""};
  zmq::message_t output;
  CHECK_FALSE(f.table.accept_done(f.workers.find("slot-1"), stale, output));
  CHECK(t1.state == task_state::queued);
  CHECK(t1.running_on == nullptr);
  CHECK(f.table.size() == 2);
  CHECK(f.healthy());
  f.workers.mark_ready("slot-1", "w1");
  CHECK(f.start_next() == &t1);  // front of the lane, before t2
  CHECK(t1.attempt == 2);
  CHECK(f.client->quiet());
}

TEST_CASE("a task whose slot is lost is requeued until its attempts are used up, then fails worker_lost") {
  fixture f;
  task& t = f.add("t1", 0, 2);
  f.start_next();
  f.table.release(*f.workers.find("slot-1"), "worker_lost");
  CHECK(t.state == task_state::queued);
  CHECK(f.healthy());
  f.workers.mark_ready("slot-1", "w1");
  REQUIRE(f.start_next() == &t);
  f.table.release(*f.workers.find("slot-1"), "worker_lost");
  CHECK(f.table.size() == 0);
  CHECK(f.healthy());
  (void)f.worker_slot->next();
  auto failed = f.client->next();
  REQUIRE(as<failed_msg>(failed));
  CHECK(as<failed_msg>(failed)->kind == "worker_lost");
  CHECK(f.st.failed == 1);
}

TEST_CASE("failing a running task tells its worker to stop and leaves the slot busy with no task") {
  fixture f;
  task& t = f.add("t1");
  f.start_next();
  slot* s = t.running_on;
  f.table.fail(t, "cancelled", "cancelled by the client");
  CHECK(f.table.size() == 0);
  CHECK(s->running == nullptr);
  CHECK(s->state == slot_state::busy);  // until its DONE comes
  CHECK(f.healthy());
  auto cancel = f.control->next();
  REQUIRE(as<cancel_msg>(cancel));
  CHECK(as<cancel_msg>(cancel)->id == "t1");
  auto failed = f.client->next();
  REQUIRE(as<failed_msg>(failed));
  CHECK(as<failed_msg>(failed)->kind == "cancelled");
  done_msg late{"w1", "t1", true, "", ""};  // the handler returns after all: dropped
  zmq::message_t output;
  CHECK_FALSE(f.table.accept_done(s, late, output));
  CHECK(f.client->quiet());
}

TEST_CASE("deadlines fail queued and running tasks as timeout, soonest first") {
  fixture f;
  f.add("slow", 500);
  task& queued = f.add("queued", 200);
  f.add("none");
  REQUIRE(f.table.next_deadline());
  CHECK(*f.table.next_deadline() == queued.deadline);
  f.start_next();  // "slow" runs
  f.clk.advance(250ms);
  f.table.expire(f.clk.now());
  auto first = f.client->next();
  REQUIRE(as<failed_msg>(first));
  CHECK(as<failed_msg>(first)->id == "queued");
  CHECK(as<failed_msg>(first)->kind == "timeout");
  CHECK(f.table.size() == 2);
  CHECK(f.healthy());
  f.clk.advance(300ms);
  f.table.expire(f.clk.now());
  auto second = f.client->next();
  REQUIRE(as<failed_msg>(second));
  CHECK(as<failed_msg>(second)->id == "slow");
  REQUIRE(as<cancel_msg>(f.control->next()));
  CHECK_FALSE(f.table.next_deadline());
  CHECK(f.table.size() == 1);
  CHECK(f.healthy());
}

TEST_CASE("a task sent to an unreachable slot stays queued at the front with its attempt unspent") {
  fixture f;
  f.workers.mark_ready("gone-slot", "w2");  // no socket has this routing id
  task& t = f.add("t1");
  slot* s = f.workers.find("gone-slot");
  task* taken = f.table.take_next(*s->worker);
  REQUIRE(taken == &t);
  CHECK_FALSE(f.table.start(t, *s));
  CHECK(t.state == task_state::queued);
  CHECK(t.attempt == 0);
  CHECK(f.table.queue().size() == 1);
  CHECK(f.out.counts().unreachable == 1);
  CHECK(f.healthy());
}

TEST_CASE("the invariant check finds a slot running a task the table does not hold, and a running task with no slot") {
  fixture f;
  task& t = f.add("t1");
  f.start_next();
  CHECK(f.healthy());
  slot* s = t.running_on;
  task stranger;
  stranger.key = "nobody\nx";
  s->running = &stranger;
  auto found = f.table.violations(f.workers);
  CHECK(found.size() == 2);  // t is not its slot's task, and the slot runs a stranger
  s->running = &t;
  t.running_on = nullptr;
  found = f.table.violations(f.workers);
  REQUIRE(found.size() == 3);  // ... and the running count of its lane no longer matches
  CHECK(found[0] == "running task t1 has no slot");
  CHECK(found[1] == "running per lane is 0/0/0 but counted 0/1/0");
  t.running_on = s;
  CHECK(f.healthy());
}
}
