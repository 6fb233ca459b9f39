// The broker: one ROUTER socket for clients and worker slots, a bounded
// task queue and the ready-slot registry.
//
// The loop is fixed: the bridge wakes read_one(), which decodes one message
// and hands it to one small handler per command; dispatch() then pairs
// queued tasks with ready slots. Every defect in a message becomes an ERROR
// to its sender (or a FAILED for a task) and a log line; nothing a peer
// sends can stop the broker. A task is owned by the task table from SUBMIT
// until its outcome is sent, so it is never lost between structures; the
// handlers ask the table to change a task and never change one themselves.
// Everything the broker sends goes through one outbox; what a client cannot
// take yet waits there, and is sent again after each batch of reads, on
// each tick and when the outbox's retry time comes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "clock.hpp"
#include "codec.hpp"
#include "config.hpp"
#include "handshake_watch.hpp"
#include "uv_handles.hpp"
#include "log_limiter.hpp"
#include "observer.hpp"
#include "outbox.hpp"
#include "stats.hpp"
#include "task_table.hpp"
#include "worker_registry.hpp"
#include "zap_handler.hpp"
#include "zmq_watch.hpp"

namespace argon::broker {

// Messages ZeroMQ queues per connection in each direction (ZMQ_SNDHWM,
// ZMQ_RCVHWM). A count, not bytes, so it is kept small: what does not fit
// waits in the outbox, where it is counted in bytes.
inline constexpr int peer_queue_messages = 100;

class broker {
 public:
  broker(const config& cfg, common::clock& clk, uv_loop_t* loop);
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;
  ~broker();

  // The endpoint actually bound (resolves a "*" port).
  [[nodiscard]] std::string endpoint() const;
  // A snapshot of state and counters, as STATUS returns it.
  [[nodiscard]] common::status_reply_msg snapshot() const;
  // The monitor stream's endpoint as bound ("" without --monitor).
  [[nodiscard]] std::string monitor_endpoint() const { return seen_.feed_endpoint(); }
  // Stops taking new tasks (BUSY "draining") and calls on_drained once every
  // accepted task has had its outcome sent, and nothing waits for a slow
  // client any more. Queued tasks still run.
  void drain(std::function<void()> on_drained);
  // Tasks accepted whose outcome has not been sent yet.
  [[nodiscard]] std::size_t unfinished() const { return tasks_.size(); }
  // Clients that messages wait for, because they read too slowly.
  [[nodiscard]] std::size_t clients_behind() const { return out_.backlog().peers(); }
  // The task table, for tests of its invariants.
  [[nodiscard]] const task_table& tasks() const { return tasks_; }
  [[nodiscard]] const worker_registry& workers() const { return workers_; }

 private:
  // The sender of the message being handled.
  struct peer {
    const zmq::message_t& routing_id;  // where replies go
    std::string_view id;               // the same bytes, for lookups
    std::string user;                  // ZAP User-Id ("" when insecure)
    const common::frames& raw;         // the message as read, for its properties (Peer-Address)
  };

  bool read_one();
  void handle(common::frames& f);
  void route(const peer& p, common::message& m);
  bool allowed(const peer& p, common::role from, common::command c);
  void reply(const peer& p, const common::body& b) { out_.deliver(p.id, b, nullptr, wait_kind::reply); }
  void reply_error(const peer& p, const std::string& kind, const std::string& text);

  // client commands (client_handlers.cpp)
  void on_submit(const peer& p, common::submit_msg& m, zmq::message_t& payload);
  void on_cancel(const peer& p, const common::cancel_msg& m);
  void on_status(const peer& p, const common::status_msg& m);
  [[nodiscard]] common::status_reply_msg with_workers(common::status_reply_msg s) const;
  bool refuse_if_busy(const peer& p, const common::submit_msg& m, std::size_t bytes, bool slot_free);
  [[nodiscard]] std::string fair_admission(std::string_view client) const;
  [[nodiscard]] std::size_t fair_share(std::string_view client) const;
  void refuse(const peer& p, const std::string& id, const char* kind, const std::string& text);
  void reply_busy(const peer& p, const std::string& id, double wait_ms, const std::string& reason);
  bool refuse_if_unusable(const peer& p, const common::submit_msg& m);
  bool refuse_if_unserved(const peer& p, const common::submit_msg& m, const std::string& route);

  // deadlines, the outbox's retries and drain (broker.cpp)
  void expire_deadlines();
  void arm_deadline_timer();
  void flush_outbox();
  void check_drained();

  // worker control channel and liveness (control_handlers.cpp)
  void on_hello(const peer& p, const common::hello_msg& m);
  void on_heartbeat(const peer& p, const common::heartbeat_msg& m);
  void on_bye(const peer& p, const common::bye_msg& m);
  void on_withdraw(const peer& p, const common::withdraw_msg& m);
  // The ERROR worker_leaving that tells an idle slot of a leaving worker it gets no task.
  static common::error_msg leaving_msg(const std::string& worker_id);
  bool speaks_for(const peer& p, const std::string& worker_id, common::command c);
  void on_progress(const peer& p, const common::progress_msg& m);
  void tick();
  void expire_workers();
  void announce_left(const std::string& worker_id, const char* reason);
  void lose_worker(const std::string& worker_id, const char* why);

  // worker slot commands and dispatch (slot_handlers.cpp)
  void on_ready(const peer& p, const common::ready_msg& m);
  void on_done(const peer& p, common::done_msg& m, zmq::message_t& payload);
  void dispatch();
  [[nodiscard]] std::uint32_t lanes_with_room() const;

  [[nodiscard]] std::size_t queue_limit() const;
  // The largest frame the ROUTER takes (ZMQ_MAXMSGSIZE); a larger one drops its connection.
  [[nodiscard]] std::uint64_t frame_limit() const;

  config cfg_;                  // settings
  std::string instance_;        // random id of this run, in PONG and HEARTBEAT: peers see a restart
  common::clock& clock_;        // time source (fake in tests)
  zmq::context_t ctx_;          // owns the sockets below
  std::unique_ptr<zap_handler> zap_;  // CURVE key check; null when insecure
  zmq::socket_t router_;        // the one endpoint
  observer seen_{clock_};       // worker details for STATUS, and the monitor stream's hooks
  outbox out_{router_, seen_, clock_, cfg_.client_backlog_bytes};  // the one way onto router_
  stats stats_;                 // counters and averages
  task_table tasks_;            // every task not yet answered, its queue, deadlines and slot
  bool draining_ = false;       // shutting down: new SUBMITs get BUSY "draining"
  std::function<void()> on_drained_;  // called once when draining and nothing is unfinished or waiting
  worker_registry workers_;     // slots and who is ready
  log_limiter error_log_{20};   // protocol errors logged per second at most
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on router_
  std::unique_ptr<handshake_watch> handshakes_;  // logs failed handshakes and running out of file descriptors
  common::time_point last_tick_;  // when the heartbeat tick last ran
  common::timer heartbeat_;     // liveness tick
  common::timer deadline_timer_;  // fires at the soonest task deadline
  common::timer retry_timer_;   // fires when the outbox next offers what waits for slow clients
};

}  // namespace argon::broker
