// argon-monitor's live view on a terminal: events update a live_state and
// the screen is redrawn about once a second (and at once on the first
// event). `q` quits; Ctrl-C and SIGTERM reach the loop as signals. The
// raw_terminal member restores the terminal however the view ends.
#pragma once

#include <string>

#include "live_state.hpp"
#include "sink.hpp"
#include "terminal.hpp"

namespace argon::tools {

class live_view final : public sink {
 public:
  explicit live_view(std::string endpoint);
  bool show(const common::monitor::event& e) override;
  void tick(std::uint64_t now_ms, const std::string& notice) override;
  [[nodiscard]] int key_fd() const override { return term_.input_fd(); }
  bool on_keys() override;

 private:
  std::string endpoint_;  // shown in the header
  live_state state_;      // built from events
  raw_terminal term_;     // the screen and keys
};

}  // namespace argon::tools
