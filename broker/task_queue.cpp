#include "task_queue.hpp"

namespace argon::broker {

void task_queue::push(task& t, common::time_point now) {
  t.queued_at = now;
  auto& lane = lanes_[index(t.lane)];
  t.queue_pos = lane.insert(lane.end(), &t);
  ++size_;
  bytes_ += t.payload.size();
}

void task_queue::push_front(task& t) {
  auto& lane = lanes_[index(t.lane)];
  t.queue_pos = lane.insert(lane.begin(), &t);
  ++size_;
  bytes_ += t.payload.size();
}

task* task_queue::pop() {
  for (auto& lane : lanes_) {
    if (lane.empty()) continue;
    task* t = lane.front();
    unlink(*t);
    return t;
  }
  return nullptr;
}

void task_queue::remove(task& t) { unlink(t); }

void task_queue::unlink(task& t) {
  lanes_[index(t.lane)].erase(t.queue_pos);
  t.queue_pos = {};
  --size_;
  bytes_ -= t.payload.size();
}

std::size_t task_queue::promote(common::time_point now, common::millis max_wait) {
  std::size_t moved = 0;
  for (std::size_t from = 1; from < lanes_.size(); ++from) {
    auto& lane = lanes_[from];
    auto& up = lanes_[from - 1];
    while (!lane.empty() && now - lane.front()->queued_at > max_wait) {
      task* t = lane.front();
      t->lane = static_cast<common::priority>(from - 1);
      t->queued_at = now;
      up.splice(up.end(), lane, lane.begin());
      t->queue_pos = std::prev(up.end());
      ++moved;
    }
  }
  return moved;
}

}  // namespace argon::broker
