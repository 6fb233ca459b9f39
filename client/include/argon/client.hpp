// argon::client — submit tasks to an Argon broker and get their results.
//
// A client owns one DEALER socket with a stable routing id and a background
// I/O thread running its own libuv loop. Every public method may be called
// from any thread; calls made on the I/O thread itself (from a callback)
// send at once. Each task ends in exactly one result: its output, or an
// error kind (task_error, busy, unreachable, timeout, payload_too_large,
// protocol_error, cancelled). value() throws task_failed for the errors,
// as Argon 0.18's ->result croaked. Everything the client throws derives
// from argon::error (argon/error.hpp): config_error for bad options,
// task_failed for a task or status that did not succeed, usage_error for a
// blocking call made from the client's own I/O thread.
//
// The backlog is the client's. Until the broker first answers, a task left
// unanswered for connect_timeout after its submission fails as unreachable
// (the key may be wrong). The client PINGs every heartbeat from the start
// (once the broker has answered, only while it has work: idle, it sends
// nothing, and its next task PINGs at once);
// at the first answer, anything that may have gone to a broker that died
// before answering is sent again, and when the broker restarts (its PONG
// names a new instance) every unfinished task is submitted again under its
// own id. When nothing has come from the broker
// for liveness x heartbeat, the client keeps its tasks, makes a new socket
// (same routing id and keys) 1 s, 2 s, 4 s ... apart, at most 32 s, and
// resubmits them once the broker answers; tasks still unfinished
// reconnect_timeout after the loss fail as unreachable. A duplicate outcome
// for a task already finished is dropped.
//
// With several brokers (client_options::brokers, or a comma-separated
// broker) the client keeps a link to each. A new task goes to the broker in
// contact with the fewest of this client's tasks outstanding. When a broker
// is lost (liveness x heartbeat of silence), its unfinished tasks are
// submitted again to another broker in contact at once, under the same ids;
// a BUSY from one broker sends the task to another before backing off. The
// first outcome is the caller's and later ones are dropped, so a task whose
// broker died while it ran may run twice, but is reported once. A task fails
// as unreachable only when no broker has answered within the timeouts. Progress that a worker reports
// for a task reaches submit_options::on_progress; it is advisory (it may be
// coalesced or lost) and never arrives after the task's outcome.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "argon/error.hpp"
#include "protocol.hpp"

namespace argon {

// What to do when the broker answers busy.
struct retry_policy {
  bool enabled = true;                    // back off and resubmit; false: hand BUSY to the caller
  double base_seconds = 1.0;              // delay before retry n is base x (1 + ln n)
  std::uint32_t max_attempts = 30;        // busy retries before giving up
  std::chrono::milliseconds deadline{0};  // give up retrying after this long; 0 = no deadline
  double jitter = 0.1;                    // +- fraction of random spread on each delay
};

// The delay before busy-retry n (n >= 1): max(base x (1 + ln n), hint), capped at 32 s,
// then spread by +-jitter using unit_random in [0, 1].
std::chrono::milliseconds busy_backoff(const retry_policy& p, std::uint32_t n, std::chrono::milliseconds hint,
                                       double unit_random);

struct client_options {
  std::string broker;                              // "tcp://host:port" or "host:port"; several comma-separated, as brokers
  std::vector<std::string> brokers;                // several brokers (at most 16), used instead of broker when not empty:
                                                   // each task goes to one, and moves when that one is lost (see above)
  std::optional<std::string> keyfile;              // shared keyfile; required unless insecure
  bool insecure = false;                           // plaintext, only when asked for
  retry_policy retry;                              // busy handling
  std::chrono::milliseconds connect_timeout{5000}; // no first PONG this long after a task's submission: it fails as unreachable
  std::chrono::milliseconds heartbeat{1000};       // PING interval before first contact, and after it while tasks are unfinished
  std::uint32_t liveness = 3;                      // heartbeats without a word from the broker before it is lost
  std::chrono::milliseconds reconnect_timeout{60000}; // broker lost this long: unfinished tasks fail as unreachable; 0 = never
  std::size_t max_payload = 16u << 20;             // larger payloads are refused before sending
};

// A running task's progress, as its worker reported it.
struct progress_info {
  std::string id;           // task id
  std::uint32_t percent = 0;  // 0-100
  std::string message;      // the worker's short note, may be empty
};

struct submit_options {
  common::priority pri = common::priority::normal;  // lane
  std::chrono::milliseconds timeout{0};             // give up this long after submit(), resubmits included; 0 = never
  std::uint32_t max_attempts = 3;                   // starts the broker may make of the task
  std::optional<bool> retry;                        // overrides retry_policy::enabled
  std::function<void(const progress_info&)> on_progress;  // runs on the I/O thread for each report; may be empty
};

// What the broker said when it refused a task as busy.
struct busy_info {
  std::uint64_t depth = 0;                   // tasks queued
  std::uint64_t limit = 0;                   // queue limit
  std::uint64_t capacity = 0;                // connected worker slots
  std::chrono::milliseconds retry_after{0};  // the broker's estimate of the wait
  std::string reason;                        // queue_full, queue_bytes, no_workers, draining, client_slow, starting
};

// Thrown by result::value() for a task that did not succeed.
class task_failed : public error {
 public:
  task_failed(std::string kind, const std::string& message);
  [[nodiscard]] const std::string& kind() const { return kind_; }

