// What waits in the broker for peers that do not read as fast as they are
// answered: per peer, in order, bounded in bytes.
//
// The ROUTER queues a fixed number of messages per peer and then refuses
// more with EAGAIN, and it never says when that peer can take more. A
// message the socket refused, and every later message to the same peer,
// waits here; flush() offers each due peer's messages again, oldest first,
// and stops at the first one the socket refuses, so a peer's messages are
// never reordered. A peer that took something at its last try is due again
// 1 ms later; one that took nothing 1, 2, 4 ... up to 128 ms later, so a
// client that has stopped reading costs a try now and then, not a busy
// loop. A peer that has disconnected loses what waits for it (the task
// table keeps outcomes for --result-ttl, for a resubmission).
//
// The bound is per peer, in bytes: a message costs its encoded header, its
// payload and a fixed allowance for its bookkeeping. A peer with that much
// waiting is over_bound(), and the broker refuses its new SUBMITs (BUSY
// client_slow). Whether a message may still wait depends on its kind:
// - an outcome (RESULT or FAILED of an accepted task) always waits: while
//   its client is connected it is never dropped;
// - PROGRESS waits while its peer is under the bound, and a newer PROGRESS
//   of a task takes the place of one that still waits;
// - any other reply (BUSY, a refusal, PONG, STATUS_REPLY, ERROR) waits
//   while the peer's waiting replies and PROGRESS, outcomes not counted,
//   are under the bound; past it, it is dropped. So a client that sends
//   without reading is still answered, BUSY client_slow, for as many
//   SUBMITs as one bound of replies holds, however large its outcomes.
// What waits for one peer thus stays under twice the bound plus a message,
// plus the outcomes of the tasks it had in flight when it passed the bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <zmq.hpp>

#include "clock.hpp"
#include "codec.hpp"
#include "worker_registry.hpp"

namespace argon::broker {

// How a message may wait for its peer.
enum class wait_kind : std::uint8_t {
  outcome,   // RESULT or FAILED of an accepted task: always
  progress,  // PROGRESS: under the bound, the newest per task
  reply,     // anything else: while the replies waiting are under the bound
};

// One message waiting for its peer.
struct waiting_message {
  common::body body;                    // what to send
  zmq::message_t payload;               // its payload frame; empty when the command has none
  wait_kind kind = wait_kind::reply;    // how it may wait
  std::size_t cost = 0;                 // bytes charged to its peer
};

class client_backlog {
 public:
  // Sends one message to a peer, moving its payload on success; what the socket said.
  using send_fn = std::function<common::send_status(std::string_view peer, const common::body& b, zmq::message_t* payload)>;

  // Shortest and longest wait before a peer is offered its messages again.
  static constexpr common::millis min_retry{1};
  static constexpr common::millis max_retry{128};
  // What a waiting message costs besides its header and payload: its place
  // in the queue and the allocations behind it.
  static constexpr std::size_t bookkeeping_bytes = sizeof(waiting_message) + 64;

  explicit client_backlog(std::size_t bound) : bound_(bound) {}
  client_backlog(const client_backlog&) = delete;
  client_backlog& operator=(const client_backlog&) = delete;

  // Whether messages wait for this peer: a new one must wait behind them.
  [[nodiscard]] bool holds(std::string_view peer) const { return peers_.find(peer) != peers_.end(); }
  // Whether what waits for this peer has reached the bound.
  [[nodiscard]] bool over_bound(std::string_view peer) const;
  // Queues a message for a peer, behind what already waits for it; the peer
  // is due 1 ms later if nothing waited. False when its kind may not wait
  // now: it is dropped and counted.
  bool push(std::string_view peer, wait_kind kind, const common::body& b, zmq::message_t payload, common::time_point now);
  // Offers every due peer its waiting messages, oldest first, until the
  // socket refuses one; a peer that has disconnected loses them. Returns
  // how many were sent.
  std::size_t flush(common::time_point now, const send_fn& send);
  // When the next peer is due; empty when nothing waits.
  [[nodiscard]] std::optional<common::time_point> next_due() const;

  [[nodiscard]] std::size_t peers() const { return peers_.size(); }
  // Bytes charged for every peer, and for one.
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] std::size_t bytes_of(std::string_view peer) const;
  // Messages waiting for one peer.
  [[nodiscard]] std::size_t waiting_for(std::string_view peer) const;
  // Messages dropped because their kind could not wait (past the bound).
  [[nodiscard]] std::uint64_t dropped() const { return dropped_; }
  // Messages dropped because their peer had disconnected.
  [[nodiscard]] std::uint64_t lost() const { return lost_; }
  [[nodiscard]] std::size_t bound() const { return bound_; }

 private:
  using due_order = std::multimap<common::time_point, const std::string*>;

  // What waits for one peer.
  struct peer_backlog {
    std::deque<waiting_message> queue;                        // oldest first
    std::uint64_t first_seq = 0;                              // sequence number of queue.front()
    std::unordered_map<std::string, std::uint64_t> progress;  // task id -> sequence number of its waiting PROGRESS
    std::size_t bytes = 0;                                    // charged now
    std::size_t reply_bytes = 0;                              // of which for replies and PROGRESS
    common::millis backoff{0};                                // wait after a try that sent nothing
    due_order::iterator due;                                  // its place in due_
    std::uint64_t dropped = 0;                                // messages dropped since it last caught up
    bool warned = false;                                      // its passing the bound was logged since it last caught up
  };
  using peer_map = std::unordered_map<std::string, peer_backlog, string_hash, std::equal_to<>>;

  [[nodiscard]] bool admits(wait_kind kind, const peer_backlog* p) const;
  void refuse(std::string_view peer, peer_backlog* p, const common::body& b);
  peer_map::iterator open(std::string_view peer, common::time_point now);
  bool replace_progress(peer_backlog& p, const common::body& b, std::size_t cost);
  void charge(const std::string& peer, peer_backlog& p, std::size_t cost);
  void pop_front(peer_backlog& p);
  std::size_t offer(peer_map::iterator it, common::time_point now, const send_fn& send);
  void close(peer_map::iterator it);

  std::size_t bound_;        // bytes per peer before its SUBMITs are refused
  peer_map peers_;           // peers with something waiting
  due_order due_;            // when each peer is next offered its messages, soonest first
  std::size_t bytes_ = 0;    // charged for all peers
  std::uint64_t dropped_ = 0;  // messages dropped past the bound, since the start
  std::uint64_t lost_ = 0;     // messages dropped for disconnected peers, since the start
};

}  // namespace argon::broker
