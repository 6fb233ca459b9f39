// The libuv-ZeroMQ bridge: every queued message is read despite the
// edge-triggered ZMQ_FD, including after sends that consume the edge.
#include <doctest/doctest.h>

#include <functional>
#include <thread>
#include <vector>

#include "uv_handles.hpp"
#include "zmq_watch.hpp"

using namespace argon::common;

namespace {
void send_text(zmq::socket_ref s, const std::string& text) { (void)s.send(zmq::buffer(text), zmq::send_flags::none); }

// Two watched sockets, a and b, each with a peer that writes to it, and a loop.
struct two_pairs {
  zmq::context_t ctx;                                                            // outlives the sockets
  zmq::socket_t a{ctx, zmq::socket_type::pair}, a_peer{ctx, zmq::socket_type::pair};  // a and its writer
  zmq::socket_t b{ctx, zmq::socket_type::pair}, b_peer{ctx, zmq::socket_type::pair};  // b and its writer
  event_loop loop;                                                               // the watches' loop

  explicit two_pairs(const std::string& name) {
    a.bind("inproc://" + name + "-a");
    a_peer.connect("inproc://" + name + "-a");
    b.bind("inproc://" + name + "-b");
    b_peer.connect("inproc://" + name + "-b");
  }
  // A read_one for b: counts each message in b_got, notes whether a's
  // handler was running then, and stops the loop at the stop_at-th.
  std::function<bool()> b_reader(int stop_at) {
    return [this, stop_at] {
      zmq::message_t m;
      if (!b.recv(m, zmq::recv_flags::dontwait)) return false;
      b_read_inside_a = b_read_inside_a || in_a;
      if (++b_got == stop_at) loop.stop();
      return true;
    };
  }
  bool in_a = false;             // a's handler is running
  bool b_read_inside_a = false;  // b's handler ran while it was
  int b_got = 0;                 // messages read on b
  // Runs the loop until a handler stops it, or for 20 s at most.
  void run() {
    timer guard(loop.get(), [this] { loop.stop(); });
    guard.start(millis(20000));
    loop.run();
  }
};
}  // namespace

