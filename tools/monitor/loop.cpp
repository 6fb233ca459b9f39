#include "loop.hpp"

#include <cerrno>

#include <fmt/format.h>

#include "clock.hpp"

namespace argon::tools {

volatile std::sig_atomic_t stop_requested = 0;

namespace {

// What to say about a silent broker, "" when it is not silent.
std::string silence_notice(const std::string& endpoint, bool heard, std::uint64_t silent_ms, std::uint64_t quiet_ms) {
  if (!heard && silent_ms >= quiet_ms)
    return fmt::format("no events from {} yet; is --monitor enabled there and the key right?", endpoint);
  if (heard && silent_ms >= 3 * quiet_ms)
    return fmt::format("no events from {} for {} s; is the broker still running?", endpoint, silent_ms / 1000);
  return "";
}

}  // namespace

int run_loop(subscriber& sub, sink& out, const std::string& endpoint, std::uint64_t quiet_ms) {
  std::uint64_t last_heard = common::unix_ms(), next_tick = last_heard;
  bool heard = false;
  while (!stop_requested) {
    zmq_pollitem_t items[2] = {{sub.socket().handle(), 0, ZMQ_POLLIN, 0}, {nullptr, out.key_fd(), ZMQ_POLLIN, 0}};
    const std::uint64_t now = common::unix_ms();
    const long wait = next_tick > now ? static_cast<long>(next_tick - now) : 0;
    if (zmq_poll(items, out.key_fd() >= 0 ? 2 : 1, wait) < 0) {
      if (zmq_errno() == EINTR) continue;
      throw zmq::error_t();
    }
    while (auto e = sub.read()) {
      if (!out.show(*e)) return 0;
      if (!heard) next_tick = 0;  // draw the first state at once
      heard = true;
      last_heard = common::unix_ms();
    }
    if ((items[1].revents & ZMQ_POLLIN) && out.on_keys()) return 0;
    const std::uint64_t after = common::unix_ms();
    if (after >= next_tick) {
      out.tick(after, silence_notice(endpoint, heard, after - last_heard, quiet_ms));
      next_tick = after + 1000;
    }
  }
  return 0;
}

}  // namespace argon::tools
