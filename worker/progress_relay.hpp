// Carries a slot's progress reports from its handler thread to the broker.
//
// offer() may be called from any thread, any number of times; it only
// stores the latest report and, if none is scheduled, posts one wake-up to
// the loop thread. There the report is sent on the worker's control channel
// at once, or, when the task's last PROGRESS left less than min_gap ago,
// by a timer when the gap is over, so each task sends at most one PROGRESS
// per min_gap (about five a second) and always its latest. Reports for a
// task that has ended are dropped: its DONE supersedes them.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "clock.hpp"
#include "handler_thread.hpp"
#include "protocol.hpp"
#include "uv_handles.hpp"

namespace argon::worker {

// Sends one PROGRESS; empty while the worker has no control channel.
using progress_sender = std::function<void(const common::progress_msg&)>;

class progress_relay {
 public:
  static constexpr common::millis min_gap{200};  // between two PROGRESS of one task

  // send is read on the loop thread each time, so it may be set after construction.
  progress_relay(uv_loop_t* loop, completion_queue& posts, const progress_sender& send);
  progress_relay(const progress_relay&) = delete;
  progress_relay& operator=(const progress_relay&) = delete;

  // Loop thread: a task starts; reports now belong to it.
  void begin(const std::string& task_id);
  // Loop thread: the task ended; a report not yet sent is dropped.
  void end();
  // Any thread: the running task's latest progress.
  void offer(unsigned percent, std::string message);

 private:
  void flush();  // loop thread

  completion_queue& posts_;                     // wakes the loop thread
  const progress_sender& send_;                 // the control channel
  std::mutex mutex_;                            // guards the three fields below
  std::string task_id_;                         // the running task; empty between tasks
  std::optional<common::progress_msg> pending_; // latest report not yet sent
  bool scheduled_ = false;                      // a flush is posted or its timer armed
  common::steady_clock clock_;                  // for the gap
  common::time_point last_sent_{};              // this task's last PROGRESS
  common::timer timer_;                         // sends when the gap is over
};

}  // namespace argon::worker
