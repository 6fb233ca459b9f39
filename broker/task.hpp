// A task as the broker holds it, from SUBMIT until its result is delivered.
//
// Tasks live in the broker's task table (stable addresses); the task queue
// and the slots only point at them. Only the task table (task_table.hpp)
// changes a task's state, its slot link and its place in the queue, so a
// task is queued or running, never both, and never lost between the two.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "clock.hpp"
#include "protocol.hpp"

namespace argon::broker {

struct slot;
struct task;

// Transparent hashing, so lookups by string_view in maps keyed by client or
// routing id allocate nothing.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The order of a lane's tasks for dispatch: by fair turn, then arrival (task_queue.hpp).
struct fair_order {
  bool operator()(const task* a, const task* b) const;
};

// Where a task is in its life at the broker.
enum class task_state { queued, running };

struct task {
  std::string key;                      // client routing id + '\n' + task id: the table key
  std::string client;                   // client routing id, where the outcome goes
  std::string id;                       // client's task id
  std::string name;                     // task name
  std::vector<std::string> argv;        // task "exec": the program and its arguments
  std::string route;                    // which workers can run it: see capability_class.hpp
  common::priority pri = common::priority::normal;   // lane asked for
  common::priority lane = common::priority::normal;  // lane it waits in now (after aging)
  zmq::message_t payload;               // input bytes, kept for requeue
  std::uint32_t timeout_ms = 0;         // as asked in SUBMIT; 0 = none
  std::uint32_t max_attempts = 1;       // how many starts are allowed
  std::uint32_t attempt = 0;            // starts so far
  std::uint32_t unstarted_returns = 0;  // times it came back from a slot it never reached (no attempt used)
  std::uint64_t incarnation = 0;        // its worker process's HELLO incarnation when last dispatched; 0: unknown
  common::time_point queued_at;         // when it entered its current lane
  common::time_point started_at;        // when it was last dispatched
  common::time_point deadline{};        // accepted + timeout; the epoch when there is none
  std::multimap<common::time_point, task*>::iterator deadline_pos;  // its entry in the deadline list, when it has one
  task_state state = task_state::queued; // queued or running
  slot* running_on = nullptr;           // the slot running it, when running
  std::list<task*>::iterator age_pos;   // its place in its lane's oldest-first list, when queued
  std::set<task*, fair_order>::iterator turn_pos;  // its place in its lane's dispatch order, when queued
  std::int64_t queue_seq = 0;           // arrival order across routes: breaks ties of fair_tag, requeued first
  std::uint64_t fair_tag = 0;           // its client's turn in its lane: lower goes first
};

inline bool fair_order::operator()(const task* a, const task* b) const {
  return a->fair_tag != b->fair_tag ? a->fair_tag < b->fair_tag : a->queue_seq < b->queue_seq;
}

}  // namespace argon::broker
