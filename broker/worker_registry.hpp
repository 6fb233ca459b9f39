// Worker processes, their REQ task slots, and the choice of the next slot.
//
// A slot is known from its first READY (or DONE) and belongs to the worker
// id it names; it is offered work only while that worker is watched (has
// said HELLO on a control channel and not expired), so a task never runs on
// a slot that nobody can declare dead. take_ready() hands out a ready slot of the worker with the
// fewest busy slots, ties going to the least recently used slot, so load
// spreads across machines and every slot gets its turn. The choice is
// O(log workers): eligible workers sit in an ordered set keyed by (busy
// slots, ready-sequence of their oldest ready slot).
//
// A worker's slots announce what it can run (capability_class); one that
// announced nothing runs any task. take_ready_if() walks the eligible
// workers best first and gives the slot to the first one that finds a task
// it can run, so a task waits only for a worker able to run it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <list>
#include <optional>
#include <vector>
#include <unordered_map>

#include <zmq.hpp>

#include "capability_class.hpp"
#include "task.hpp"

namespace argon::broker {

struct worker_record;

// A slot's state; a slot runs at most one task.
enum class slot_state { ready, busy };

struct slot {
  std::string routing_id;          // the REQ socket's routing id at the broker
  worker_record* worker = nullptr;    // owning worker process
  slot_state state = slot_state::ready;  // ready or busy
  task* running = nullptr;         // the task it runs; set and cleared only by the task table
  std::uint64_t ready_seq = 0;     // when it last became ready (LRU order)
};

// One worker process: what the broker knows of it, from its slots and its HELLO.
struct worker_record {
  std::string id;                  // worker id from READY/DONE/HELLO
  std::uint32_t capacity = 0;      // slots announced in HELLO; 0 when unknown
  std::uint64_t incarnation = 0;   // from its latest HELLO, new at each process start; 0 when not said
  std::string address;             // its control channel's peer address; "" when unknown
  std::deque<slot*> ready;         // its ready slots, least recently used first
  std::vector<slot*> members;      // all its slots
  std::size_t slots = 0;           // slots known
  std::size_t busy = 0;            // slots running a task
  std::uint64_t done = 0;          // tasks finished
  std::string control_id;          // routing id of its control channel; "" before HELLO
  common::time_point last_seen{};  // last message from any of its sockets
  bool watched = false;            // has a control channel, so it can expire
  bool leaving = false;            // said BYE: gets no more tasks; its slots go as they finish
  capability_class* caps = nullptr; // what it runs, as announced; null: any task
  std::uint32_t lanes = common::all_lanes;  // lanes its slots take (READY lanes; bit per priority)
  std::list<worker_record*>::iterator live_pos;  // its place in the oldest-first list
};

class worker_registry {
 public:
  // The slot with this routing id, or null.
  [[nodiscard]] slot* find(std::string_view routing_id);
  // Records a slot (new or known) as ready under a worker id; returns it.
  slot& mark_ready(std::string_view routing_id, std::string_view worker_id);
  // Forgets slot routing_id of worker_id if it is ready (idle); false, changing
  // nothing, when it is unknown, another worker's, or not ready.
  bool withdraw(std::string_view worker_id, std::string_view routing_id);
  // Offers each worker with a ready slot, best first, to pick (worker_record&) -> bool;
  // the first that picks has its best slot marked busy and returned. Null if
  // nobody picked. The task table then links the slot to its task.
  template <class Pick> [[nodiscard]] slot* take_ready_if(Pick pick) {
    for (const rank& r : eligible_) {
      worker_record* w = std::get<2>(r);
      if (pick(*w)) return take_from(*w);
    }
    return nullptr;
  }
  // Records what a worker runs (nullopt: anything); the worker must be known.
  void announce(std::string_view worker_id, const std::optional<common::capabilities>& caps);
  // Whether any connected slot belongs to a worker that runs tasks on this route.
  [[nodiscard]] bool can_serve(std::string_view route) const;
  // Forgets a slot (unreachable, or its worker left). The task table must
  // have released its task first.
  void remove(slot& s);

