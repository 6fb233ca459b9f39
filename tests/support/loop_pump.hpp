// Test fixture: runs a libuv loop by hand on the test's own thread.
//
// A component that lives on a loop (its sockets watched by zmq_watch, its
// timers, its completion_queue) is driven here without a second thread:
// the test runs the loop a turn at a time until what it waits for holds or
// a generous deadline passes, so a test waits for an outcome and never
// for a fixed time. Header-only.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <thread>

namespace argon::test {

// Runs the loop until pred() holds or limit passes; returns pred's last answer.
inline bool pump_until(uv_loop_t* loop, const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  bool held = pred();  // evaluated once per round: it may consume a message
  while (!held && std::chrono::steady_clock::now() < end) {
    uv_run(loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    held = pred();
  }
  return held;
}

// Runs the loop for a fixed while, for checks that nothing more happens.
inline void pump_for(uv_loop_t* loop, std::chrono::milliseconds span) {
  const auto end = std::chrono::steady_clock::now() + span;
  while (std::chrono::steady_clock::now() < end) {
    uv_run(loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace argon::test
