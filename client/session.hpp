// The client's I/O side: a libuv loop on its own thread, the link to the
// broker, and every task that has not had its result yet.
//
// Requests from other threads arrive through a mutex-guarded inbox and a
// uv_async wake-up; everything else happens on the I/O thread, so the task
// table needs no lock. Every timeout counts from when the caller submitted
// (or asked): the caller's own timeout, connect_timeout before the first
// contact with a broker (CURVE refusals are silent, so an unanswered task
// fails as "unreachable" rather than hang), and reconnect_timeout while the
// broker is lost (from the loss, or from the submission if later). Each
// task carries the timer of the deadline that applies to it, so none waits
// without one. Whatever was sent before contact with a broker instance may
// be lost: at the first contact, when the broker restarts, and when it comes
// back after being lost, every unfinished task that may not have reached
// that instance is sent again under its own id (the broker ignores ids it
// still knows; see broker_link.hpp for which may), and while the broker is lost
// new tasks wait instead of being sent. Outcomes for tasks already finished
// are dropped, so the caller hears exactly once per task.
//
// Several brokers (client_options::brokers): each has its own link, and a
// task goes to one of them at a time. A new task goes to the broker in
// contact with the fewest of this client's tasks (one not in contact only
// when none is). When a broker is lost, the tasks it owed go at once to
// another broker in contact; when a broker answers, tasks held at brokers
// out of contact go to it. A BUSY from one broker sends the task to another
// that has not refused it yet before it backs off. The first outcome for a
// task is the caller's; a copy still at another broker is cancelled there,
// and any later outcome is dropped. So each task may run more than once
// (at least once), yet its caller hears exactly once. No handler runs inside
// a send (broker_link::send reads what came on the next turn of the loop), so
// a message is never handled while another is half-handled: an answer to a
// CANCEL cannot overtake the outcome that made the client send it. A task fails as
// unreachable only when every broker has given up (each link's deadline).
//
// A task refused as busy stays here (the backlog stays with the client) and
// goes again as soon as the broker has room: each outcome from the broker
// means one task fewer there, so it sends the first task waiting for room
// (highest lane, then oldest) at once. While any task waits for room, a new
// task waits behind it rather than being sent only to be refused. Its retry timer (the broker's retry_after_ms, or the 1 + ln n
// backoff) sends it only while no outcome arrives. So a client whose window
// is larger than the broker's queue limit keeps the broker full without
// losing a second per refusal, and the broker never holds more than its
// limit. A refusal of a send made for room does not count towards
// retry_policy::max_attempts: each needs an outcome, so it only happens
// while the broker makes progress.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>
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
  backing_off,       // refused as busy, or new while others were: waits for room or its retry timer
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
  std::uint32_t busy_tries = 0;               // busy refusals of sends made on the retry timer
  bool sent_for_room = false;                 // its last SUBMIT went because an outcome made room
  std::uint64_t sent_on = 0;                  // its broker's socket generation its last SUBMIT went out on; 0 = held
  std::size_t broker = 0;                     // the broker (index into the session's brokers) it was last sent to or is held for
  bool placed = false;                        // broker is set: the task counts in that broker's assigned tasks
  std::uint32_t refused_by = 0;               // bit per broker that answered BUSY since it last backed off
  common::time_point submitted_at;            // when the caller submitted it; every timeout counts from here
  std::unique_ptr<common::timer> retry_timer;    // pending busy retry
  std::unique_ptr<common::timer> timeout_timer;  // the caller's timeout
  std::unique_ptr<common::timer> give_up_timer;  // while out of contact with the broker: when it fails as unreachable
};

// A status request waiting for its reply.
using status_waiter = std::shared_ptr<std::promise<common::status_reply_msg>>;

struct client::session {
  explicit session(client_options opts);
  ~session();

  // Any thread: runs fn on the I/O thread (at once when already on it).
  void post(std::function<void()> fn);
  [[nodiscard]] bool on_io_thread() const { return std::this_thread::get_id() == io_.get_id(); }
  // Any thread: the session's time, for stamping a submission when the caller makes it.
  [[nodiscard]] common::time_point now() const { return clock_.now(); }

