// One REQ task slot of a worker process.
//
// The slot says READY when it starts; each TASK it receives runs on the
// slot's own handler thread, and the completion (back on the loop thread)
// sends DONE, which is also the next READY. A REQ socket strictly
// alternates send and receive, so a slot is ready or busy, never both, and
// never holds more than one task. When the worker stops, a busy slot
// closes right after sending its DONE; an idle one waits for the broker's
// answer to its READY (ERROR worker_leaving once the broker has read the
// worker's BYE, or a TASK it sent before that, which runs first), for at
// most leave_wait, so no task sent to it is lost unstarted. A result over
// the broker's LIMITS max_result is returned as result_too_large, since
// the broker's socket would drop the frame and the slot's connection.
//
// When the broker restarts, an idle slot's READY (or DONE) went to a peer
// that no longer has it, so the slot replaces its socket (same routing id)
// and says READY anew; a reply meant for the old socket dies with it. When
// the broker is lost (silent), it may be the same broker, still waiting for
// the slot's last DONE, so an idle slot replaces its socket and repeats its
// last request, READY or that DONE (kept until the next task for this). A
// busy slot asked to reconnect replaces its socket after its handler
// returns, just before DONE. A CANCEL for the running task sets the flag
// the handler's task_context reads (a program is stopped by it); the slot
// sends DONE when the handler returns, as usual. A handler's progress
// reports go out on the control channel through the slot's progress_relay.
// Every READY carries the worker's capabilities.
//
// A worker serving several brokers has a slot per broker for each unit of
// capacity, and a READY is an offer that holds one of `capacity` permits
// (slot_env::take_offer). A slot that gets no permit at its start is parked:
// it says nothing until offer(). A READY the worker withdrew (WITHDRAW on
// the control channel) is answered with ERROR withdrawn: the slot parks and
// its permit is free again (slot_env::offer_withdrawn). A TASK that was
// already on its way instead runs as usual. A slot may also give its permit
// up as its task ends (slot_env::park_after_task): its DONE then asks for no
// next task, and the answer parks it. So tasks running plus READYs
// outstanding never pass the capacity, across all brokers.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include <zmq.hpp>

#include "argon/worker.hpp"
#include "broker_socket.hpp"
#include "handler_thread.hpp"
#include "progress_relay.hpp"
#include "protocol.hpp"
#include "uv_handles.hpp"
#include "zmq_watch.hpp"

namespace argon::worker {

// A registered handler, and where it runs.
struct handler_entry {
  handler_entry() = default;
  template <class F>
    requires std::is_constructible_v<context_handler, F>
  handler_entry(F fn, bool quick_run = false) : run(std::move(fn)), quick(quick_run) {}  // NOLINT: implicit by design
  context_handler run;  // turns the payload into the result
  bool quick = false;   // runs on the loop thread (worker::handle_quick)
};
using handler_table = std::unordered_map<std::string, handler_entry>;

// What every slot of a worker shares.
struct slot_env {
  uv_loop_t* loop;                          // the worker's loop
  broker_address broker;                    // context, endpoint and keys
  std::string worker_id;                    // announced in READY and DONE
  const handler_table* handlers;            // read-only while running
  completion_queue* completions;            // finished handlers report here
  std::optional<common::capabilities> caps; // announced in every READY
  progress_sender progress;                 // sends PROGRESS on the control channel, once it is open
  std::uint64_t max_result = 0;             // the broker's LIMITS max_result, bytes; 0 until heard
  common::millis leave_wait{3000};          // how long a stopping idle slot waits for the broker's answer
  std::optional<std::uint32_t> lanes{};     // lanes announced in every READY; empty: every lane
  std::function<bool()> take_offer{};       // takes a permit for one READY; empty: always granted (one broker)
  std::function<void()> offer_withdrawn{};  // a READY was withdrawn: its permit is free again
  std::function<bool()> park_after_task{};  // asked as a task ends: true to give its permit up (DONE with park)
};

class task_slot {
 public:
  // on_closed is called (on the loop thread) once the slot has closed.
  task_slot(const slot_env& env, unsigned index, std::function<void()> on_closed);
  task_slot(const task_slot&) = delete;
  task_slot& operator=(const task_slot&) = delete;

  // Closes once the broker has answered an idle slot's READY (or leave_wait
  // has passed), or right after the running task's DONE.
  void close_when_idle();
  // The broker restarted: an idle slot replaces its socket and says READY; a busy one's DONE will do.
  void reannounce();
  // The broker was lost: replaces the socket and repeats READY or DONE now if idle, else just before DONE.
  void reconnect();
  // Marks the running task cancelled if its id is task_id; false if this slot is not running it.
  bool cancel(std::string_view task_id);
  // Set while the running task has been cancelled; readable from the handler thread.
  [[nodiscard]] const std::atomic<bool>& cancelled() const { return cancelled_; }
  [[nodiscard]] bool busy() const { return state_ == state::busy; }
  // Parked: no READY outstanding and no task (it has no permit).
  [[nodiscard]] bool parked() const { return parked_; }
  // Waiting at the broker for a task, since when (steady clock).
  [[nodiscard]] bool offered() const { return state_ == state::ready && !parked_ && !parking_ && !closing_; }
  [[nodiscard]] common::time_point offered_since() const { return offered_since_; }
  // A parked slot says READY, with the permit its caller took; false if it cannot (closing).
  bool offer();
  [[nodiscard]] const std::string& routing_id() const { return routing_id_; }

 private:
  enum class state { ready, busy, closed };  // a slot's life

  void open_socket();
  void close_socket();
  void replace_socket();
  bool read_one();
  bool start(common::task_msg&& t, zmq::message_t&& payload);
  void run_handler();   // on the handler thread, or the loop thread for a quick handler
  void finish();        // back on the loop thread
  void end_task();      // the outcome is known: DONE goes to the broker
  void send_done();
  void send_ready();
  void keep_result_limit();
  void close();
  void set_state(state s) { state_ = s; }

  const slot_env& env_;               // shared worker settings
  std::string routing_id_;            // kept by every socket this slot opens
  std::function<void()> on_closed_;   // tells the worker this slot is gone
  zmq::socket_t socket_;              // the REQ socket
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on socket_
  state state_ = state::ready;        // current state
  bool closing_ = false;              // close after the running task
  bool reconnect_before_done_ = false;  // the broker was lost while the task ran
  std::atomic<bool> cancelled_{false};  // the broker cancelled the running task
  common::timer leave_timer_;         // ends a stopping idle slot's wait for the broker
  handler_thread runner_;             // runs this slot's handlers
  progress_relay progress_;           // the running task's progress, to the control channel
  common::task_msg task_;             // the running task
  zmq::message_t payload_;            // its input
  std::string result_;                // its output, or error text when !ok_
  std::string kind_;                  // its error kind when !ok_; "" = task_error
  bool ok_ = true;                    // whether the handler succeeded
  bool holding_done_ = false;         // the last request was DONE: kept to repeat on a new socket
  bool awaiting_reply_ = false;       // a request went out on socket_ and its reply has not been read
  bool parked_ = false;               // no permit: no READY outstanding (several brokers)
  bool parking_ = false;              // the last DONE asked for no next task; its answer parks the slot
  common::time_point offered_since_{};  // when its READY (or DONE) last went out
};

}  // namespace argon::worker
