// What one group of workers can run, and the test of a task's route against it.
//
// Workers announce their task names and --allow-exec patterns in READY.
// Workers with the same announcement share one capability_class, so the
// broker's checks cost per class, not per worker. A task's route is its
// name, or for the reserved task "exec" the route "exec\n" + program path
// (task names cannot hold control characters, so the two never collide).
// Pattern matches are remembered per program, a bounded cache.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "protocol.hpp"

namespace argon::broker {

// The queue route of a task: its name, or "exec\n" + argv[0] for task "exec".
std::string route_of(std::string_view name, std::string_view program);

class capability_class {
 public:
  explicit capability_class(common::capabilities caps);

  // Whether a worker of this class runs tasks on this route.
  [[nodiscard]] bool can_run(std::string_view route) const;
  [[nodiscard]] const common::capabilities& caps() const { return caps_; }

  std::size_t workers = 0;  // workers announcing exactly this
  std::size_t slots = 0;    // slots those workers have

 private:
  [[nodiscard]] bool allows_program(std::string_view path) const;

  common::capabilities caps_;                   // as announced
  std::unordered_set<std::string_view> names_;  // views into caps_.tasks, for lookups
  mutable std::unordered_map<std::string, bool> exec_seen_;  // program -> allowed, bounded
};

}  // namespace argon::broker
