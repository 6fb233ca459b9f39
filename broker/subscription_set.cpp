#include "subscription_set.hpp"

namespace argon::broker {

bool subscription_set::apply(std::string_view message) {
  if (message.empty() || (message[0] != 0 && message[0] != 1)) return false;
  std::string_view prefix = message.substr(1);
  if (message[0] == 1) prefixes_.emplace(prefix);
  else if (auto it = prefixes_.find(prefix); it != prefixes_.end()) prefixes_.erase(it);
  recompute();
  return true;
}

bool subscription_set::subscribes_to(std::string_view message, std::size_t kind) {
  return !message.empty() && message[0] == 1 && std::string_view(common::monitor::name_of(kind)).starts_with(message.substr(1));
}

void subscription_set::recompute() {
  wanted_ = 0;
  for (std::size_t k = 0; k < common::monitor::kind_count; ++k) {
    const std::string_view name = common::monitor::name_of(k);
    for (const auto& p : prefixes_)
      if (name.starts_with(p)) {
        wanted_ |= 1u << k;
        break;
      }
  }
}

}  // namespace argon::broker
