// What the broker learned about each worker process from its HELLO: the
// capacity it announced and its control channel's address. STATUS with
// workers and the monitor's worker_joined replay read it. An entry lives
// from HELLO (or a returning worker's heartbeat) until the worker leaves,
// so it never outgrows the worker registry.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "worker_registry.hpp"

namespace argon::broker {

// One worker's announced details.
struct worker_card {
  std::uint32_t capacity = 0;  // slots announced in HELLO; 0 when unknown
  std::string address;         // control channel's peer address ("" when unknown)
};

class worker_book {
 public:
  // Records a HELLO; a capacity of 0 keeps the one already known.
  const worker_card& note(std::string_view worker, std::uint32_t capacity, std::string address) {
    worker_card& c = cards_[std::string(worker)];
    if (capacity) c.capacity = capacity;
    if (!address.empty()) c.address = std::move(address);
    return c;
  }
  // Forgets a worker that left; false if it was not known.
  bool forget(std::string_view worker) {
    auto it = cards_.find(worker);
    if (it == cards_.end()) return false;
    cards_.erase(it);
    return true;
  }
  // The card of a worker, or null.
  [[nodiscard]] const worker_card* find(std::string_view worker) const {
    auto it = cards_.find(worker);
    return it == cards_.end() ? nullptr : &it->second;
  }
  template <class F> void each(F fn) const {
    for (const auto& [id, card] : cards_) fn(id, card);
  }

 private:
  std::unordered_map<std::string, worker_card, string_hash, std::equal_to<>> cards_;  // by worker id
};

}  // namespace argon::broker
