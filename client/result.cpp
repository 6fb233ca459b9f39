// Results, task_failed and the busy backoff: the client's plain values.
#include <algorithm>
#include <cmath>

#include "argon/client.hpp"

namespace argon {

task_failed::task_failed(std::string kind, const std::string& message)
    : error(message), kind_(std::move(kind)) {}

result result::success(std::string id, std::string value) {
  result r;
  r.id_ = std::move(id);
  r.ok_ = true;
  r.value_ = std::move(value);
  return r;
}

result result::failure(std::string id, std::string kind, std::string message) {
  result r;
  r.id_ = std::move(id);
  r.kind_ = std::move(kind);
  r.message_ = std::move(message);
  return r;
}

result result::refused(std::string id, busy_info busy) {
  result r = failure(std::move(id), "busy",
                     "broker busy: queue " + std::to_string(busy.depth) + "/" + std::to_string(busy.limit) +
                         ", capacity " + std::to_string(busy.capacity) + " (" + busy.reason + ")");
  r.busy_ = std::move(busy);
  return r;
}

const std::string& result::value() const {
  if (!ok_) throw task_failed(kind_, message_);
  return value_;
}

std::chrono::milliseconds busy_backoff(const retry_policy& p, std::uint32_t n, std::chrono::milliseconds hint,
                                       double unit_random) {
  constexpr double cap_ms = 32000.0;
  const double backoff_ms = p.base_seconds * 1000.0 * (1.0 + std::log(static_cast<double>(std::max<std::uint32_t>(n, 1))));
  const double hinted_ms = std::min(static_cast<double>(hint.count()), cap_ms);
  const double base_ms = std::min(std::max(backoff_ms, hinted_ms), cap_ms);
  const double spread = 1.0 + p.jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  return std::chrono::milliseconds(static_cast<long>(std::lround(base_ms * spread)));
}

}  // namespace argon