  // I/O thread only.
  void start_task(std::unique_ptr<pending_task> t);
  // Asks broker b (an index into endpoints_) for its status; npos: the first
  // broker in contact, else the first one.
  void ask_status(status_waiter w, bool with_workers, std::size_t b = npos);

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_brokers = 16;  // client_options::brokers holds at most this many

  client_options opts_;                  // as given
  std::vector<std::string> endpoints_;   // normalised broker endpoints, one per link
  std::string endpoint_;                 // the first of them (for messages about "the broker")

 private:
  // One broker: its link and what this client has outstanding there.
  struct broker_conn {
    std::unique_ptr<broker_link> link;     // the socket and its keep-alive
    std::size_t assigned = 0;              // unfinished tasks placed here (sent, held or backing off)
    std::deque<status_waiter> status_waiters;  // status requests sent here, in order
    bool status_workers = false;           // a waiting status request wants the worker list
    std::uint64_t status_sent_on = 0;      // the link's socket generation the last STATUS went out on
  };

  void take_inbox();
  link_settings make_link_settings(const std::string& endpoint, const std::string& routing_id,
                                   const std::optional<common::role_keys>& keys);
  void on_message(std::size_t b, common::message& m);
  void on_outcome(std::size_t b, const std::string& id, result r);
  void on_status_reply(std::size_t b, const common::status_reply_msg& s);
  void on_busy(std::size_t b, const common::busy_msg& bm);
  void on_room(std::size_t b);
  void place(pending_task& t, std::size_t b);
  void unplace(pending_task& t);
  [[nodiscard]] std::size_t pick_broker(const pending_task& t) const;
  [[nodiscard]] bool any_in_contact() const;
  [[nodiscard]] std::optional<common::time_point> give_up_at(const pending_task& t) const;
  [[nodiscard]] std::uint64_t smallest_max_payload() const;
  void wait_for_room(pending_task& t, common::millis delay);
  // Where t stands among the tasks waiting for room: the highest lane first, then the oldest.
  static std::pair<int, std::uint64_t> room_order(const pending_task& t) { return {static_cast<int>(t.opts.pri), t.seq}; }
  void on_progress(const common::progress_msg& p);
  void arm_timeout(pending_task& t);
  void send_submit(pending_task& t);
  [[nodiscard]] std::uint32_t remaining_timeout_ms(const pending_task& t) const;
  void send_status_request(std::size_t b);
  void arm_give_up(pending_task& t);
  void give_up_due(common::time_point deadline);
  [[nodiscard]] std::string unreachable_reason() const;
  void on_contact(std::size_t b, std::uint64_t resend_older_than);
  void on_lost(std::size_t b);
  void resend_unfinished(std::size_t b, std::uint64_t older_than);
  void finish(const std::string& id, result r);
  [[nodiscard]] std::string over_limit(const pending_task& t) const;
  void fail_over_limit();
  void update_idle();
  void shut_down();
  std::string next_id();

  common::steady_clock clock_;           // time for deadlines
  common::event_loop loop_;              // the I/O thread's loop
  std::vector<broker_conn> brokers_;     // one per endpoint, in the order given
  std::unique_ptr<common::async_wake> wake_;     // inbox wake-up
  std::mutex inbox_mutex_;               // guards inbox_
  std::vector<std::function<void()>> inbox_;  // work posted from other threads
  std::unordered_map<std::string, std::unique_ptr<pending_task>> tasks_;  // by id
  std::map<std::pair<int, std::uint64_t>, pending_task*> backing_off_;  // tasks waiting for room, by room_order
  common::millis last_retry_after_{0};   // the latest BUSY's retry_after_ms: the hint for a task that waits behind it
  bool closing_ = false;                 // shutting down: new tasks are cancelled
  std::string id_prefix_;                // random per client
  std::uint64_t id_counter_ = 0;         // per task
  std::mt19937_64 rng_;                  // jitter
  std::thread io_;                       // runs loop_
};

}  // namespace argon
