// One REQ task slot of a worker process.
//
// The slot says READY when it starts; each TASK it receives runs on the
// slot's own handler thread, and the completion (back on the loop thread)
// sends DONE, which is also the next READY. A REQ socket
// strictly alternates send and receive, so a slot is ready or busy, never
// both, and never holds more than one task. When the worker stops, an idle
// slot closes at once and a busy one right after sending its DONE.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "argon/worker.hpp"
#include "handler_thread.hpp"
#include "keys.hpp"
#include "protocol.hpp"
#include "zmq_watch.hpp"

namespace argon::worker {

using handler_table = std::unordered_map<std::string, handler>;

// What every slot of a worker shares.
struct slot_env {
  uv_loop_t* loop;                          // the worker's loop
  zmq::context_t* ctx;                      // the worker's ZeroMQ context
  std::string endpoint;                     // broker endpoint
  std::optional<common::role_keys> keys;    // CURVE keys; empty when insecure
  std::string worker_id;                    // announced in READY and DONE
  const handler_table* handlers;            // read-only while running
  completion_queue* completions;            // finished handlers report here
};

class task_slot {
 public:
  // on_closed is called (on the loop thread) once the slot has closed.
  task_slot(const slot_env& env, unsigned index, std::function<void()> on_closed);
  task_slot(const task_slot&) = delete;
  task_slot& operator=(const task_slot&) = delete;

  // Closes now if idle, else right after the running task's DONE.
  void close_when_idle();
  [[nodiscard]] bool busy() const { return state_ == state::busy; }

 private:
  enum class state { ready, busy, closed };  // a slot's life

  void read_one();
  void start(common::task_msg&& t, zmq::message_t&& payload);
  void run_handler();   // on a thread-pool thread
  void finish();        // back on the loop thread
  void send_ready();
  void close();
  void set_state(state s) { state_ = s; }

  const slot_env& env_;               // shared worker settings
  std::function<void()> on_closed_;   // tells the worker this slot is gone
  zmq::socket_t socket_;              // the REQ socket
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on socket_
  state state_ = state::ready;        // current state
  bool closing_ = false;              // close after the running task
  handler_thread runner_;             // runs this slot's handlers
  common::task_msg task_;             // the running task
  zmq::message_t payload_;            // its input
  std::string result_;                // its output, or error text when !ok_
  bool ok_ = true;                    // whether the handler succeeded
};

}  // namespace argon::worker
