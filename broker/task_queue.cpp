#include "task_queue.hpp"

#include <algorithm>

namespace argon::broker {

void task_queue::push(task& t, common::time_point now) {
  t.queued_at = now;
  link(t, false);
}

void task_queue::push_front(task& t) { link(t, true); }

// A client's next turn in a lane: after its own last one, and never before
// the lane's present (so a client that was away does not jump the queue
// with turns it did not use).
std::uint64_t task_queue::next_tag(const std::string& client, std::size_t lane) {
  auto& tags = client_tags_[lane];
  if (tags.size() > 2 * size_ + 64)  // forget clients whose turns are all past
    std::erase_if(tags, [&](const auto& e) { return e.second <= virtual_time_[lane]; });
  std::uint64_t& last = tags[client];
  last = std::max(last, virtual_time_[lane]) + 1;
  return last;
}

void task_queue::link(task& t, bool front) {
  if (routes_.size() >= prune_at_ && routes_.find(t.route) == routes_.end()) prune_routes();
  const std::size_t i = index(t.lane);
  auto& lane = queue_of(routes_[t.route], t);
  t.queue_seq = front ? --front_seq_ : ++back_seq_;
  t.fair_tag = front ? 0 : next_tag(t.client, i);  // a requeued task goes before every turn
  t.turn_pos = lane.by_turn.insert(&t).first;
  t.age_pos = lane.by_age.insert(front ? lane.by_age.begin() : lane.by_age.end(), &t);
  ++lane_sizes_[i];
  ++size_;
  ++queued_per_client_[t.client];
  bytes_ += t.payload.size();
}

// The next task of a route: from its highest lane holding a task submitted
// in a lane of mask, the one with the first turn among them.
task* task_queue::best_of(const lanes& l, std::uint32_t mask) {
  for (std::size_t i = 0; i < l.size(); ++i) {
    task* best = nullptr;
    for (std::size_t from = i; from < l.size(); ++from) {
      const auto& q = l[i][from].by_turn;
      if ((mask >> from & 1u) && !q.empty() && (!best || fair_order{}(*q.begin(), best))) best = *q.begin();
    }
    if (best) return best;
  }
  return nullptr;
}

task* task_queue::pop_for(const route_filter& can_take, std::uint32_t lanes) {
  task* best = nullptr;
  for (auto& [route, l] : routes_) {
    if (can_take && !can_take(route)) continue;
    task* t = best_of(l, lanes);
    if (t && (!best || t->lane < best->lane || (t->lane == best->lane && fair_order{}(t, best)))) best = t;
  }
  if (!best) return nullptr;
  unlink(*best);
  auto& now = virtual_time_[index(best->lane)];
  now = std::max(now, best->fair_tag);
  return best;
}

void task_queue::remove(task& t) { unlink(t); }

std::vector<std::pair<std::string, std::size_t>> task_queue::top_clients(std::size_t n) const {
  std::vector<std::pair<std::string, std::size_t>> top(queued_per_client_.begin(), queued_per_client_.end());
  const auto more = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
  const auto end = top.begin() + static_cast<std::ptrdiff_t>(std::min(n, top.size()));
  std::partial_sort(top.begin(), end, top.end(), more);
  top.erase(end, top.end());
  return top;
}

void task_queue::unlink(task& t) {
  auto it = routes_.find(t.route);
  auto& lane = queue_of(it->second, t);
  lane.by_turn.erase(t.turn_pos);
  lane.by_age.erase(t.age_pos);
  t.turn_pos = {};
  t.age_pos = {};
  --lane_sizes_[index(t.lane)];
  --size_;
  if (auto c = queued_per_client_.find(t.client); --c->second == 0) queued_per_client_.erase(c);
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

// The oldest tasks of a lane that waited past max_wait take a new turn in the
// lane above, each beside the tasks submitted in the same lane as itself.
// Lanes are lifted top down, so a task moves at most one lane per call; in a
// lane, the tasks of each submitted lane move oldest first.
std::size_t task_queue::promote(lanes& l, common::time_point now, common::millis max_wait) {
  std::size_t moved = 0;
  for (std::size_t from = 1; from < l.size(); ++from) {
    for (std::size_t sub = from; sub < l.size(); ++sub) {
      auto& lane = l[from][sub];
      auto& up = l[from - 1][sub];
      while (!lane.by_age.empty() && now - lane.by_age.front()->queued_at > max_wait) {
        task* t = lane.by_age.front();
        lane.by_turn.erase(t->turn_pos);
        t->lane = static_cast<common::priority>(from - 1);
        t->queued_at = now;
        t->queue_seq = ++back_seq_;
        t->fair_tag = next_tag(t->client, from - 1);
        t->turn_pos = up.by_turn.insert(t).first;
        up.by_age.splice(up.by_age.end(), lane.by_age, lane.by_age.begin());
        t->age_pos = std::prev(up.by_age.end());
        --lane_sizes_[from];
        ++lane_sizes_[from - 1];
        ++moved;
      }
    }
  }
  return moved;
}

}  // namespace argon::broker
