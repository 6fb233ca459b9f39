// The libuv-ZeroMQ bridge: every queued message is read despite the
// edge-triggered ZMQ_FD, including after sends that consume the edge.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "uv_handles.hpp"
#include "zmq_watch.hpp"

using namespace argon::common;

namespace {
void send_text(zmq::socket_ref s, const std::string& text) { (void)s.send(zmq::buffer(text), zmq::send_flags::none); }
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
}
