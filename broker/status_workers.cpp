// STATUS with workers: the snapshot plus one entry per worker process, from
// the registry (capacity and address from HELLO, slots, busy, done, last
// sign of life). At most max_listed_workers are
// listed, in id order, so the reply's header stays under its size limit.
#include <algorithm>

#include "broker.hpp"

namespace argon::broker {

using namespace argon::common;

status_reply_msg broker::with_workers(status_reply_msg s) const {
  const auto now = clock_.now();
  std::vector<worker_status> list;
  workers_.each_worker([&](const worker_record& w) {
    const long silent_ms = w.last_seen == time_point{} ? 0 : std::chrono::duration_cast<millis>(now - w.last_seen).count();
    list.push_back(worker_status{.id = w.id, .address = w.address, .capacity = w.capacity, .slots = w.slots, .busy = w.busy,
                                 .done = w.done, .last_heartbeat_ms = static_cast<std::uint64_t>(std::max<long>(0, silent_ms)),
                                 .leaving = w.leaving});
  });
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (list.size() > max_listed_workers) list.resize(max_listed_workers);
  s.worker_list = std::move(list);
  return s;
}

}  // namespace argon::broker