  // Registers a worker's control channel; it is then expected to stay alive.
  // A capacity of 0 or an empty address keeps the one already known.
  worker_record& hello(std::string_view worker_id, std::string_view control_id, common::time_point now,
                       std::uint32_t capacity = 0, std::string address = "");
  // The worker with this id, or null.
  [[nodiscard]] const worker_record* get(std::string_view worker_id) const {
    auto it = workers_.find(worker_id);
    return it == workers_.end() ? nullptr : it->second.get();
  }
  // The worker whose control channel has this routing id, or null.
  [[nodiscard]] worker_record* by_control(std::string_view control_id);
  // Notes a sign of life from a worker; false if no such worker is known.
  bool touch(std::string_view worker_id, common::time_point now);
  // Watched workers silent for longer than limit, oldest first; then workers known
  // only from their slots (never said HELLO) that long.
  [[nodiscard]] std::vector<std::string> expired(common::time_point now, common::millis limit) const;
  // A worker said BYE: its ready slots are forgotten now (their routing ids are
  // returned, to be told), its busy ones after their task.
  [[nodiscard]] std::vector<std::string> retire(std::string_view worker_id);
  // Whether a worker is known, and whether it said BYE.
  [[nodiscard]] bool known(std::string_view worker_id) const { return workers_.find(worker_id) != workers_.end(); }
  [[nodiscard]] bool leaving(std::string_view worker_id) const;
  // Forgets a worker and all its slots; the task table must have released their tasks.
  void remove_worker(std::string_view worker_id);
  // Calls fn(slot&) for every slot of a worker (none when it is unknown).
  template <class F> void each_slot_of(std::string_view worker_id, F fn) {
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return;
    for (slot* s : it->second->members) fn(*s);
  }
  // Calls fn for every worker, watched or not.
  template <class F> void each_worker(F fn) const {
    for (const auto& [id, w] : workers_) fn(*w);
  }
  // Calls fn for every watched worker.
  template <class F> void each_watched(F fn) {
    for (worker_record* w : live_) fn(*w);
  }

  [[nodiscard]] std::size_t slot_count() const { return slots_.size(); }
  [[nodiscard]] std::size_t busy_count() const { return busy_; }
  [[nodiscard]] std::size_t ready_count() const { return slots_.size() - busy_; }
  [[nodiscard]] std::size_t worker_count() const { return workers_.size(); }

 private:
  using rank = std::tuple<std::size_t, std::uint64_t, worker_record*>;  // busy, oldest ready seq, worker
  worker_record& worker_for(std::string_view worker_id);
  void unrank(worker_record& w);
  void rerank(worker_record& w);
  void set_busy(slot& s);
  void set_ready(slot& s);
  void forget_if_empty(worker_record& w);
  slot* take_from(worker_record& w);
  void count_slots(worker_record& w, long delta);
  void join_class(worker_record& w, const common::capabilities& caps);
  void leave_class(worker_record& w);
  void drop_control(worker_record& w);

  std::unordered_map<std::string, std::unique_ptr<slot>, string_hash, std::equal_to<>> slots_;  // by routing id
  std::unordered_map<std::string, std::unique_ptr<worker_record>, string_hash, std::equal_to<>> workers_;  // by id
  std::set<rank> eligible_;   // workers with a ready slot, best first
  std::list<worker_record*> live_;  // watched workers, least recently seen first
  std::unordered_map<std::string, worker_record*, string_hash, std::equal_to<>> controls_;  // by control routing id
  std::list<std::unique_ptr<capability_class>> classes_;  // distinct announcements in use
  std::size_t any_slots_ = 0;  // slots of workers that run any task
  std::size_t busy_ = 0;      // busy slots in all workers
  std::uint64_t seq_ = 0;     // ready-sequence counter
};

}  // namespace argon::broker
