#include "task_queue.hpp"

#include <algorithm>

namespace argon::broker {

void task_queue::push(task& t, common::time_point now) {
  t.queued_at = now;
  link(t, false);
}

void task_queue::push_front(task& t) { link(t, true); }

void task_queue::link(task& t, bool front) {
  if (routes_.size() >= prune_at_ && routes_.find(t.route) == routes_.end()) prune_routes();
  auto& lane = routes_[t.route][index(t.lane)];
  t.queue_seq = front ? --front_seq_ : ++back_seq_;
  t.queue_pos = lane.insert(front ? lane.begin() : lane.end(), &t);
  ++lane_sizes_[index(t.lane)];
  ++size_;
  bytes_ += t.payload.size();
}

// The front of a route's highest non-empty lane among those in mask.
task* task_queue::best_of(const lanes& l, std::uint32_t mask) {
  for (std::size_t i = 0; i < l.size(); ++i)
    if ((mask >> i & 1u) && !l[i].empty()) return l[i].front();
  return nullptr;
}

task* task_queue::pop_for(const route_filter& can_take, std::uint32_t lanes) {
  task* best = nullptr;
  for (auto& [route, l] : routes_) {
    if (can_take && !can_take(route)) continue;
    task* t = best_of(l, lanes);
    if (t && (!best || t->lane < best->lane || (t->lane == best->lane && t->queue_seq < best->queue_seq))) best = t;
  }
  if (best) unlink(*best);
  return best;
}

void task_queue::remove(task& t) { unlink(t); }

void task_queue::unlink(task& t) {
  auto it = routes_.find(t.route);
  it->second[index(t.lane)].erase(t.queue_pos);
  t.queue_pos = {};
  --lane_sizes_[index(t.lane)];
  --size_;
  bytes_ -= t.payload.size();
}

// Empty routes are kept so a busy route does not allocate on every push;
// past a threshold the empty ones go, and the threshold follows the live count.
void task_queue::prune_routes() {
  std::erase_if(routes_, [](auto& r) { return best_of(r.second) == nullptr; });
  prune_at_ = std::max<std::size_t>(64, 2 * routes_.size());
}

std::size_t task_queue::promote(common::time_point now, common::millis max_wait) {
  std::size_t moved = 0;
  for (auto& [route, l] : routes_) moved += promote(l, now, max_wait);
  return moved;
}

std::size_t task_queue::promote(lanes& l, common::time_point now, common::millis max_wait) {
  std::size_t moved = 0;
  for (std::size_t from = 1; from < l.size(); ++from) {
    auto& lane = l[from];
    auto& up = l[from - 1];
    while (!lane.empty() && now - lane.front()->queued_at > max_wait) {
      task* t = lane.front();
      t->lane = static_cast<common::priority>(from - 1);
      t->queued_at = now;
      t->queue_seq = ++back_seq_;
      up.splice(up.end(), lane, lane.begin());
      t->queue_pos = std::prev(up.end());
      --lane_sizes_[from];
      ++lane_sizes_[from - 1];
      ++moved;
    }
  }
  return moved;
}

}  // namespace argon::broker
