#include "progress_relay.hpp"

namespace argon::worker {

progress_relay::progress_relay(uv_loop_t* loop, completion_queue& posts, const progress_sender& send)
    : posts_(posts), send_(send), timer_(loop, [this] { flush(); }) {}

void progress_relay::begin(const std::string& task_id) {
  std::lock_guard lock(mutex_);
  task_id_ = task_id;
  pending_.reset();
  last_sent_ = {};
}

void progress_relay::end() {
  timer_.stop();
  std::lock_guard lock(mutex_);
  task_id_.clear();
  pending_.reset();
  scheduled_ = false;
}

void progress_relay::offer(unsigned percent, std::string message) {
  {
    std::lock_guard lock(mutex_);
    if (task_id_.empty()) return;
    pending_ = common::progress_msg{task_id_, percent, std::move(message)};
    if (scheduled_) return;
    scheduled_ = true;
  }
  posts_.post([this] { flush(); });
}

void progress_relay::flush() {
  std::optional<common::progress_msg> out;
  {
    std::lock_guard lock(mutex_);
    if (!pending_) {
      scheduled_ = false;
      return;
    }
    const auto since = clock_.now() - last_sent_;
    if (since < min_gap) {
      timer_.start(std::chrono::duration_cast<common::millis>(min_gap - since) + common::millis(1));
      return;
    }
    out.swap(pending_);
    scheduled_ = false;
    last_sent_ = clock_.now();
  }
  if (send_) send_(*out);
}

}  // namespace argon::worker
