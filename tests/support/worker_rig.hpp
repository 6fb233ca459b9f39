// Test fixture: the world a worker's broker-facing part (a task slot, the
// control channel) lives in: a scripted broker, a loop the test pumps on its
// own thread, the completion queue and the handler table.
//
// It offers slot_env_for() to build the environment the component is given,
// and next(), next_of(), expect<T>() and expect_announcement<T>() to read
// what the scripted broker hears while the loop is pumped, so a test waits
// for a message, never for a fixed time. A test's own rig derives from it
// and adds the component; it must destroy that component first, before the
// loop and the context go.
// Header-only.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <zmq.hpp>

#include "loop_pump.hpp"
#include "scripted_broker.hpp"
#include "task_slot.hpp"
#include "uv_handles.hpp"

namespace argon::test {

struct worker_rig {
  scripted_broker broker;                            // what the worker talks to
  zmq::context_t ctx;                                // the worker's context
  common::event_loop loop;                           // pumped by the test
  worker::completion_queue completions{loop.get()};  // finished handlers report here
  worker::handler_table handlers;                    // the tasks the worker runs

  static constexpr const char* worker_id = "W1";  // the worker's id, in every environment

  // The environment of the worker on this rig's loop, broker and handlers.
  worker::slot_env slot_env_for(std::optional<common::capabilities> caps, worker::progress_sender progress) {
    return {loop.get(), {&ctx, broker.endpoint, std::nullopt}, worker_id, &handlers, &completions, std::move(caps),
            std::move(progress)};
  }

  // The next message the broker receives, pumping the loop meanwhile.
  std::optional<received> next(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    std::optional<received> got;
    pump_until(loop.get(), [&] {
      got = broker.receive(std::chrono::milliseconds(2));
      return got.has_value();
    }, limit);
    return got;
  }

  // The next message of command c, skipping others; empty if none within limit.
  std::optional<received> next_of(common::command c, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto r = next(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
      if (r && common::command_of(r->message.content) == c) return r;
    }
    return std::nullopt;
  }

  // The next message, which must be a T (the test stops here otherwise).
  template <class T>
  received expect() {
    auto r = next();
    REQUIRE(r);
    INFO("got ", common::command_name(common::command_of(r->message.content)));
    REQUIRE(std::holds_alternative<T>(r->message.content));
    return std::move(*r);
  }

  // The next message, which must be a T (HELLO or READY) sent by routing id
  // from as role and naming this rig's worker; returns its body.
  template <class T>
  T expect_announcement(const std::string& from, common::role role) {
    const received r = expect<T>();
    CHECK(r.from == from);
    CHECK(r.message.from == role);
    T body = std::get<T>(r.message.content);
    CHECK(body.worker_id == worker_id);
    return body;
  }
};

}  // namespace argon::test
