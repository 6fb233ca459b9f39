// The client's I/O side: a libuv loop on its own thread, the link to the
// broker, and every task that has not had its result yet.
//
// Requests from other threads arrive through a mutex-guarded inbox and a
// uv_async wake-up; everything else happens on the I/O thread, so the task
// table needs no lock. A PING on start-up checks that the broker answers:
// CURVE refusals are silent, so a task still unanswered connect_timeout after
// it was sent while no PONG has come fails as "unreachable" rather than hang.
// Once the broker has answered, the client keeps every unfinished task until
// its one outcome arrives: when the broker restarts or comes back after being
// lost, each is sent again under its own id (the broker ignores ids it still
// knows), and while the broker is lost new tasks wait instead of being sent.
// Tasks still unfinished reconnect_timeout after the loss fail as
// "unreachable". Outcomes for tasks already finished are dropped, so the
// caller hears exactly once per task.
#pragma once

#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "argon/client.hpp"
#include "broker_link.hpp"
#include "clock.hpp"
#include "codec.hpp"
#include "uv_handles.hpp"

namespace argon {

// Where an unfinished task stands on the client's side.
enum class pending_state {
  awaiting_outcome,  // sent (or held while the broker is lost); the broker owes an outcome
  backing_off,       // refused as busy; its retry timer will send it again
};

// A task the client is waiting on.
struct pending_task {
  std::string id;                             // task id, unique per client
  std::uint64_t seq = 0;                      // submission order, kept when resubmitting
  std::string name;                           // task name
  std::vector<std::string> argv;              // task "exec": the program and its arguments, sent with every resubmit
  zmq::message_t payload;                     // input, kept for busy retries and resubmits
  submit_options opts;                        // as given
  std::function<void(result)> on_done;        // called once, on the I/O thread
  pending_state state = pending_state::awaiting_outcome;  // changed only by send_submit and on_busy
  std::uint32_t busy_tries = 0;               // busy retries so far
  common::time_point submitted_at;            // when the caller submitted it; timeouts count from here
  std::unique_ptr<common::timer> retry_timer;    // pending busy retry
  std::unique_ptr<common::timer> timeout_timer;  // the caller's timeout
};

// A status request waiting for its reply.
using status_waiter = std::shared_ptr<std::promise<common::status_reply_msg>>;

struct client::session {
  explicit session(client_options opts);
  ~session();

  // Any thread: runs fn on the I/O thread (at once when already on it).
  void post(std::function<void()> fn);
  [[nodiscard]] bool on_io_thread() const { return std::this_thread::get_id() == io_.get_id(); }

  // I/O thread only.
  void start_task(std::unique_ptr<pending_task> t);
  void ask_status(status_waiter w, bool with_workers);

  client_options opts_;                  // as given
  std::string endpoint_;                 // normalised broker endpoint

 private:
  void take_inbox();
  link_settings make_link_settings();
  void on_message(common::message& m);
  void on_status_reply(const common::status_reply_msg& s);
  void on_busy(const common::busy_msg& b);
  void on_progress(const common::progress_msg& p);
  void arm_timeout(pending_task& t);
  void send_submit(pending_task& t);
  [[nodiscard]] std::uint32_t remaining_timeout_ms(const pending_task& t) const;
  void send_status_request();
  void fail_unanswered();
  void resend_unfinished();
  void fail_after_loss();
  void finish(const std::string& id, result r);
  void shut_down();
  std::string next_id();

  common::steady_clock clock_;           // time for deadlines
  common::event_loop loop_;              // the I/O thread's loop
  std::unique_ptr<broker_link> link_;    // the socket to the broker and its keep-alive
  std::unique_ptr<common::async_wake> wake_;     // inbox wake-up
  std::mutex inbox_mutex_;               // guards inbox_
  std::vector<std::function<void()>> inbox_;  // work posted from other threads
  std::unordered_map<std::string, std::unique_ptr<pending_task>> tasks_;  // by id
  std::deque<status_waiter> status_waiters_;  // in request order
  bool status_workers_ = false;          // a waiting status request wants the worker list
  bool closing_ = false;                 // shutting down: new tasks are cancelled
  std::string id_prefix_;                // random per client
  std::uint64_t id_counter_ = 0;         // per task
  std::mt19937_64 rng_;                  // jitter
  std::thread io_;                       // runs loop_
};

}  // namespace argon
