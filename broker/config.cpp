#include "config.hpp"

#include <charconv>

#include "errors.hpp"
#include "protocol.hpp"

namespace argon::broker {

void parse_lane_share(const std::string& text, std::array<unsigned, 3>& share) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t eq = item.find('=');
    const std::string lane = item.substr(0, eq);
    unsigned pct = 0;
    const char* digits = eq == std::string::npos ? nullptr : item.data() + eq + 1;
    const char* end = item.data() + item.size();
    const bool number = digits && digits != end && std::from_chars(digits, end, pct).ptr == end;
    common::priority p{};
    if (!common::parse_priority(lane, p) || !number || pct < 1 || pct > 100)
      throw common::config_error("--lane-share takes LANE=PCT items (LANE high, normal or low; PCT 1 to 100), "
                                 "comma-separated; got '" + item.substr(0, 64) + "'");
    share[static_cast<std::size_t>(p)] = pct;
    if (comma == std::string::npos) return;
    start = comma + 1;
  }
}

}  // namespace argon::broker
