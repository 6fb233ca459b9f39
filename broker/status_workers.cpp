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
    worker_status e;
    e.id = w.id;
    e.capacity = w.capacity;
    e.address = w.address;
    e.slots = w.slots;
    e.busy = w.busy;
    e.done = w.done;
    e.leaving = w.leaving;
    if (w.last_seen != time_point{})
      e.last_heartbeat_ms = static_cast<std::uint64_t>(std::max<long>(0, std::chrono::duration_cast<millis>(now - w.last_seen).count()));
    list.push_back(std::move(e));
  });
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (list.size() > max_listed_workers) list.resize(max_listed_workers);
  s.worker_list = std::move(list);
  return s;
}

}  // namespace argon::broker
