// Test fixture: every outcome a client library reported, by task id, sorted
// into done (the output is the task's own input, as echo-like tasks give),
// the one failure kind a test tolerates (e.g. worker_lost after the attempts
// ran out), and anything else, which is a defect. The client calls back on
// its I/O thread, so every member is read under the mutex. Header-only.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "argon/client.hpp"

namespace argon::test {

struct outcome_ledger {
  // tolerated: a failure kind that counts as lost rather than as a defect; "" for none.
  explicit outcome_ledger(std::string tolerated = "") : tolerated_kind(std::move(tolerated)) {}

  void record(const std::string& input, const result& r) {
    std::lock_guard lock(mutex);
    ++outcomes[r.id()];
    if (r.ok() && r.value() == input) ++done;
    else if (!r.ok() && !tolerated_kind.empty() && r.error_kind() == tolerated_kind) ++lost;
    else other.push_back(r.id() + ": " + (r.ok() ? "wrong output " + r.value() : r.error_kind() + " " + r.error_message()));
  }
  std::size_t resolved() {
    std::lock_guard lock(mutex);
    return done + lost + other.size();
  }

  std::string tolerated_kind;             // failures of this kind count as lost
  std::mutex mutex;                       // guards everything below
  std::map<std::string, int> outcomes;    // outcomes seen per task id
  std::size_t done = 0;                   // completed with the right output
  std::size_t lost = 0;                   // failed with the tolerated kind
  std::vector<std::string> other;         // anything else: a defect
};

}  // namespace argon::test
