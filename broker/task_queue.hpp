// The bounded task queue: three lanes served high, normal, low, kept per
// route (task name, or program for "exec") so that a slot can take the
// best task its worker can run without scanning tasks it cannot.
//
// Within a lane, clients take turns (start-time fair queuing): each task
// gets a tag, one more than the larger of its client's last tag in that
// lane and the lane's virtual time (the tag of the task dispatched last),
// and the lowest tag goes first, ties by arrival. A client that queues a
// thousand tasks gets tags far ahead; one that arrives later gets the next
// tag, so its task waits behind about one task of each other client with
// tasks queued, not behind the flood. One client alone is served in
// arrival order. A requeued task goes before everything in its lane.
//
// It holds pointers to tasks owned by the broker's task table and never
// copies a payload. Limits are in tasks and in payload bytes; the broker
// answers BUSY when one more does not fit. Across routes, the lane decides
// first, then the tag. A task that has waited longer than the aging
// threshold moves up one lane (taking a new turn there), so low priority
// work cannot starve; each lane also keeps its tasks oldest first for that.
// Aging changes a task's turn only: which slots may take it (pop_for's
// mask) still goes by the lane it was submitted in, so an aged low task
// never takes a slot kept for high tasks. Each lane therefore keeps its
// tasks apart by submitted lane, and a dispatch compares up to three fronts.
// Each push and pop costs O(log n) in the lane's tasks. All timing comes
// from the clock passed in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "clock.hpp"
#include "task.hpp"

namespace argon::broker {

class task_queue {
 public:
  // Says whether a route may be taken; an empty function takes any.
  using route_filter = std::function<bool(std::string_view route)>;

  // Appends a task to the back of its lane.
  void push(task& t, common::time_point now);
  // Puts a task back at the front of its lane (requeue after a lost slot).
  void push_front(task& t);
  // Takes the best task of any route; null when empty.
  [[nodiscard]] task* pop() { return pop_for({}); }
  // Takes the best task whose route passes the filter and whose submitted
  // lane is in the mask (bit per priority, as READY's lanes); null when none does.
  [[nodiscard]] task* pop_for(const route_filter& can_take, std::uint32_t lanes = common::all_lanes);
  // Removes a queued task (cancel).
  void remove(task& t);
  // Moves tasks that waited longer than max_wait up one lane; returns how many.
  std::size_t promote(common::time_point now, common::millis max_wait);

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t size(common::priority lane) const { return lane_sizes_[index(lane)]; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  // Clients with at least one task queued.
  [[nodiscard]] std::size_t clients() const { return queued_per_client_.size(); }
  // The n clients with the most tasks queued, most first (ties by routing
  // id), with their counts. O(clients × log n); for the once-a-second stats.
  [[nodiscard]] std::vector<std::pair<std::string, std::size_t>> top_clients(std::size_t n) const;
  // Tasks queued by one client (routing id).
  [[nodiscard]] std::size_t queued_by(std::string_view client) const {
    auto it = queued_per_client_.find(client);
    return it == queued_per_client_.end() ? 0 : it->second;
  }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  // The tasks of one route in one lane that were submitted in one lane: in
  // dispatch order and oldest first.
  struct lane_queue {
    std::set<task*, fair_order> by_turn;  // dispatch order: fair tag, then arrival
    std::list<task*> by_age;              // oldest first, for aging
  };
  // [lane now][lane submitted]; a task only ages upwards, so [i][j] with j < i stays empty.
  using lanes = std::array<std::array<lane_queue, 3>, 3>;
  std::uint64_t next_tag(const std::string& client, std::size_t lane);
  static std::size_t index(common::priority p) { return static_cast<std::size_t>(p); }
  static lane_queue& queue_of(lanes& l, const task& t) { return l[index(t.lane)][index(t.pri)]; }
  static task* best_of(const lanes& l, std::uint32_t mask = common::all_lanes);
  void link(task& t, bool front);
  void unlink(task& t);
  std::size_t promote(lanes& l, common::time_point now, common::millis max_wait);

  void prune_routes();

  std::unordered_map<std::string, lanes> routes_;  // routes seen; empty ones are pruned now and then
  std::size_t prune_at_ = 64;                      // prune empty routes when there are more than this
  std::array<std::size_t, 3> lane_sizes_{};        // tasks per lane, all routes
  std::size_t size_ = 0;                           // tasks queued
  std::size_t bytes_ = 0;                          // payload bytes queued
  std::int64_t front_seq_ = 0;                     // next push_front gets one less
  std::int64_t back_seq_ = 0;                      // next push gets one more
  std::unordered_map<std::string, std::size_t, string_hash, std::equal_to<>> queued_per_client_;  // tasks queued, by client
  std::array<std::uint64_t, 3> virtual_time_{};    // per lane: the fair tag of the task dispatched last
  std::array<std::unordered_map<std::string, std::uint64_t>, 3> client_tags_;  // per lane: each client's last tag
};

}  // namespace argon::broker
