// The per-peer log limiter: a small table of peers with their held-back counts.
#include "peer_log_limiter.hpp"

#include <fmt/format.h>

namespace argon::broker {
namespace {

constexpr const char* others = "other addresses";

}  // namespace

std::string peer_log_limiter::with_count(std::string line, std::uint64_t count, const std::string& peer) {
  if (count == 0) return line;
  return fmt::format("{} ({} more from {} not logged)", line, count, peer);
}

std::optional<std::string> peer_log_limiter::admit(const std::string& peer, std::string line, common::time_point now) {
  const std::string& key = peers_.contains(peer) || peers_.size() < max_peers_ ? peer : others;
  auto [it, fresh] = peers_.try_emplace(key, entry{now, 0, ""});
  entry& e = it->second;
  if (fresh) return line;
  if (now - e.since < interval_) {
    ++e.held;
    e.last = std::move(line);
    return std::nullopt;
  }
  std::string out = with_count(std::move(line), e.held, key);
  e = entry{now, 0, ""};
  return out;
}

std::vector<std::string> peer_log_limiter::expire(common::time_point now) {
  std::vector<std::string> due;
  for (auto it = peers_.begin(); it != peers_.end();) {
    entry& e = it->second;
    if (now - e.since < interval_) {
      ++it;
    } else if (e.held == 0) {
      it = peers_.erase(it);
    } else {
      due.push_back(with_count(std::move(e.last), e.held - 1, it->first));
      e = entry{now, 0, ""};  // the summary is this interval's line
      ++it;
    }
  }
  return due;
}

}  // namespace argon::broker
