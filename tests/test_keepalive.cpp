// The client's keep-alive on a fake clock (client/keepalive.*): when it pings,
// when the broker counts as lost, how reconnects back off, and which
// deadline a task has before contact, in contact and after a loss; an idle
// client in contact neither pings nor judges silence.
#include <doctest/doctest.h>

#include <vector>

#include "clock.hpp"
#include "keepalive.hpp"

using namespace argon;
using namespace std::chrono_literals;

TEST_SUITE("unit") {
TEST_CASE("keep-alive: ping while the broker talks, lose it after liveness beats, reconnect 1, 2, 4 ... 32 s apart") {
  common::fake_clock clk;
  keepalive k({100ms, 3});
  k.start(clk.now());
  CHECK_FALSE(k.set_idle(false, clk.now()));  // work before contact: nothing to ping for yet beyond the beat
  CHECK(k.state() == link_state::connecting);
  CHECK(k.tick(clk.now()) == tick_action::ping);  // before the first contact it pings as often as after it
  CHECK(k.contact(clk.now(), "b-1") == contact_news::first_contact);
  clk.advance(100ms);
  CHECK(k.tick(clk.now()) == tick_action::ping);
  k.heard(clk.now());  // any message is a sign of life
  clk.advance(200ms);
  CHECK(k.tick(clk.now()) == tick_action::ping);
  clk.advance(100ms);
  CHECK(k.tick(clk.now()) == tick_action::lose);
  CHECK(k.state() == link_state::lost);
  const auto lost = clk.now();
  std::vector<long> gaps;
  auto last = lost;
  while (clk.now() - lost < 200s) {
    clk.advance(100ms);
    if (k.tick(clk.now()) != tick_action::reconnect) continue;
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clk.now() - last).count());
    last = clk.now();
  }
  REQUIRE(gaps.size() >= 7);
  CHECK(gaps[0] == 1000);
  CHECK(gaps[1] == 2000);
  CHECK(gaps[2] == 4000);
  CHECK(gaps[3] == 8000);
  CHECK(gaps[4] == 16000);
  CHECK(gaps[5] == 32000);
  CHECK(gaps[6] == 32000);
  CHECK(k.contact(clk.now(), "b-1") == contact_news::back);
  CHECK(k.state() == link_state::alive);
  CHECK(k.contact(clk.now(), "b-1") == contact_news::same_broker);
  CHECK(k.contact(clk.now(), "b-2") == contact_news::restarted);
  clk.advance(300ms);
  CHECK(k.tick(clk.now()) == tick_action::lose);
  clk.advance(100ms);
  CHECK(k.tick(clk.now()) == tick_action::none);
  clk.advance(900ms);
  CHECK(k.tick(clk.now()) == tick_action::reconnect);  // a new loss starts the backoff again at 1 s
}

TEST_CASE("keep-alive before the first contact: ping every beat, a new socket after liveness beats, then 1, 2, 4 ... s apart") {
  common::fake_clock clk;
  keepalive k({100ms, 3});
  k.start(clk.now());
  std::vector<long> reconnects;  // ms since start
  const auto start = clk.now();
  for (int beat = 0; beat < 80; ++beat) {
    clk.advance(100ms);
    const tick_action a = k.tick(clk.now());
    if (a == tick_action::reconnect)
      reconnects.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clk.now() - start).count());
    else
      CHECK(a == tick_action::ping);
  }
  CHECK(reconnects == std::vector<long>{300, 1300, 3300, 7300});
  CHECK(k.state() == link_state::connecting);  // a new socket is not contact
  CHECK(k.contact(clk.now(), "b-1") == contact_news::first_contact);
}

TEST_CASE("keep-alive deadlines: connect_timeout from submission before contact, none in contact, reconnect_timeout after a loss") {
  common::fake_clock clk;
  keepalive k({100ms, 3, 5000ms, 60000ms});
  k.start(clk.now());
  k.set_idle(false, clk.now());
  const auto early = clk.now();
  clk.advance(2s);
  const auto later = clk.now();
  CHECK(k.give_up_at(early) == early + 5000ms);
  CHECK(k.give_up_at(later) == later + 5000ms);  // each task counts from its own submission
  k.contact(clk.now(), "b-1");
  CHECK_FALSE(k.give_up_at(early).has_value());
  clk.advance(300ms);
  REQUIRE(k.tick(clk.now()) == tick_action::lose);
  const auto lost = clk.now();
  CHECK(k.give_up_at(early) == lost + 60000ms);
  clk.advance(1s);
  CHECK(k.give_up_at(clk.now()) == clk.now() + 60000ms);  // submitted while lost: from its submission
  keepalive never({100ms, 3, 5000ms, 0ms});
  never.start(clk.now());
  never.set_idle(false, clk.now());
  never.contact(clk.now(), "b-1");
  clk.advance(300ms);
  REQUIRE(never.tick(clk.now()) == tick_action::lose);
  CHECK_FALSE(never.give_up_at(clk.now()).has_value());  // reconnect_timeout 0: wait for ever
}

TEST_CASE("keep-alive when idle: no pings and no judging in contact; work resumes with a ping and silence counted from then") {
  common::fake_clock clk;
  keepalive k({100ms, 3});
  k.start(clk.now());
  CHECK(k.idle());
  CHECK(k.tick(clk.now()) == tick_action::ping);  // before contact an idle client still pings (to find the broker)
  k.contact(clk.now(), "b-1");
  for (int beat = 0; beat < 600; ++beat) {  // a minute of silence costs nothing and loses nothing
    clk.advance(100ms);
    CHECK(k.tick(clk.now()) == tick_action::none);
  }
  CHECK(k.state() == link_state::alive);
  CHECK(k.set_idle(false, clk.now()));  // work again: ping now
  CHECK_FALSE(k.set_idle(false, clk.now()));  // still busy: no second ping
  clk.advance(200ms);
  CHECK(k.tick(clk.now()) == tick_action::ping);  // silence counts from the resumption, not the last word
  clk.advance(100ms);
  CHECK(k.tick(clk.now()) == tick_action::lose);  // liveness beats without an answer
  CHECK(k.set_idle(true, clk.now()) == false);
  clk.advance(1000ms);
  CHECK(k.tick(clk.now()) == tick_action::reconnect);  // lost and idle: it keeps trying to reconnect
  CHECK_FALSE(k.set_idle(false, clk.now()));  // not in contact: the reconnects do the pinging
}
}
