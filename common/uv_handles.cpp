#include "uv_handles.hpp"

#include <string>

#include "errors.hpp"

namespace argon::common {
namespace {
void check(int rc, const char* what) {
  if (rc < 0) throw system_error(std::string(what) + ": " + uv_strerror(rc));
}
}  // namespace

event_loop::event_loop() { check(uv_loop_init(&loop_), "uv_loop_init"); }

event_loop::~event_loop() {
  uv_run(&loop_, UV_RUN_NOWAIT);  // let pending close callbacks free their handles
  uv_loop_close(&loop_);
}

timer::timer(uv_loop_t* loop, std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {
  auto h = std::make_unique<uv_timer_t>();
  check(uv_timer_init(loop, h.get()), "uv_timer_init");
  handle_.reset(h.release());
  handle_->data = this;
}

void timer::start(millis after, millis repeat) {
  uv_timer_start(handle_.get(), [](uv_timer_t* t) {
    if (!t->data) return;
    auto fire = static_cast<timer*>(t->data)->on_fire_;  // a copy: the callback may destroy its timer
    fire();
  }, static_cast<std::uint64_t>(after.count()), static_cast<std::uint64_t>(repeat.count()));
}

void timer::stop() { uv_timer_stop(handle_.get()); }

signal_watch::signal_watch(uv_loop_t* loop, int signum, std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)) {
  auto h = std::make_unique<uv_signal_t>();
  check(uv_signal_init(loop, h.get()), "uv_signal_init");
  handle_.reset(h.release());
  handle_->data = this;
  check(uv_signal_start(handle_.get(), [](uv_signal_t* s, int n) {
    if (s->data) static_cast<signal_watch*>(s->data)->on_signal_(n);
  }, signum), "uv_signal_start");
}

async_wake::async_wake(uv_loop_t* loop, std::function<void()> on_wake) : on_wake_(std::move(on_wake)) {
  auto h = std::make_unique<uv_async_t>();
  check(uv_async_init(loop, h.get(), [](uv_async_t* a) {
    if (a->data) static_cast<async_wake*>(a->data)->on_wake_();
  }), "uv_async_init");
  handle_.reset(h.release());
  handle_->data = this;
}

void async_wake::send() { uv_async_send(handle_.get()); }

}  // namespace argon::common
