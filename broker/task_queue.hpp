// The bounded task queue: three FIFO lanes served high, normal, low.
//
// It holds pointers to tasks owned by the broker's task table and never
// copies a payload. Limits are in tasks and in payload bytes; would_accept()
// says whether one more task fits, and the broker answers BUSY when it does
// not. A task that has waited longer than the aging threshold moves up one
// lane (to the back), so low priority work cannot starve. All timing comes
// from the clock passed in.
#pragma once

#include <array>
#include <cstddef>
#include <list>

#include "clock.hpp"
#include "task.hpp"

namespace argon::broker {

class task_queue {
 public:
  // Appends a task to the back of its lane.
  void push(task& t, common::time_point now);
  // Puts a task back at the front of its lane (requeue after a lost slot).
  void push_front(task& t);
  // Takes the oldest task of the highest non-empty lane; null when empty.
  [[nodiscard]] task* pop();
  // Removes a queued task (cancel).
  void remove(task& t);
  // Moves tasks that waited longer than max_wait up one lane; returns how many.
  std::size_t promote(common::time_point now, common::millis max_wait);

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t size(common::priority lane) const { return lanes_[index(lane)].size(); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  static std::size_t index(common::priority p) { return static_cast<std::size_t>(p); }
  void unlink(task& t);

  std::array<std::list<task*>, 3> lanes_;  // high, normal, low; oldest first
  std::size_t size_ = 0;                   // tasks queued in all lanes
  std::size_t bytes_ = 0;                  // payload bytes queued
};

}  // namespace argon::broker