 private:
  std::string kind_;  // error kind, e.g. "task_error"
};

// The outcome of one task.
class result {
 public:
  static result success(std::string id, std::string value);
  static result failure(std::string id, std::string kind, std::string message);
  static result refused(std::string id, busy_info busy);

  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] bool ok() const { return ok_; }
  // The output; throws task_failed when the task did not succeed.
  [[nodiscard]] const std::string& value() const;
  [[nodiscard]] const std::string& error_kind() const { return kind_; }
  [[nodiscard]] const std::string& error_message() const { return message_; }
  [[nodiscard]] const std::optional<busy_info>& busy() const { return busy_; }

 private:
  std::string id_;                 // task id
  bool ok_ = false;                // succeeded
  std::string value_;              // output when ok
  std::string kind_;               // error kind when !ok
  std::string message_;            // error text when !ok
  std::optional<busy_info> busy_;  // details when kind is "busy"
};

class client {
 public:
  // Loads keys and starts the I/O thread; throws common::config_error on a mistake.
  explicit client(client_options opts);
  // Finishes unfinished tasks as "cancelled" and joins the I/O thread.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  std::future<result> submit(std::string name, std::string payload, submit_options opts = {});
  // on_done runs on the I/O thread; it may submit more tasks.
  void submit(std::string name, std::string payload, submit_options opts, std::function<void(result)> on_done);
  // Blocks until the task's result. Called from the I/O thread (a callback) it
  // would wait for itself forever, so it throws usage_error instead.
  result call(std::string name, std::string payload, submit_options opts = {});
  // Runs a program on a worker that allows it (argon-worker --allow-exec): the
  // reserved task "exec" with argv; stdin_payload is its stdin, its stdout the
  // result. argv must be non-empty with an absolute, lexically normal argv[0],
  // at most 1,024 items, fitting a 64 KiB header; otherwise the result fails
  // with protocol_error and nothing is sent.
  std::future<result> exec(std::vector<std::string> argv, std::string stdin_payload, submit_options opts = {});
  // on_done runs on the I/O thread.
  void exec(std::vector<std::string> argv, std::string stdin_payload, submit_options opts,
            std::function<void(result)> on_done);
  // The broker's status, with one entry per worker when with_workers is set; throws
  // task_failed("unreachable", ...) if it does not answer in time, and usage_error,
  // as call() does, when called from the I/O thread. With several brokers, the
  // first one in contact answers (the first one given, if none is yet).
  common::status_reply_msg status(bool with_workers = false);
  // One broker's status, for each broker in the order given: its endpoint,
  // and its snapshot or why there is none (it did not answer within
  // connect_timeout). Throws usage_error from the I/O thread.
  struct broker_status {
    std::string endpoint;                            // normalised, tcp://host:port
    std::optional<common::status_reply_msg> status;  // empty when it did not answer
    std::string error;                               // why it is empty
  };
  std::vector<broker_status> status_each(bool with_workers = false);

  struct session;

 private:
  std::unique_ptr<session> session_;  // the I/O thread and everything it owns
};

}  // namespace argon
