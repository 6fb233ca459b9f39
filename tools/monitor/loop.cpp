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

int run_loop(const std::vector<source>& sources, sink& out, std::uint64_t quiet_ms) {
  const std::size_t n = sources.size();
  std::vector<std::uint64_t> last_heard(n, common::unix_ms());
  std::vector<bool> heard(n, false);
  std::uint64_t next_tick = common::unix_ms();
  std::vector<zmq_pollitem_t> items(n + 1);
  while (!stop_requested) {
    for (std::size_t i = 0; i < n; ++i) items[i] = {sources[i].sub->socket().handle(), 0, ZMQ_POLLIN, 0};
    items[n] = {nullptr, out.key_fd(), ZMQ_POLLIN, 0};
    const std::uint64_t now = common::unix_ms();
    const long wait = next_tick > now ? static_cast<long>(next_tick - now) : 0;
    if (zmq_poll(items.data(), static_cast<int>(out.key_fd() >= 0 ? n + 1 : n), wait) < 0) {
      if (zmq_errno() == EINTR) continue;
      throw zmq::error_t();
    }
    for (std::size_t i = 0; i < n; ++i)
      while (auto e = sources[i].sub->read()) {
        if (!out.show(*e, i)) return 0;
        if (!heard[i]) next_tick = 0;  // draw the first state at once
        heard[i] = true;
        last_heard[i] = common::unix_ms();
      }
    if ((items[n].revents & ZMQ_POLLIN) && out.on_keys()) return 0;
    const std::uint64_t after = common::unix_ms();
    if (after >= next_tick) {
      std::string notice;
      for (std::size_t i = 0; i < n; ++i)
        if (auto one = silence_notice(sources[i].endpoint, heard[i], after - last_heard[i], quiet_ms); !one.empty())
          notice += notice.empty() ? one : "; " + one;
      out.tick(after, notice);
      next_tick = after + 1000;
    }
  }
  return 0;
}

}  // namespace argon::tools
