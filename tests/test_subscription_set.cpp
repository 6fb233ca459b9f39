// Which events the broker publishes: the subscription set follows the
// XPUB's subscribe and unsubscribe messages, prefixes match names, and the
// trace is on only while a matching subscription lives. The last case runs
// a real XPUB and SUB pair to check libzmq says what the set expects.
#include <doctest/doctest.h>

#include <zmq.hpp>

#include <thread>

#include "subscription_set.hpp"

using namespace argon;
namespace mon = argon::common::monitor;
using namespace std::chrono_literals;

namespace {
// A subscription message: one flag byte, then the prefix.
std::string subscription(char flag, std::string_view p) {
  std::string m(p.size() + 1, flag);
  p.copy(m.data() + 1, p.size());
  return m;
}
std::string sub(std::string_view p) { return subscription('\x01', p); }
std::string unsub(std::string_view p) { return subscription('\x00', p); }
constexpr std::size_t trace = mon::kind_index<mon::trace>();
constexpr std::size_t done = mon::kind_index<mon::task_done>();
constexpr std::size_t stats = mon::kind_index<mon::stats>();
}  // namespace

TEST_SUITE("unit") {
TEST_CASE("nothing is wanted until someone subscribes, and trace only while a matching prefix lives") {
  broker::subscription_set s;
  CHECK(s.wanted() == 0);
  CHECK(s.apply(sub("task_done")));
  CHECK(s.wants(done));
  CHECK_FALSE(s.wants(trace));
  CHECK(s.apply(sub("tr")));
  CHECK(s.wants(trace));
  CHECK(s.apply(unsub("tr")));
  CHECK_FALSE(s.wants(trace));
  CHECK(s.wants(done));
  CHECK(s.apply(unsub("task_done")));
  CHECK(s.wanted() == 0);
}

TEST_CASE("an empty prefix wants everything, trace included; task_ wants every task event") {
  broker::subscription_set s;
  s.apply(sub(""));
  CHECK(s.wanted() == (1u << mon::kind_count) - 1);
  s.apply(unsub(""));
  s.apply(sub("task_"));
  CHECK(s.wants(done));
  CHECK(s.wants(mon::kind_index<mon::task_submitted>()));
  CHECK_FALSE(s.wants(stats));
  CHECK_FALSE(s.wants(trace));
}

TEST_CASE("messages that are not subscriptions change nothing") {
  broker::subscription_set s;
  CHECK_FALSE(s.apply(""));
  CHECK_FALSE(s.apply("\x02trace"));
  CHECK(s.apply(unsub("never-subscribed")));
  CHECK(s.wanted() == 0);
  CHECK(broker::subscription_set::subscribes_to(sub("worker"), mon::kind_index<mon::worker_joined>()));
  CHECK_FALSE(broker::subscription_set::subscribes_to(unsub("worker"), mon::kind_index<mon::worker_joined>()));
}

TEST_CASE("a real XPUB reports a trace subscriber's arrival and its departure") {
  zmq::context_t ctx;
  zmq::socket_t pub(ctx, zmq::socket_type::xpub);
  pub.set(zmq::sockopt::linger, 0);
  pub.set(zmq::sockopt::xpub_verbose, 1);
  pub.bind("tcp://127.0.0.1:*");
  broker::subscription_set s;
  auto read_until = [&](auto pred) {
    for (int i = 0; i < 500 && !pred(); ++i) {
      zmq::message_t m;
      if (pub.recv(m, zmq::recv_flags::dontwait)) s.apply(m.to_string_view());
      else std::this_thread::sleep_for(2ms);
    }
    return pred();
  };
  {
    zmq::socket_t a(ctx, zmq::socket_type::sub), b(ctx, zmq::socket_type::sub);
    a.set(zmq::sockopt::linger, 0);
    b.set(zmq::sockopt::linger, 0);
    a.set(zmq::sockopt::subscribe, "trace");
    b.set(zmq::sockopt::subscribe, "trace");
    b.set(zmq::sockopt::subscribe, "stats");
    a.connect(pub.get(zmq::sockopt::last_endpoint));
    b.connect(pub.get(zmq::sockopt::last_endpoint));
    CHECK(read_until([&] { return s.wants(trace) && s.wants(stats); }));
    b.set(zmq::sockopt::unsubscribe, "trace");  // a still wants it
    b.set(zmq::sockopt::unsubscribe, "stats");
    CHECK(read_until([&] { return !s.wants(stats); }));
    CHECK(s.wants(trace));
  }  // a and b close: their subscriptions end with them
  CHECK(read_until([&] { return s.wanted() == 0; }));
}
}
