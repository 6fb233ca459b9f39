// Test fixture: an argon::client that keeps a window of tasks in flight, and a
// ledger of what came back for each, by submission and by task id.
//
// The test plans each task (its name, input, options and the output it must
// give); every outcome submits the next one until stop_feeding(). Once
// drained(), faults() lists what breaks the delivery guarantee of
// docs/operations.md, by sort: a submission without exactly one outcome, a
// task id with more than one, and any outcome that outcome_problem() does not
// allow. records() gives each task's fate for rules of the test's own.
// Header-only: the tests that use it link the client library.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "argon/client.hpp"
#include "outcome_rule.hpp"

namespace argon::test {

// One task as the test wants it run.
struct planned_task {
  std::string name;      // task name
  std::string input;     // payload
  submit_options opts;   // priority, max_attempts
  std::string expected;  // the output it must give
};

// What became of one submission.
struct task_record {
  std::string name;                                  // task name
  std::uint32_t max_attempts = 0;                    // starts the broker may make
  std::string expected;                              // the output it must give
  std::chrono::steady_clock::time_point submitted{}; // when it was submitted
  std::chrono::steady_clock::time_point ended{};     // when its (last) outcome came
  int outcomes = 0;                                  // outcomes delivered; 1 is right
  std::string id;                                    // the task id, from the outcome
  std::string kind;                                  // the failure kind; "" for a result
  std::string problem;                               // what outcome_problem() found; "" when allowed
};

class windowed_client {
 public:
  // Called under the ledger's lock, one call at a time, with the submission's index.
  using planner = std::function<planned_task(std::size_t index)>;

  windowed_client(client_options opts, std::size_t window, planner plan) : plan_(std::move(plan)), c_(std::move(opts)) {
    for (std::size_t i = 0; i < window; ++i) submit_next();
  }
  ~windowed_client() { feeding_ = false; }
  windowed_client(const windowed_client&) = delete;
  windowed_client& operator=(const windowed_client&) = delete;

  void stop_feeding() { feeding_ = false; }
  bool drained() {
    std::lock_guard lock(m_);
    return resolved_ == records_.size();
  }
  common::status_reply_msg status() { return c_.status(); }

  std::vector<task_record> records() {
    std::lock_guard lock(m_);
    return records_;
  }
  // Outcomes by kind ("done" for results).
  std::map<std::string, long> kinds() {
    std::lock_guard lock(m_);
    return kinds_;
  }
  // What breaks the guarantee, by sort; empty when nothing does.
  std::map<std::string, std::vector<std::string>> faults() {
    std::lock_guard lock(m_);
    std::map<std::string, std::vector<std::string>> found;
    for (std::size_t i = 0; i < records_.size(); ++i) {
      const task_record& r = records_[i];
      if (r.outcomes != 1) found["not one outcome"].push_back(fmt::format("task #{} ('{}') had {}", i, r.id, r.outcomes));
      if (!r.problem.empty()) found[fmt::format("outcome not allowed: {}", r.kind)].push_back(r.problem);
    }
    for (const auto& [id, n] : ids_)
      if (n > 1) found["an id twice"].push_back(fmt::format("'{}' had {} outcomes", id, n));
    return found;
  }

 private:
  // Plans the next task under the lock, then submits it; its outcome submits the next one.
  void submit_next() {
    std::size_t i;
    planned_task t;
    {
      std::lock_guard lock(m_);
      i = records_.size();
      t = plan_(i);
      task_record r;
      r.name = t.name;
      r.max_attempts = t.opts.max_attempts;
      r.expected = t.expected;
      r.submitted = std::chrono::steady_clock::now();
      records_.push_back(std::move(r));
    }
    c_.submit(std::move(t.name), std::move(t.input), t.opts, [this, i](result out) {
      record(i, out);
      if (feeding_) submit_next();
    });
  }

  void record(std::size_t i, const result& out) {
    std::lock_guard lock(m_);
    task_record& r = records_[i];
    if (r.outcomes++ == 0) ++resolved_;
    r.ended = std::chrono::steady_clock::now();
    r.id = out.id();
    r.kind = out.ok() ? "" : out.error_kind();
    ++ids_[out.id()];
    ++kinds_[out.ok() ? "done" : out.error_kind()];
    if (r.problem.empty())
      r.problem = outcome_problem(out.id(), out.ok(), out.ok() ? out.value() : "", out.error_kind(), out.error_message(),
                                  r.expected, r.max_attempts);
  }

  planner plan_;                         // what each task is; under m_
  std::mutex m_;                         // outcomes arrive on the client's I/O thread
  std::vector<task_record> records_;     // by submission
  std::map<std::string, int> ids_;       // outcomes per task id
  std::map<std::string, long> kinds_;    // outcomes by kind
  std::size_t resolved_ = 0;             // submissions with an outcome
  std::atomic<bool> feeding_{true};      // outcomes submit more tasks
  client c_;                             // last: destroyed first, while the ledger still exists
};

}  // namespace argon::test
