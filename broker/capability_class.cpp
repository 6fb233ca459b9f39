#include "capability_class.hpp"

#include <fnmatch.h>

namespace argon::broker {

namespace {
constexpr std::string_view exec_prefix = "exec\n";
constexpr std::size_t exec_cache_limit = 1024;  // programs remembered per class
}  // namespace

std::string route_of(std::string_view name, std::string_view program) {
  if (name != common::exec_task) return std::string(name);
  std::string r(exec_prefix);
  r += program;
  return r;
}

capability_class::capability_class(common::capabilities caps) : caps_(std::move(caps)) {
  for (const auto& n : caps_.tasks) names_.insert(n);
}

bool capability_class::can_run(std::string_view route) const {
  if (route.starts_with(exec_prefix)) return allows_program(route.substr(exec_prefix.size()));
  return names_.count(route) > 0;
}

bool capability_class::allows_program(std::string_view path) const {
  if (caps_.exec.empty()) return false;
  std::string key(path);
  if (auto it = exec_seen_.find(key); it != exec_seen_.end()) return it->second;
  bool ok = false;
  for (const auto& pattern : caps_.exec)
    if (fnmatch(pattern.c_str(), key.c_str(), FNM_PATHNAME) == 0) ok = true;
  if (exec_seen_.size() >= exec_cache_limit) exec_seen_.clear();
  exec_seen_.emplace(std::move(key), ok);
  return ok;
}

}  // namespace argon::broker
