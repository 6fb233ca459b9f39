#include "handler_thread.hpp"

namespace argon::worker {

completion_queue::completion_queue(uv_loop_t* loop) : wake_(loop, [this] { run_posted(); }) {}

void completion_queue::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(fn));
  }
  wake_.send();
}

void completion_queue::run_posted() {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(posted_);
  }
  for (auto& fn : ready) fn();
}

handler_thread::handler_thread(completion_queue& done) : done_(done), thread_([this] { serve(); }) {}

handler_thread::~handler_thread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void handler_thread::run(std::function<void()> job, std::function<void()> then_on_loop) {
  {
    std::lock_guard lock(mutex_);
    job_ = std::move(job);
    then_ = std::move(then_on_loop);
  }
  wake_.notify_one();
}

void handler_thread::serve() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || job_; });
    if (stop_) return;
    auto job = std::move(job_);
    auto then = std::move(then_);
    job_ = nullptr;
    lock.unlock();
    job();
    done_.post(std::move(then));
    lock.lock();
  }
}

}  // namespace argon::worker
