// Monitor events: every kind round-trips through the codec with its fields;
// names and kinds agree; defects are one protocol_error; readers skip
// unknown keys and default missing ones.
#include <doctest/doctest.h>

#include <msgpack.hpp>

#include <functional>

#include "errors.hpp"
#include "monitor_events.hpp"

using namespace argon::common;
namespace mon = argon::common::monitor;

namespace {

// One event of each kind, with no field left at its zero value.
std::vector<mon::body> one_of_each() {
  return {mon::worker_joined{"w1", 8, "10.0.0.7"},
          mon::worker_left{"w1", "expired"},
          mon::task_submitted{"t-1", "resize", "high", 1234, "c-0123456789ab"},
          mon::task_dispatched{"t-1", "w1", 2, 12.5},
          mon::task_done{"t-1", "w1", 40.25},
          mon::task_failed{"t-2", "task_error", "disk full", "w1"},
          mon::task_requeued{"t-3", 1, "worker_lost"},
          mon::task_progress{"t-4", 40, "page 4 of 10"},
          mon::busy{"queue_full", 24, 24},
          mon::auth_failed{"10.0.0.9:5123", "CURVE", "unknown CURVE key (wrong keyfile?)"},
          mon::connected{"10.0.0.9:5123"},
          mon::disconnected{"10.0.0.9:5124"},
          mon::stats{2, 8, 3, 1, 2, 3, 24, 2, "c1 812, c2 3", 812.5, 1.5, 0.1, 0.4, 1.2, 5, 9.8, 12, 10, 7, 70},
          mon::trace{"in", "SUBMIT", "t-1", "c-0123456789ab", "client", 64, "task=resize pri=high"}};
}

std::string map_of(const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& fill) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  fill(p);
  return std::string(b.data(), b.size());
}

void expect_error(std::string_view topic, const std::string& bytes, const char* fragment) {
  CAPTURE(fragment);
  try {
    (void)mon::decode(topic, bytes);
    FAIL("decoded without an error");
  } catch (const protocol_error& e) {
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("every monitor event round-trips with all its fields") {
  const auto all = one_of_each();
  REQUIRE(all.size() == mon::kind_count);
  for (const auto& b : all) {
    CAPTURE(mon::name_of(b));
    const mon::event e{1764097262345, b};
    const mon::event back = mon::decode(mon::name_of(b), mon::encode(e));
    CHECK(back == e);
    CHECK(back.content.index() == b.index());
  }
}

TEST_CASE("names and kinds agree, and every name is a topic no other name starts with") {
  for (std::size_t k = 0; k < mon::kind_count; ++k) {
    CHECK(mon::kind_of(mon::name_of(k)) == k);
    for (std::size_t other = 0; other < mon::kind_count; ++other)
      if (other != k) CHECK_FALSE(std::string_view(mon::name_of(other)).starts_with(mon::name_of(k)));
  }
  CHECK(mon::kind_of("nonsense") == mon::kind_count);
  CHECK(mon::kind_index<mon::trace>() == mon::kind_of("trace"));
}

TEST_CASE("a reader skips unknown keys and takes missing ones as zero") {
  const std::string bytes = map_of([](auto& p) {
    p.pack_map(3);
    p.pack(std::string_view("event")).pack(std::string_view("task_done"));
    p.pack(std::string_view("id")).pack(std::string_view("t-9"));
    p.pack(std::string_view("added_later")).pack(std::vector<int>{1, 2});
  });
  const mon::event e = mon::decode("task_done", bytes);
  const auto& d = std::get<mon::task_done>(e.content);
  CHECK(d.id == "t-9");
  CHECK(d.worker.empty());
  CHECK(d.run_ms == 0);
  CHECK(e.time_ms == 0);
}

TEST_CASE("defects in a monitor event are one protocol_error naming the problem") {
  expect_error("no_such_event", mon::encode({1, mon::busy{}}), "unknown monitor event");
  expect_error("busy", "\xc1", "not valid msgpack");
  expect_error("busy", map_of([](auto& p) { p.pack(7); }), "not a msgpack map");
  expect_error("busy", map_of([](auto& p) {
                 p.pack_map(1);
                 p.pack(std::string_view("depth")).pack(std::string_view("ten"));
               }), "'depth' has the wrong type");
  expect_error("busy", mon::encode({1, mon::worker_left{"w", "bye"}}), "named 'worker_left'");
  std::string trailing = mon::encode({1, mon::busy{}}) + "x";
  expect_error("busy", trailing, "trailing bytes");
}

TEST_CASE("routing ids are shown as text when printable, else as short hex") {
  CHECK(mon::short_peer("c-0123456789ab") == "c-0123456789ab");
  CHECK(mon::short_peer(std::string("\x00\x6b\x8b\x45\x67\x01\x02", 7)) == "006b8b456701…");
  CHECK(mon::short_peer(std::string("\x01\x02", 2)) == "0102");
  CHECK(mon::short_peer(std::string(40, 'a')).size() == 24);
}
}
