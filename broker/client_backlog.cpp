// The client backlog's queues, bound and retries; see client_backlog.hpp.
#include "client_backlog.hpp"

#include <algorithm>
#include <vector>

#include "log.hpp"
#include "monitor_events.hpp"

namespace argon::broker {

using namespace argon::common;

bool client_backlog::over_bound(std::string_view peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.bytes >= bound_;
}

bool client_backlog::admits(wait_kind kind, const peer_backlog* p) const {
  switch (kind) {
    case wait_kind::outcome: return true;
    case wait_kind::progress: return !p || p->bytes < bound_;
    case wait_kind::reply: return !p || p->reply_bytes < bound_;
  }
  return false;
}

bool client_backlog::push(std::string_view peer, wait_kind kind, const body& b, zmq::message_t payload, time_point now) {
  auto it = peers_.find(peer);
  if (!admits(kind, it == peers_.end() ? nullptr : &it->second)) {
    refuse(peer, it == peers_.end() ? nullptr : &it->second, b);
    return false;
  }
  if (it == peers_.end()) it = open(peer, now);
  peer_backlog& p = it->second;
  const std::size_t cost = bookkeeping_bytes + encode_header(role::broker, b).size() + payload.size();
  if (kind == wait_kind::progress && replace_progress(p, b, cost)) return true;
  if (kind == wait_kind::progress) p.progress[std::string(task_id_of(b))] = p.first_seq + p.queue.size();
  p.queue.push_back(waiting_message{b, std::move(payload), kind, cost});
  if (kind != wait_kind::outcome) p.reply_bytes += cost;
  charge(it->first, p, cost);
  return true;
}

// A message that may not wait: counted, and logged once until its peer catches up.
void client_backlog::refuse(std::string_view peer, peer_backlog* p, const body& b) {
  ++dropped_;
  if (p && p->dropped++ == 0)
    log::warn("dropped a {} to peer {}, which has {} bytes waiting for it; until it reads, what it is sent besides "
              "outcomes may be dropped", command_name(command_of(b)), monitor::short_peer(peer), p->bytes);
}

client_backlog::peer_map::iterator client_backlog::open(std::string_view peer, time_point now) {
  auto it = peers_.try_emplace(std::string(peer)).first;
  it->second.due = due_.emplace(now + min_retry, &it->first);
  return it;
}

// A newer PROGRESS of a task takes the place of the one still waiting, if any.
bool client_backlog::replace_progress(peer_backlog& p, const body& b, std::size_t cost) {
  auto found = p.progress.find(std::string(task_id_of(b)));
  if (found == p.progress.end()) return false;
  waiting_message& old = p.queue[found->second - p.first_seq];
  p.bytes = p.bytes - old.cost + cost;
  p.reply_bytes = p.reply_bytes - old.cost + cost;
  bytes_ = bytes_ - old.cost + cost;
  old.body = b;
  old.cost = cost;
  return true;
}

// Passing the bound is logged once until the peer has caught up, however often it goes back and forth.
void client_backlog::charge(const std::string& peer, peer_backlog& p, std::size_t cost) {
  p.bytes += cost;
  bytes_ += cost;
  if (p.warned || p.bytes < bound_) return;
  p.warned = true;
  log::warn("peer {} has {} bytes waiting for it, past --client-backlog-bytes {}: its new tasks are refused as busy "
            "(client_slow) until it reads", monitor::short_peer(peer), p.bytes, bound_);
}

void client_backlog::pop_front(peer_backlog& p) {
  waiting_message& m = p.queue.front();
  if (m.kind == wait_kind::progress) {
    auto found = p.progress.find(std::string(task_id_of(m.body)));
    if (found != p.progress.end() && found->second == p.first_seq) p.progress.erase(found);
  }
  p.bytes -= m.cost;
  if (m.kind != wait_kind::outcome) p.reply_bytes -= m.cost;
  bytes_ -= m.cost;
  p.queue.pop_front();
  ++p.first_seq;
}

std::size_t client_backlog::flush(time_point now, const send_fn& send) {
  std::vector<peer_map::iterator> due;
  for (auto d = due_.begin(); d != due_.end() && d->first <= now; ++d) due.push_back(peers_.find(*d->second));
  std::size_t sent = 0;
  for (auto it : due) sent += offer(it, now, send);
  return sent;
}

// Sends a peer's messages until the socket refuses one; then the peer waits
// min_retry if it took something, else twice as long as the last time.
std::size_t client_backlog::offer(peer_map::iterator it, time_point now, const send_fn& send) {
  peer_backlog& p = it->second;
  std::size_t sent = 0;
  while (!p.queue.empty()) {
    const send_status st = send(it->first, p.queue.front().body, &p.queue.front().payload);
    if (st == send_status::would_block) break;
    if (st == send_status::unreachable) {
      const auto outcomes = std::count_if(p.queue.begin(), p.queue.end(), [](auto& m) { return m.kind == wait_kind::outcome; });
      log::info("peer {} has disconnected: {} message(s) that waited for it are dropped ({} outcome(s), kept for "
                "--result-ttl for a resubmission)", monitor::short_peer(it->first), p.queue.size(), outcomes);
      lost_ += p.queue.size();
      close(it);
      return sent;
    }
    pop_front(p);
    ++sent;
  }
  if (p.queue.empty()) {
    if (p.warned || p.dropped)
      log::info("peer {} has read everything that waited for it; {} message(s) to it were dropped meanwhile",
                monitor::short_peer(it->first), p.dropped);
    close(it);
    return sent;
  }
  p.backoff = sent ? millis(0) : std::clamp(p.backoff * 2, min_retry, max_retry);
  due_.erase(p.due);
  p.due = due_.emplace(now + std::max(p.backoff, min_retry), &it->first);
  return sent;
}

void client_backlog::close(peer_map::iterator it) {
  bytes_ -= it->second.bytes;
  due_.erase(it->second.due);
  peers_.erase(it);
}

std::optional<time_point> client_backlog::next_due() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

std::size_t client_backlog::bytes_of(std::string_view peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.bytes;
}

std::size_t client_backlog::waiting_for(std::string_view peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.queue.size();
}

}  // namespace argon::broker
