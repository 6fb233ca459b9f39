// Bounds the log lines one peer address can cause: one per interval.
//
// A client with the wrong keyfile reconnects every few hundred ms, and a
// crowd of connections that cannot be accepted fails thousands of times a
// second; one line each would bury the log. admit() writes a peer's first
// line and holds back the rest of its interval, counting them; the count
// goes out as "(N more from PEER not logged)", with the peer's next line
// or, from expire() (called on a timer), with the last held-back line once
// the interval is over, so the operator sees the volume even after the
// peer has gone quiet. The table of peers is bounded: when it is full, new
// peers share one entry, "other addresses".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "clock.hpp"

namespace argon::broker {

class peer_log_limiter {
 public:
  explicit peer_log_limiter(std::chrono::steady_clock::duration interval, std::size_t max_peers = 1024)
      : interval_(interval), max_peers_(max_peers) {}

  // The line to write now for this peer's event (with the count held back
  // before it, if any); empty: hold it back.
  [[nodiscard]] std::optional<std::string> admit(const std::string& peer, std::string line, common::time_point now);
  // Lines due for peers whose interval is over with lines held back: the
  // last one with the count of the others. Peers quiet for a whole interval are forgotten.
  [[nodiscard]] std::vector<std::string> expire(common::time_point now);
  // Peers in the table.
  [[nodiscard]] std::size_t peers() const { return peers_.size(); }

 private:
  // One peer's interval.
  struct entry {
    common::time_point since;  // when its last line was written
    std::uint64_t held = 0;    // lines held back since then
    std::string last;          // the last of them
  };

  static std::string with_count(std::string line, std::uint64_t count, const std::string& peer);

  std::chrono::steady_clock::duration interval_;  // one line per peer per interval
  std::size_t max_peers_;                          // table size beyond which peers share an entry
  std::unordered_map<std::string, entry> peers_;   // peers with a line in their current interval
};

}  // namespace argon::broker
