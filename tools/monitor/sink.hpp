// Where argon-monitor's events go: printed lines or the live view. The loop
// (loop.cpp) hands every event to show(), with the index of the broker it
// came from (the order of --monitor), and calls tick() about once a second
// with a notice ("" when all is well) about a silent broker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "monitor_events.hpp"

namespace argon::tools {

class sink {
 public:
  virtual ~sink() = default;
  // One event from broker number `from`; false when the output is gone (stop).
  virtual bool show(const common::monitor::event& e, std::size_t from) = 0;
  // About once a second; notice warns about silence ("" when none).
  virtual void tick(std::uint64_t now_ms, const std::string& notice) = 0;
  // A file descriptor with key presses to watch, or -1.
  [[nodiscard]] virtual int key_fd() const { return -1; }
  // Keys are waiting on key_fd(); true to quit.
  virtual bool on_keys() { return false; }
};

}  // namespace argon::tools
