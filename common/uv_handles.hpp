// RAII wrappers for the libuv handles Argon uses: the loop, timers, signals
// and a cross-thread wake-up.
//
// Each wrapper owns one initialised handle, is neither copied nor moved
// (libuv keeps a pointer to it), and closes its handle on destruction; the
// handle's memory is freed in the close callback, as libuv requires. The
// loop's destructor runs the loop once more so those callbacks happen.
// A constructor whose libuv init call fails throws common::system_error.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>

#include "clock.hpp"

namespace argon::common {

// Closes a libuv handle and frees it in the close callback.
template <class T> struct uv_closer {
  void operator()(T* h) const {
    auto* base = reinterpret_cast<uv_handle_t*>(h);
    base->data = nullptr;
    uv_close(base, [](uv_handle_t* p) { std::unique_ptr<T> owned(reinterpret_cast<T*>(p)); });
  }
};

// An owned libuv handle of type T.
template <class T> using uv_ptr = std::unique_ptr<T, uv_closer<T>>;

// A libuv loop that is closed cleanly, after its handles' close callbacks have run.
class event_loop {
 public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  [[nodiscard]] uv_loop_t* get() { return &loop_; }
  void run() { uv_run(&loop_, UV_RUN_DEFAULT); }
  void stop() { uv_stop(&loop_); }

 private:
  uv_loop_t loop_;  // the loop itself
};

// A one-shot or repeating timer. Its callback may destroy the timer.
class timer {
 public:
  timer(uv_loop_t* loop, std::function<void()> on_fire);
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;

  void start(millis after, millis repeat = millis(0));
  void stop();

 private:
  std::function<void()> on_fire_;  // called on the loop thread
  uv_ptr<uv_timer_t> handle_;      // the libuv timer
};

// Calls a function on the loop thread when a signal arrives.
class signal_watch {
 public:
  signal_watch(uv_loop_t* loop, int signum, std::function<void(int)> on_signal);
  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;

 private:
  std::function<void(int)> on_signal_;  // called on the loop thread
  uv_ptr<uv_signal_t> handle_;          // the libuv signal handle
};

// Wakes the loop from any thread; wake-ups may coalesce into one call.
class async_wake {
 public:
  async_wake(uv_loop_t* loop, std::function<void()> on_wake);
  async_wake(const async_wake&) = delete;
  async_wake& operator=(const async_wake&) = delete;

  void send();  // thread-safe

 private:
  std::function<void()> on_wake_;  // called on the loop thread
  uv_ptr<uv_async_t> handle_;      // the libuv async handle
};

}  // namespace argon::common
