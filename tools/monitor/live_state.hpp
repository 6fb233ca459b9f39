// What the live view knows about the broker, built from events alone.
//
// Workers come from worker_joined (the broker replays the ones it knows to
// a new subscriber) and from task_dispatched; each worker's running tasks
// come and go with task_dispatched and the task's end (done, failed,
// requeued). The latest stats event gives totals, rates and percentiles.
// Recent failures and refused connections are kept in short rings. Every
// table is bounded, so lost events (a slow monitor drops) cannot make it
// grow without limit.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "monitor_events.hpp"

namespace argon::tools {

// One worker as the view shows it.
struct worker_view {
  std::string address;              // from worker_joined
  std::uint64_t capacity = 0;       // from worker_joined; 0 when unknown
  std::uint64_t done = 0;           // task_done events seen for it
  std::set<std::string> running;    // task ids dispatched to it and not ended
};

// A line of history (a failure or a refused connection).
struct recent_line {
  std::uint64_t time_ms = 0;  // when the broker published it
  std::string text;           // what to show
};

class live_state {
 public:
  // Updates the state with one event.
  void apply(const common::monitor::event& e);

  [[nodiscard]] const std::map<std::string, worker_view>& workers() const { return workers_; }
  [[nodiscard]] const common::monitor::stats& stats() const { return stats_; }
  [[nodiscard]] bool has_stats() const { return stats_seen_ > 0; }
  [[nodiscard]] const std::deque<recent_line>& failures() const { return failures_; }
  [[nodiscard]] const std::deque<recent_line>& refusals() const { return refusals_; }
  [[nodiscard]] std::uint64_t events() const { return events_; }
  [[nodiscard]] std::uint64_t done() const { return done_; }
  [[nodiscard]] std::uint64_t failed() const { return failed_; }
  [[nodiscard]] std::uint64_t submitted() const { return submitted_; }
  // The task name of a running task, "" when unknown.
  [[nodiscard]] std::string task_name(const std::string& id) const;

  static constexpr std::size_t recent_kept = 6;      // lines kept per history ring
  static constexpr std::size_t tasks_kept = 100000;  // running tasks tracked at most

 private:
  void on_dispatched(const common::monitor::task_dispatched& d);
  void end_task(const std::string& id);
  void remember(std::deque<recent_line>& ring, std::uint64_t time_ms, std::string text);

  std::map<std::string, worker_view> workers_;                  // by worker id
  std::unordered_map<std::string, std::string> task_worker_;    // running task id -> worker id
  std::unordered_map<std::string, std::string> task_names_;     // submitted task id -> task name
  common::monitor::stats stats_;                                // the latest stats event
  std::uint64_t stats_seen_ = 0;                                // stats events seen
  std::deque<recent_line> failures_;                            // newest first
  std::deque<recent_line> refusals_;                            // auth failures, newest first
  std::uint64_t events_ = 0;                                    // events applied
  std::uint64_t submitted_ = 0;                                 // task_submitted seen
  std::uint64_t done_ = 0;                                      // task_done seen
  std::uint64_t failed_ = 0;                                    // task_failed seen
};

}  // namespace argon::tools
