#include "outcome_cache.hpp"

namespace argon::broker {

namespace {

// What an entry costs besides its output: the key, the header fields and the nodes.
constexpr std::size_t entry_overhead = 256;

std::size_t outcome_bytes(const common::body& b) {
  if (auto* f = std::get_if<common::failed_msg>(&b)) return f->id.size() + f->kind.size() + f->message.size();
  if (auto* r = std::get_if<common::result_msg>(&b)) return r->id.size();
  return 0;
}

}  // namespace

void outcome_cache::put(const std::string& key, common::body outcome, zmq::message_t output, common::time_point now) {
  if (auto old = entries_.find(key); old != entries_.end()) erase(old);
  const std::size_t cost = entry_overhead + key.size() + outcome_bytes(outcome) + output.size();
  if (cost > budget_) return;
  while (bytes_ + cost > budget_ && !order_.empty()) evict_oldest();
  auto [it, added] = entries_.try_emplace(key);
  kept_outcome& f = it->second;
  f.outcome = std::move(outcome);
  f.output = std::move(output);
  f.expires = now + ttl_;
  f.cost = cost;
  f.pos = order_.insert(order_.end(), &it->first);
  bytes_ += cost;
}

kept_outcome* outcome_cache::find(std::string_view key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

std::size_t outcome_cache::expire(common::time_point now) {
  std::size_t gone = 0;
  while (!order_.empty() && entries_.find(*order_.front())->second.expires <= now) {
    evict_oldest();
    ++gone;
  }
  return gone;
}

void outcome_cache::evict_oldest() { erase(entries_.find(*order_.front())); }

void outcome_cache::erase(entry_map::iterator it) {
  bytes_ -= it->second.cost;
  order_.erase(it->second.pos);
  entries_.erase(it);
}

}  // namespace argon::broker
