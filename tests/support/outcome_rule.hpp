// Test fixture: the delivery guarantee's rule for one task outcome.
//
// docs/operations.md ("Delivery guarantee"): an accepted task ends in its own
// output, or, when the worker running it was lost on every one of its
// max_attempts starts, in FAILED worker_lost ("lost on each of N attempts").
// Tests that run tasks with no timeout, no cancel and only known task names
// hold every outcome to this rule; anything else is reported.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace argon::test {

// "" when the outcome keeps the guarantee for a task sent with this input and
// max_attempts; otherwise what is wrong, naming the id.
inline std::string outcome_problem(const std::string& id, bool ok, const std::string& value, const std::string& kind,
                                   const std::string& message, const std::string& input, std::uint32_t max_attempts) {
  if (ok) return value == input ? "" : fmt::format("{}: wrong output ({} bytes, sent {})", id, value.size(), input.size());
  if (kind == "worker_lost" && message.find(fmt::format("each of {} attempts", max_attempts)) != std::string::npos)
    return "";
  return fmt::format("{}: {} ({}) with max_attempts {}", id, kind, message, max_attempts);
}

}  // namespace argon::test
