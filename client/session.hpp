// The client's I/O side: one DEALER socket, a libuv loop on its own thread,
// and every task that has not had its result yet.
//
// Requests from other threads arrive through a mutex-guarded inbox and a
// uv_async wake-up; everything else happens on the I/O thread, so the task
// table needs no lock. A PING on start-up checks that the broker answers:
// CURVE refusals are silent, so a task still unanswered connect_timeout after
// it was sent while no PONG has come fails as "unreachable" rather than hang.
#pragma once

#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "argon/client.hpp"
#include "clock.hpp"
#include "codec.hpp"
#include "keys.hpp"
#include "uv_handles.hpp"
#include "zmq_watch.hpp"

namespace argon {

// A task the client is waiting on.
struct pending_task {
  std::string id;                             // task id, unique per client
  std::string name;                           // task name
  zmq::message_t payload;                     // input, kept for busy retries
  submit_options opts;                        // as given
  std::function<void(result)> on_done;        // called once, on the I/O thread
  std::uint32_t busy_tries = 0;               // busy retries so far
  common::time_point first_sent;              // when it was first sent
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
  void ask_status(status_waiter w);

  client_options opts_;                  // as given
  std::string endpoint_;                 // normalised broker endpoint

 private:
  void take_inbox();
  void read_one();
  void on_message(common::message& m);
  void on_busy(const common::busy_msg& b);
  void send_submit(pending_task& t);
  void send_ping();
  void check_connection();
  void resolve(const std::string& id, result r);
  void shut_down();
  std::string next_id();

  common::steady_clock clock_;           // time for deadlines
  common::event_loop loop_;              // the I/O thread's loop
  zmq::context_t ctx_;                   // owns the socket
  zmq::socket_t socket_;                 // the DEALER
  std::optional<common::role_keys> keys_;  // CURVE keys; empty when insecure
  std::unique_ptr<common::zmq_watch> watch_;     // loop watch on socket_
  std::unique_ptr<common::async_wake> wake_;     // inbox wake-up
  std::unique_ptr<common::timer> connect_timer_; // PONG watchdog
  std::mutex inbox_mutex_;               // guards inbox_
  std::vector<std::function<void()>> inbox_;  // work posted from other threads
  std::unordered_map<std::string, std::unique_ptr<pending_task>> tasks_;  // by id
  std::deque<status_waiter> status_waiters_;  // in request order
  bool connected_ = false;               // a PONG has arrived
  bool closing_ = false;                 // shutting down: new tasks are cancelled
  common::time_point last_ping_;         // when the last PING went out
  std::string id_prefix_;                // random per client
  std::uint64_t id_counter_ = 0;         // per task
  std::mt19937_64 rng_;                  // jitter
  std::thread io_;                       // runs loop_
};

}  // namespace argon
