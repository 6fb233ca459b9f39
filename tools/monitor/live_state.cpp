#include "live_state.hpp"

#include <fmt/format.h>

namespace argon::tools {

namespace mon = argon::common::monitor;

void live_state::apply(const mon::event& e) {
  ++events_;
  std::visit([&](const auto& b) {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, mon::worker_joined>) {
      worker_view& w = workers_[b.worker];
      w.address = b.address;
      if (b.capacity) w.capacity = b.capacity;
    } else if constexpr (std::is_same_v<T, mon::worker_left>) {
      if (auto it = workers_.find(b.worker); it != workers_.end()) {
        for (const auto& id : it->second.running) task_worker_.erase(id);
        workers_.erase(it);
      }
    } else if constexpr (std::is_same_v<T, mon::task_submitted>) {
      ++submitted_;
      if (task_names_.size() >= tasks_kept) task_names_.clear();  // events were lost; start over
      task_names_[b.id] = b.task;
    } else if constexpr (std::is_same_v<T, mon::task_dispatched>) {
      on_dispatched(b);
    } else if constexpr (std::is_same_v<T, mon::task_done>) {
      ++done_;
      if (auto it = workers_.find(b.worker); it != workers_.end()) ++it->second.done;
      end_task(b.id);
    } else if constexpr (std::is_same_v<T, mon::task_failed>) {
      ++failed_;
      remember(failures_, e.time_ms, fmt::format("{} {} {}: {}", b.id, task_name(b.id), b.kind, b.message));
      end_task(b.id);
    } else if constexpr (std::is_same_v<T, mon::task_requeued>) {
      if (auto it = task_worker_.find(b.id); it != task_worker_.end()) {
        if (auto w = workers_.find(it->second); w != workers_.end()) w->second.running.erase(b.id);
        task_worker_.erase(it);
      }
    } else if constexpr (std::is_same_v<T, mon::auth_failed>) {
      remember(refusals_, e.time_ms, fmt::format("{} {} {}", b.address.empty() ? "?" : b.address, b.mechanism, b.why));
    } else if constexpr (std::is_same_v<T, mon::stats>) {
      stats_ = b;
      ++stats_seen_;
    }
  }, e.content);
}

void live_state::on_dispatched(const mon::task_dispatched& d) {
  if (task_worker_.size() >= tasks_kept) return;  // events were lost somewhere; do not grow
  worker_view& w = workers_[d.worker];
  w.running.insert(d.id);
  task_worker_[d.id] = d.worker;
}

void live_state::end_task(const std::string& id) {
  task_names_.erase(id);
  auto it = task_worker_.find(id);
  if (it == task_worker_.end()) return;
  if (auto w = workers_.find(it->second); w != workers_.end()) w->second.running.erase(id);
  task_worker_.erase(it);
}

std::string live_state::task_name(const std::string& id) const {
  auto it = task_names_.find(id);
  return it == task_names_.end() ? "" : it->second;
}

void live_state::remember(std::deque<recent_line>& ring, std::uint64_t time_ms, std::string text) {
  ring.push_front({time_ms, std::move(text)});
  if (ring.size() > recent_kept) ring.pop_back();
}

}  // namespace argon::tools
