// The client's I/O thread, its brokers: where each task is placed, and what
// contact with a broker, or its loss, does to the tasks (session.hpp).
#include <algorithm>

#include "log.hpp"
#include "session.hpp"

namespace argon {

using namespace argon::common;

// A task is placed at one broker at a time, and counts in its assigned tasks.
void client::session::place(pending_task& t, std::size_t b) {
  unplace(t);
  t.broker = b;
  t.placed = true;
  if (++brokers_[b].assigned == 1) update_idle();
}

void client::session::unplace(pending_task& t) {
  if (!t.placed) return;
  t.placed = false;
  if (--brokers_[t.broker].assigned == 0) update_idle();
}

bool client::session::any_in_contact() const {
  return std::any_of(brokers_.begin(), brokers_.end(), [](const broker_conn& c) { return c.link->health().in_contact(); });
}

// Where a task goes next: a broker in contact that has not refused it since it
// last backed off, with the fewest of this client's tasks (the first such on a
// tie); else one that has not been given up for lost, the same way; else the
// one it is placed at (or the first), where it waits while every broker is lost.
std::size_t client::session::pick_broker(const pending_task& t) const {
  std::size_t best = npos;
  for (int pass = 0; pass < 2 && best == npos; ++pass)
    for (std::size_t b = 0; b < brokers_.size(); ++b) {
      const keepalive& h = brokers_[b].link->health();
      const bool usable = pass == 0 ? h.in_contact() : h.state() != link_state::lost;
      if (!usable || (t.refused_by >> b & 1u)) continue;
      if (best == npos || brokers_[b].assigned < brokers_[best].assigned) best = b;
    }
  if (best != npos) return best;
  return t.placed ? t.broker : 0;
}

// When a task gives up: never while any broker is in contact; otherwise
// when the last broker's deadline for it passes (each link's own: the
// connect timeout before its first contact, the reconnect timeout once lost).
std::optional<time_point> client::session::give_up_at(const pending_task& t) const {
  std::optional<time_point> last;
  for (const auto& c : brokers_) {
    const auto at = c.link->health().give_up_at(t.submitted_at);
    if (!at) return std::nullopt;  // in contact, or a broker that is waited for without end
    last = last ? std::max(*last, *at) : *at;
  }
  return last;
}

// Contact with a broker instance: no task has a deadline out of contact any
// more, and each that may not have reached this instance goes to it again,
// as do the tasks held at brokers out of contact.
void client::session::on_contact(std::size_t b, std::uint64_t resend_older_than) {
  for (auto& [id, t] : tasks_)
    if (t->give_up_timer) t->give_up_timer->stop();
  fail_over_limit();
  resend_unfinished(b, resend_older_than);
}

// The smallest limit any broker has said (a task may go to any of them); 0: none said.
std::uint64_t client::session::smallest_max_payload() const {
  std::uint64_t least = 0;
  for (const auto& c : brokers_)
    if (const std::uint64_t said = c.link->broker_max_payload(); said != 0 && (least == 0 || said < least)) least = said;
  return least;
}

// Broker b went silent. The tasks it owed go at once to another broker in
// contact, if there is one; otherwise they wait for b (or any broker) to
// answer, and from now on every task has a deadline again. Status requests
// waiting on b wait for it.
void client::session::on_lost(std::size_t b) {
  if (any_in_contact()) {
    std::vector<std::pair<std::uint64_t, std::string>> moved;
    for (auto& [id, t] : tasks_)
      if (t->placed && t->broker == b && t->state == pending_state::awaiting_outcome) moved.emplace_back(t->seq, id);
    std::sort(moved.begin(), moved.end());
    if (!moved.empty())
      log::info("moving {} unfinished task{} from the lost broker at {} to the others", moved.size(),
                moved.size() == 1 ? "" : "s", endpoints_[b]);
    for (auto& [seq, id] : moved) {
      auto it = tasks_.find(id);
      if (it == tasks_.end()) continue;
      unplace(*it->second);
      send_submit(*it->second);
    }
    return;
  }
  for (auto& [id, t] : tasks_) arm_give_up(*t);
}

// First contact with broker b, or it restarted or came back: it may never have
// had a task sent to it on a socket older than older_than (or held), so each
// such unfinished one goes again, oldest first; so do the tasks held at brokers
// that are not in contact, wherever pick_broker puts them now. Those backing
// off go when their timer fires.
void client::session::resend_unfinished(std::size_t b, std::uint64_t older_than) {
  std::vector<const pending_task*> todo;
  for (auto& [id, t] : tasks_) {
    if (t->state != pending_state::awaiting_outcome) continue;
    const bool here = t->placed && t->broker == b;
    const bool stranded = !t->placed || (!here && !brokers_[t->broker].link->health().in_contact());
    if ((here && t->sent_on < older_than) || stranded) todo.push_back(t.get());
  }
  std::sort(todo.begin(), todo.end(), [](auto* x, auto* y) { return x->seq < y->seq; });
  std::vector<std::string> ids;
  for (auto* t : todo) ids.push_back(t->id);
  log::debug("resubmitting {} unfinished tasks", ids.size());
  for (auto& id : ids) {
    auto it = tasks_.find(id);  // an earlier send may have finished it
    if (it == tasks_.end()) continue;
    pending_task& t = *it->second;
    if (!t.placed || t.broker != b) unplace(t);
    send_submit(t);
  }
  broker_conn& c = brokers_[b];
  if (c.status_sent_on >= older_than) return;
  for (std::size_t i = 0; i < c.status_waiters.size(); ++i) send_status_request(b);
}

// With nothing outstanding there, a link stops pinging a broker it is in contact with.
void client::session::update_idle() {
  for (auto& c : brokers_) c.link->set_idle(c.assigned == 0 && c.status_waiters.empty());
}

}  // namespace argon