TEST_SUITE("unit") {
TEST_CASE("messages queued before the watch starts are all read") {
  zmq::context_t ctx;
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.bind("inproc://queued");
  b.connect("inproc://queued");
  for (int i = 0; i < 1000; ++i) send_text(a, std::to_string(i));
  event_loop loop;
  int got = 0;
  zmq_watch w(loop.get(), b, [&] {
    zmq::message_t m;
    if (!b.recv(m, zmq::recv_flags::dontwait)) return false;
    ++got;
    return true;
  });
  CHECK(got == 1000);  // the constructor drains what is already there
}

TEST_CASE("a ping-pong where every read triggers a send never stalls") {
  zmq::context_t ctx;
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.bind("inproc://pingpong");
  b.connect("inproc://pingpong");
  event_loop loop;
  int a_got = 0, b_got = 0;
  const int rounds = 5000;
  zmq_watch wa(loop.get(), a, [&] {
    zmq::message_t m;
    if (!a.recv(m, zmq::recv_flags::dontwait)) return false;
    if (++a_got < rounds) send_text(a, "ping");
    else loop.stop();
    return true;
  });
  zmq_watch wb(loop.get(), b, [&] {
    zmq::message_t m;
    if (!b.recv(m, zmq::recv_flags::dontwait)) return false;
    ++b_got;
    send_text(b, "pong");
    wa.drain();  // a send on b can make a readable without a new edge on a's fd
    return true;
  });
  send_text(a, "ping");
  wb.drain();
  timer guard(loop.get(), [&] { loop.stop(); });
  guard.start(millis(20000));
  loop.run();
  CHECK(a_got == rounds);
  CHECK(b_got == rounds);
}

TEST_CASE("after each batch of reads the watch calls after_reads, then reads what its sends brought") {
  zmq::context_t ctx;
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.bind("inproc://batches");
  b.connect("inproc://batches");
  const int queued = 2 * zmq_watch::max_batch + 88;
  for (int i = 0; i < queued; ++i) send_text(a, std::to_string(i));
  event_loop loop;
  int got = 0;
  std::vector<int> seen_at;  // how many had been read at each call of after_reads
  zmq_watch w(loop.get(), b, [&] {
    zmq::message_t m;
    if (!b.recv(m, zmq::recv_flags::dontwait)) return false;
    ++got;
    return true;
  }, [&] {
    seen_at.push_back(got);
    if (seen_at.size() == 3) send_text(a, "late");  // as a reply would bring an answer
  });
  const int batch = zmq_watch::max_batch;
  CHECK(seen_at == std::vector<int>{batch, 2 * batch, queued, queued + 1});
}

TEST_CASE("messages sent from another thread wake the loop") {
  zmq::context_t ctx;
  zmq::socket_t rx(ctx, zmq::socket_type::pull);
  rx.bind("inproc://threads");
  event_loop loop;
  int got = 0;
  zmq_watch w(loop.get(), rx, [&] {
    zmq::message_t m;
    if (!rx.recv(m, zmq::recv_flags::dontwait)) return false;
    if (++got == 2000) loop.stop();
    return true;
  });
  std::thread sender([&] {
    zmq::socket_t tx(ctx, zmq::socket_type::push);
    tx.connect("inproc://threads");
    for (int i = 0; i < 2000; ++i) send_text(tx, "x");
  });
  timer guard(loop.get(), [&] { loop.stop(); });
  guard.start(millis(20000));
  loop.run();
  sender.join();
  CHECK(got == 2000);
}

// A handler that sends on another socket asks that socket's watch to drain.
// Read there and then, the other socket's messages would be handled inside
// this handler, half-way through it: a client's answer to a CANCEL then
// overtook the result that made it send the CANCEL.
TEST_CASE("a drain asked for inside another watch's handler reads on the next turn, not inside it") {
  two_pairs p("nest");
  std::unique_ptr<zmq_watch> wb;
  zmq_watch wa(p.loop.get(), p.a, [&] {
    zmq::message_t m;
    if (!p.a.recv(m, zmq::recv_flags::dontwait)) return false;
    p.in_a = true;
    send_text(p.b, "cancel");
    wb->drain();  // as a send path does
    p.in_a = false;
    return true;
  });
  wb = std::make_unique<zmq_watch>(p.loop.get(), p.b, p.b_reader(1));
  send_text(p.b_peer, "waiting");  // readable on b before a's handler runs
  send_text(p.a_peer, "result");
  wa.drain();
  CHECK(p.b_got == 0);  // not read inside a's handler
  p.run();
  CHECK(p.b_got == 1);  // read on the next turn
  CHECK_FALSE(p.b_read_inside_a);
}

// The same kind: a watch made inside another's handler (a worker slot makes a
// new one when it ends a task) must not handle what already waits on its
// socket there and then.
TEST_CASE("a watch made inside another watch's handler reads what waits on the next turn") {
  two_pairs p("made");
  std::unique_ptr<zmq_watch> wb;
  zmq_watch wa(p.loop.get(), p.a, [&] {
    zmq::message_t m;
    if (!p.a.recv(m, zmq::recv_flags::dontwait)) return false;
    p.in_a = true;
    wb = std::make_unique<zmq_watch>(p.loop.get(), p.b, p.b_reader(3));
    p.in_a = false;
    return true;
  });
  for (int i = 0; i < 3; ++i) send_text(p.b_peer, "queued");
  send_text(p.a_peer, "go");
  wa.drain();
  REQUIRE(wb);
  p.run();
  CHECK(p.b_got == 3);
  CHECK_FALSE(p.b_read_inside_a);
}

TEST_CASE("drain_soon reads on the next turn of the loop, never inside the call") {
  zmq::context_t ctx;
  zmq::socket_t a(ctx, zmq::socket_type::pair), a_peer(ctx, zmq::socket_type::pair);
  a.bind("inproc://soon");
  a_peer.connect("inproc://soon");
  event_loop loop;
  int got = 0;
  zmq_watch w(loop.get(), a, [&] {
    zmq::message_t m;
    if (!a.recv(m, zmq::recv_flags::dontwait)) return false;
    if (++got == 2) loop.stop();
    return true;
  });
  send_text(a_peer, "one");
  send_text(a_peer, "two");
  w.drain_soon();
  w.drain_soon();  // asked twice, read once
  CHECK(got == 0);
  timer guard(loop.get(), [&] { loop.stop(); });
  guard.start(millis(20000));
  loop.run();
  CHECK(got == 2);
}

// A flood must not hold the loop: one drain reads at most
// max_batches_per_turn batches, then timers run before it goes on. A broker
// that read 175,000 SUBMITs in one drain sent no heartbeat for 4 s under the
// sanitizers, and its worker gave it up for lost.
TEST_CASE("a drain yields to the loop's timers after max_batches_per_turn batches, then reads the rest") {
  zmq::context_t ctx;
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.set(zmq::sockopt::sndhwm, 0);
  b.set(zmq::sockopt::rcvhwm, 0);
  a.bind("inproc://flood");
  b.connect("inproc://flood");
  const int queued = 20000;
  for (int i = 0; i < queued; ++i) send_text(a, "x");
  event_loop loop;
  int got = 0, got_when_timer_ran = -1;
  zmq_watch w(loop.get(), b, [&] {
    zmq::message_t m;
    if (!b.recv(m, zmq::recv_flags::dontwait)) return false;
    if (++got == queued) loop.stop();
    return true;
  });
  const int per_turn = zmq_watch::max_batches_per_turn * zmq_watch::max_batch;
  CHECK(got == per_turn);  // the constructor's drain stopped there
  timer due(loop.get(), [&] { got_when_timer_ran = got; });
  due.start(millis(0));
  timer guard(loop.get(), [&] { loop.stop(); });
  guard.start(millis(20000));
  loop.run();
  CHECK(got == queued);
  CHECK(got_when_timer_ran >= per_turn);
  CHECK(got_when_timer_ran < queued);  // it ran between drains, not after the whole flood
}
}
