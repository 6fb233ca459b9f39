// Outcomes of recently finished tasks, kept so that nothing is run twice.
//
// When a task ends, its RESULT (with the output) or FAILED is kept here for
// the result TTL. A SUBMIT of the same (client, id) in that time is not run
// again: the broker sends the kept outcome instead. This is what makes a
// client's resubmission after a lost connection safe, and what lets a
// client that was briefly away still collect a result. Entries leave
// oldest first, when their TTL passes or when the byte budget needs room,
// so the cache never grows without bound. The TTL is the same for every
// entry, so insertion order is expiry order and one list serves both.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include <zmq.hpp>

#include "clock.hpp"
#include "protocol.hpp"
#include "worker_registry.hpp"

namespace argon::broker {

// One kept outcome.
struct kept_outcome {
  common::body outcome;        // the result_msg or failed_msg that was sent
  zmq::message_t output;       // the result's payload (empty for FAILED)
  common::time_point expires;  // when it may be forgotten
  std::size_t cost = 0;        // bytes charged against the budget
  std::list<const std::string*>::iterator pos;  // its place in the oldest-first list
};

class outcome_cache {
 public:
  outcome_cache(common::millis ttl, std::size_t byte_budget) : ttl_(ttl), budget_(byte_budget) {}

  // Keeps an outcome under key (replacing an older one), making room if needed.
  // An outcome larger than the whole budget is not kept.
  void put(const std::string& key, common::body outcome, zmq::message_t output, common::time_point now);
  // The kept outcome for key, or null.
  [[nodiscard]] kept_outcome* find(std::string_view key);
  // Forgets every entry whose TTL has passed; returns how many went.
  std::size_t expire(common::time_point now);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

 private:
  using entry_map = std::unordered_map<std::string, kept_outcome, string_hash, std::equal_to<>>;
  void evict_oldest();
  void erase(entry_map::iterator it);

  common::millis ttl_;           // how long an outcome is kept
  std::size_t budget_;           // bytes kept at most (outputs, keys and overhead)
  entry_map entries_;            // by task key
  std::list<const std::string*> order_;  // keys (owned by entries_), oldest first
  std::size_t bytes_ = 0;        // bytes charged now
};

}  // namespace argon::broker
