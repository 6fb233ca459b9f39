// The broker's task table: every task from its SUBMIT until its outcome is
// sent, and the only code that changes a task's state.
//
// The table owns the tasks (stable addresses), the task queue they wait
// in, their deadlines (soonest first), the outcome cache, and the link
// between a running task and its slot (task::running_on and slot::running,
// always set and cleared together). The broker's handlers ask it to add,
// start, requeue, fail and finish tasks; they read tasks but never write them.
//
// A task's life:
//
//   add ──► queued ──start──► running ──accept_done──► finished (outcome sent)
//             ▲                 │
//             └────requeue──────┘   (slot lost or restarted, stale result;
//                                     attempts used up: fails worker_lost)
//   fail: a queued or running task finishes at once (timeout, cancel); a
//   running one's worker is told to stop, and its slot stays busy, with no
//   task, until its DONE comes.
//
// Every task finishes through finish(): the outcome is counted, reported
// to the observer, delivered to the client through the outbox (where it
// waits while the client is behind), and kept in the outcome cache, so a
// resubmission gets it again instead of a second run.
//
// Invariants (violations() lists any that fail; builds with
// ARGON_CHECK_INVARIANTS check them after every change): each task is in
// exactly one state; a queued task is in the queue and on no slot; a
// running task is on exactly one slot, which points back at it; no slot
// runs a task the table does not hold; a task has a deadline entry exactly
// when it has a timeout.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "clock.hpp"
#include "outcome_cache.hpp"
#include "observer.hpp"
#include "outbox.hpp"
#include "stats.hpp"
#include "task.hpp"
#include "task_queue.hpp"
#include "worker_registry.hpp"

namespace argon::broker {

// How often a task may come back unstarted from a slot without using an
// attempt; past it, such returns count, so no task can bounce for ever.
constexpr std::uint32_t max_unstarted_returns = 3;

class task_table {
 public:
  // How long and how much the outcome cache keeps (--result-ttl-ms, --result-bytes-limit).
  struct cache_limits {
    common::millis ttl;       // how long an outcome is kept
    std::size_t bytes = 0;    // bytes kept at most
  };

  task_table(common::clock& clk, cache_limits limits, outbox& out, observer& seen, stats& st)
      : clock_(clk), outcomes_(limits.ttl, limits.bytes), out_(out), seen_(seen), stats_(st) {}
  task_table(const task_table&) = delete;
  task_table& operator=(const task_table&) = delete;

  // The table key of a client's task: routing id + '\n' + task id.
  [[nodiscard]] static std::string key_of(std::string_view client, std::string_view id);

  // The unfinished task a client gave this id, or null.
  [[nodiscard]] task* find(std::string_view client, std::string_view id);
  // For a SUBMIT of an id the client used before: true when the task is
  // unfinished (its one outcome will come) or finished recently (its kept
  // outcome is sent again now); false when the id is new.
  bool answer_known(std::string_view client, std::string_view id);
  // Creates a task from an accepted SUBMIT (moving its fields and payload)
  // and queues it at the back of its lane; route is from route_of().
  task& add(std::string_view client, common::submit_msg& m, zmq::message_t& payload, std::string route);

  // Takes out of the queue the best task worker w can run (any task when it
  // announced nothing); null when there is none. start() must follow at once.
  [[nodiscard]] task* take_next(const worker_record& w, std::uint32_t lanes = common::all_lanes);
  // Tasks running now that were submitted in lane p (aged or not).
  [[nodiscard]] std::size_t running_in(common::priority p) const { return running_by_lane_[static_cast<std::size_t>(p)]; }
  // Runs t on slot s (taken ready from the registry): links them, counts
  // the attempt and sends TASK. False when s is unreachable: t is queued
  // again at the front of its lane, and the caller forgets the slot.
  bool start(task& t, slot& s);
  // A DONE from the slot with this routing id (null: a slot the registry
  // did not know). Finishes the task the slot runs when the ids match and
  // returns true; otherwise drops the result, requeues the slot's task if
  // it has another one (stale_result), and returns false.
  bool accept_done(slot* s, common::done_msg& m, zmq::message_t& payload);
  // Finishes t with its outcome (result_msg with output, or failed_msg).
  void finish(task& t, const common::body& outcome, zmq::message_t* output);
  static void keep_output(zmq::message_t& kept, zmq::message_t& output);  // what outcomes_ keeps of an output
  // Finishes t from the broker's side with FAILED kind/text (timeout, cancel).
  void fail(task& t, const char* kind, const std::string& text);
  // A running task lost its slot: back to the front of its lane, or failed
  // worker_lost once it has used max_attempts starts. why names the loss in
  // the monitor's task_requeued (worker_lost, slot_restarted, stale_result).
  void requeue(task& t, const char* why);
  // Slot s is going away or started over: its task, if any, is requeued.
  void release(slot& s, const char* why);
  // Slot s said READY while its task was on the way to it, from the same worker
  // process: the slot replaced its socket while idle, so the TASK never reached
  // it. The task goes back to the front of its lane without using an attempt,
  // at most max_unstarted_returns times (then it is released as slot_restarted).
  // Returns false, changing nothing, when that cannot be told.
  bool return_unstarted(slot& s);

  // Fails every task past its deadline and forgets expired outcomes.
  void expire(common::time_point now);
  // The soonest deadline; empty when no task has a timeout.
  [[nodiscard]] std::optional<common::time_point> next_deadline() const;
  // Moves tasks that waited longer than max_wait up one lane.
  void promote(common::time_point now, common::millis max_wait) { queue_.promote(now, max_wait); }

  [[nodiscard]] const task_queue& queue() const { return queue_; }
  [[nodiscard]] const outcome_cache& outcomes() const { return outcomes_; }
  // Tasks accepted whose outcome has not been sent yet.
  [[nodiscard]] std::size_t size() const { return tasks_.size(); }
  // Of which running on a slot.
  [[nodiscard]] std::size_t running() const { return tasks_.size() - queue_.size(); }

  // Every broken invariant, described; empty when all hold. O(tasks + slots).
  [[nodiscard]] std::vector<std::string> violations(const worker_registry& workers) const;
  // In builds with ARGON_CHECK_INVARIANTS, aborts when violations() is not empty.
  void check(const worker_registry& workers) const;

 private:
  void unlink(task& t);
  void abandon(task& t);
  void erase(task& t);

  common::clock& clock_;  // time source (fake in tests)
  std::unordered_map<std::string, task, string_hash, std::equal_to<>> tasks_;  // by key_of(client, id)
  std::multimap<common::time_point, task*> deadlines_;  // tasks with a timeout, soonest first
  task_queue queue_;         // queued tasks, by route and lane
  std::array<std::size_t, 3> running_by_lane_{};  // tasks running, by the lane they were submitted in
  outcome_cache outcomes_;  // outcomes of recently finished tasks, for resubmissions
  outbox& out_;              // the one way onto the ROUTER
  observer& seen_;           // monitor hooks
  stats& stats_;             // counters and averages
};

}  // namespace argon::broker
