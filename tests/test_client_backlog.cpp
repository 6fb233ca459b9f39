// The client backlog on its own, with a scripted socket and a fake clock:
// messages leave in order per peer and a flush stops at the first one the
// socket refuses; peers are retried with a growing back-off and do not hold
// each other up; a disconnected peer loses what waited for it; outcomes
// always wait, PROGRESS and other replies only within the bound, and a
// newer PROGRESS of a task takes the place of one still waiting.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "client_backlog.hpp"

using namespace argon;
using namespace argon::broker;
using namespace argon::common;
using namespace std::chrono_literals;

namespace {

// A ROUTER as the backlog sees it: each peer takes a set number of messages
// (unlimited when unset) or is gone; what it took is recorded.
struct scripted_socket {
  std::map<std::string, int, std::less<>> room;   // messages each peer takes before EAGAIN
  std::map<std::string, bool, std::less<>> gone;  // peers that have disconnected
  std::vector<std::string> sent;                  // "peer COMMAND id payload-or-percent", in order

  client_backlog::send_fn fn() {
    return [this](std::string_view peer, const body& b, zmq::message_t* payload) {
      if (gone.count(peer)) return send_status::unreachable;
      auto r = room.find(peer);
      if (r != room.end() && r->second-- <= 0) return send_status::would_block;
      const auto* p = std::get_if<progress_msg>(&b);
      sent.push_back(fmt::format("{} {} {} {}", peer, command_name(command_of(b)), task_id_of(b),
                                 p ? fmt::format("{}%", p->percent) : payload ? payload->to_string() : ""));
      if (payload) *payload = zmq::message_t();  // the socket takes the frame
      return send_status::sent;
    };
  }
};

zmq::message_t frame(const std::string& text) { return zmq::message_t(text.data(), text.size()); }

body busy(const std::string& id) { return busy_msg{id, 1, 1, 1, 10, "queue_full"}; }
body progress(const std::string& id, std::uint32_t percent) { return progress_msg{id, percent, ""}; }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("messages for a peer leave in order, and a flush stops at the first the socket refuses") {
  fake_clock clk;
  client_backlog b(1 << 20);
  scripted_socket s;
  for (int i = 1; i <= 4; ++i) CHECK(b.push("c1", wait_kind::outcome, result_msg{fmt::format("t{}", i)}, frame(fmt::format("out{}", i)), clk.now()));
  CHECK(b.holds("c1"));
  CHECK_FALSE(b.holds("c2"));
  CHECK(b.waiting_for("c1") == 4);
  CHECK(b.flush(clk.now(), s.fn()) == 0);  // not due yet: the socket refused the first a moment ago
  clk.advance(client_backlog::min_retry);
  s.room["c1"] = 2;
  CHECK(b.flush(clk.now(), s.fn()) == 2);
  CHECK(s.sent == std::vector<std::string>{"c1 RESULT t1 out1", "c1 RESULT t2 out2"});
  CHECK(b.waiting_for("c1") == 2);
  CHECK(b.push("c1", wait_kind::reply, busy("t5"), zmq::message_t(), clk.now()));  // behind the two left
  clk.advance(client_backlog::min_retry);
  s.room.erase("c1");
  CHECK(b.flush(clk.now(), s.fn()) == 3);
  CHECK(s.sent == std::vector<std::string>{"c1 RESULT t1 out1", "c1 RESULT t2 out2", "c1 RESULT t3 out3",
                                           "c1 RESULT t4 out4", "c1 BUSY t5 "});
  CHECK_FALSE(b.holds("c1"));
  CHECK(b.bytes() == 0);
  CHECK(b.peers() == 0);
  CHECK_FALSE(b.next_due());
}

TEST_CASE("a peer that takes nothing is tried again later and later, one that takes something soon") {
  fake_clock clk;
  client_backlog b(1 << 20);
  scripted_socket s;
  s.room["c1"] = 0;
  b.push("c1", wait_kind::outcome, result_msg{"t1"}, frame("x"), clk.now());
  b.push("c1", wait_kind::outcome, result_msg{"t2"}, frame("y"), clk.now());
  std::vector<long> waits;
  for (int i = 0; i < 10; ++i) {
    clk.advance(*b.next_due() - clk.now());
    b.flush(clk.now(), s.fn());
    waits.push_back(std::chrono::duration_cast<millis>(*b.next_due() - clk.now()).count());
  }
  CHECK(waits == std::vector<long>{1, 2, 4, 8, 16, 32, 64, 128, 128, 128});
  s.room["c1"] = 1;  // it reads one
  clk.advance(*b.next_due() - clk.now());
  CHECK(b.flush(clk.now(), s.fn()) == 1);
  CHECK(*b.next_due() - clk.now() == client_backlog::min_retry);
  s.room["c1"] = 0;
  clk.advance(client_backlog::min_retry);
  b.flush(clk.now(), s.fn());
  CHECK(*b.next_due() - clk.now() == client_backlog::min_retry);  // the back-off starts again from the shortest
}

TEST_CASE("a peer whose socket is full does not hold up another's, and a disconnected one loses what waited") {
  fake_clock clk;
  client_backlog b(1 << 20);
  scripted_socket s;
  b.push("stuck", wait_kind::outcome, result_msg{"a1"}, frame("x"), clk.now());
  b.push("gone", wait_kind::outcome, result_msg{"b1"}, frame("y"), clk.now());
  b.push("gone", wait_kind::reply, busy("b2"), zmq::message_t(), clk.now());
  b.push("reads", wait_kind::outcome, result_msg{"c1"}, frame("z"), clk.now());
  s.room["stuck"] = 0;
  s.gone["gone"] = true;
  clk.advance(client_backlog::min_retry);
  CHECK(b.flush(clk.now(), s.fn()) == 1);
  CHECK(s.sent == std::vector<std::string>{"reads RESULT c1 z"});
  CHECK(b.holds("stuck"));
  CHECK_FALSE(b.holds("gone"));
  CHECK_FALSE(b.holds("reads"));
  CHECK(b.lost() == 2);
  CHECK(b.peers() == 1);
  CHECK(b.bytes() == b.bytes_of("stuck"));
}

TEST_CASE("past the bound outcomes still wait, PROGRESS does not, and other replies wait while they are under it") {
  fake_clock clk;
  const std::size_t big = 4096;
  client_backlog b(10 * big);
  for (int i = 0; i < 9; ++i) CHECK(b.push("c1", wait_kind::outcome, result_msg{fmt::format("t{}", i)}, frame(std::string(big, 'o')), clk.now()));
  CHECK_FALSE(b.over_bound("c1"));
  CHECK(b.push("c1", wait_kind::progress, progress("p1", 10), zmq::message_t(), clk.now()));
  CHECK(b.push("c1", wait_kind::outcome, result_msg{"t9"}, frame(std::string(big, 'o')), clk.now()));
  CHECK(b.over_bound("c1"));
  CHECK_FALSE(b.over_bound("c2"));
  for (int i = 10; i < 20; ++i) CHECK(b.push("c1", wait_kind::outcome, result_msg{fmt::format("t{}", i)}, frame(std::string(big, 'o')), clk.now()));
  CHECK(b.waiting_for("c1") == 21);  // outcomes are never turned away
  CHECK_FALSE(b.push("c1", wait_kind::progress, progress("p2", 10), zmq::message_t(), clk.now()));
  CHECK(b.dropped() == 1);
  // Replies have a bound of their own, which the outcomes do not use up.
  std::size_t replies = 0;
  while (b.push("c1", wait_kind::reply, busy(fmt::format("r{}", replies)), zmq::message_t(), clk.now())) ++replies;
  const std::size_t each = client_backlog::bookkeeping_bytes + encode_header(role::broker, busy("r0")).size();
  CHECK(replies >= 10 * big / each);
  CHECK(replies <= 10 * big / each + 2);
  CHECK(b.dropped() == 2);
  CHECK(b.push("c1", wait_kind::outcome, result_msg{"late"}, frame("x"), clk.now()));
}

TEST_CASE("a newer PROGRESS of a task takes the place of one still waiting") {
  fake_clock clk;
  client_backlog b(1 << 20);
  scripted_socket s;
  b.push("c1", wait_kind::progress, progress("t1", 10), zmq::message_t(), clk.now());
  b.push("c1", wait_kind::progress, progress("t2", 10), zmq::message_t(), clk.now());
  b.push("c1", wait_kind::outcome, failed_msg{"t3", "task_error", "no"}, zmq::message_t(), clk.now());
  const std::size_t before = b.bytes_of("c1");
  CHECK(b.push("c1", wait_kind::progress, progress("t1", 50), zmq::message_t(), clk.now()));
  CHECK(b.waiting_for("c1") == 3);
  CHECK(b.bytes_of("c1") == before);
  s.room["c1"] = 1;
  clk.advance(client_backlog::min_retry);
  b.flush(clk.now(), s.fn());
  CHECK(s.sent == std::vector<std::string>{"c1 PROGRESS t1 50%"});
  CHECK(b.push("c1", wait_kind::progress, progress("t1", 90), zmq::message_t(), clk.now()));  // the one sent is not replaced
  CHECK(b.waiting_for("c1") == 3);
  s.room.erase("c1");
  clk.advance(client_backlog::min_retry);
  b.flush(clk.now(), s.fn());
  CHECK(s.sent == std::vector<std::string>{"c1 PROGRESS t1 50%", "c1 PROGRESS t2 10%", "c1 FAILED t3 ", "c1 PROGRESS t1 90%"});
  CHECK(b.bytes() == 0);
}
}
