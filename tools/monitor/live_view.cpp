#include "live_view.hpp"

#include <unistd.h>

#include "screen.hpp"

namespace argon::tools {

live_view::live_view(std::string endpoint) : endpoint_(std::move(endpoint)), term_(STDIN_FILENO, STDOUT_FILENO) {}

bool live_view::show(const common::monitor::event& e) {
  state_.apply(e);
  return true;
}

void live_view::tick(std::uint64_t now_ms, const std::string& notice) {
  frame_info info{endpoint_, now_ms, term_.size().second, notice};
  term_.draw(render(state_, info));
}

bool live_view::on_keys() {
  while (auto k = term_.read_key())
    if (*k == 'q' || *k == 'Q') return true;
  return false;
}

}  // namespace argon::tools
