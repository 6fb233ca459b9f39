#include "live_view.hpp"

#include <unistd.h>

#include "screen.hpp"

namespace argon::tools {

live_view::live_view(std::vector<std::string> endpoints)
    : endpoints_(std::move(endpoints)), states_(endpoints_.size()), term_(STDIN_FILENO, STDOUT_FILENO) {}

bool live_view::show(const common::monitor::event& e, std::size_t from) {
  states_.at(from).apply(e);
  return true;
}

// Each broker gets an equal share of the rows; the notice goes with the first block.
void live_view::tick(std::uint64_t now_ms, const std::string& notice) {
  const int rows = term_.size().second / static_cast<int>(states_.size());
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (i) lines.emplace_back();
    auto block = render(states_[i], frame_info{endpoints_[i], now_ms, rows, i == 0 ? notice : ""});
    lines.insert(lines.end(), std::make_move_iterator(block.begin()), std::make_move_iterator(block.end()));
  }
  term_.draw(lines);
}

bool live_view::on_keys() {
  while (auto k = term_.read_key())
    if (*k == 'q' || *k == 'Q') return true;
  return false;
}

}  // namespace argon::tools
