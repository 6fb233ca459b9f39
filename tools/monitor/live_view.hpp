// argon-monitor's live view on a terminal: events update a live_state and
// the screen is redrawn about once a second (and at once on the first
// event). `q` quits; Ctrl-C and SIGTERM reach the loop as signals. The
// raw_terminal member restores the terminal however the view ends.
#pragma once

#include <string>
#include <vector>

#include "live_state.hpp"
#include "sink.hpp"
#include "terminal.hpp"

namespace argon::tools {

// With several brokers the screen holds one block per broker, one under the other.
class live_view final : public sink {
 public:
  explicit live_view(std::vector<std::string> endpoints);
  bool show(const common::monitor::event& e, std::size_t from) override;
  void tick(std::uint64_t now_ms, const std::string& notice) override;
  [[nodiscard]] int key_fd() const override { return term_.input_fd(); }
  bool on_keys() override;

 private:
  std::vector<std::string> endpoints_;  // shown in each block's header
  std::vector<live_state> states_;      // built from each broker's events
  raw_terminal term_;     // the screen and keys
};

}  // namespace argon::tools
