// Argon wire protocol, version 1: the one model of every message.
//
// A message on the wire is [empty][header][payload?]. The header is one
// msgpack array [version, role, command, fields...]; the payload, when a
// command has one, is a separate frame of opaque bytes that the broker moves
// between sockets without decoding. docs/protocol.md is the spec; this file
// and common/codec.* must change together with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace argon::common {

// The version every header carries; a peer with another version gets ERROR.
inline constexpr std::uint32_t protocol_version = 1;

// Largest header frame accepted; a larger one is a protocol error.
inline constexpr std::size_t max_header_bytes = 64 * 1024;

// Longest task id and task name accepted.
inline constexpr std::size_t max_id_bytes = 128;

// Longest progress message accepted.
inline constexpr std::size_t max_progress_bytes = 1024;

// Most items in any array of a header (argv, task names, patterns).
inline constexpr std::size_t max_list_items = 1024;

// The reserved task name of client-named programs: SUBMIT/TASK carry argv.
inline constexpr const char* exec_task = "exec";

// Who sent a message; lets the broker tell three kinds of peer apart on one socket.
enum class role : std::uint8_t { client = 0, slot = 1, control = 2, broker = 3 };

// Every command of protocol version 1. Values are wire values.
enum class command : std::uint8_t {
  submit = 1,         // client -> broker, + payload
  cancel = 2,         // client -> broker
  status = 3,         // client -> broker
  ping = 4,           // client -> broker
  result = 10,        // broker -> client, + payload
  failed = 11,        // broker -> client
  busy = 12,          // broker -> client
  status_reply = 13,  // broker -> client
  pong = 14,          // broker -> client
  error = 15,         // broker -> any peer
  ready = 20,         // worker slot -> broker
  task = 21,          // broker -> worker slot, + payload
  done = 22,          // worker slot -> broker, + payload
  progress = 23,      // worker control -> broker -> client
  hello = 30,         // worker control -> broker
  heartbeat = 31,     // worker control <-> broker
  bye = 35,           // worker control -> broker
};

// Task priority lanes, served high before normal before low.
enum class priority : std::uint8_t { high = 0, normal = 1, low = 2 };

// Client asks the broker to run a task; the payload frame carries its input.
struct submit_msg {
  std::string id;                   // client-chosen task id, unique per client
  std::string task;                 // task name, e.g. "echo"
  priority pri = priority::normal;  // lane
  std::uint32_t timeout_ms = 0;     // run deadline in ms from dispatch; 0 = none
  std::uint32_t max_attempts = 1;   // how many times the task may be started
  std::vector<std::string> argv;    // task "exec" only: absolute program path and its arguments
};

// Client withdraws a task; from the broker to a worker's control channel, the
// worker should stop running it (its result is no longer wanted).
struct cancel_msg {
  std::string id;  // task id given in SUBMIT
};

// Client asks for a status snapshot.
struct status_msg {
  bool workers = false;  // also list each worker (optional trailing field; sent only when true)
};

// One worker process as STATUS_REPLY lists it.
struct worker_status {
  std::string id;                       // worker id
  std::string address;                  // its control channel's peer address; "" when unknown
  std::uint64_t capacity = 0;           // slots announced in HELLO; 0 when unknown
  std::uint64_t slots = 0;              // slots connected now
  std::uint64_t busy = 0;               // slots running a task
  std::uint64_t done = 0;               // tasks it finished
  std::uint64_t last_heartbeat_ms = 0;  // ms since any of its sockets last spoke
  bool leaving = false;                 // said BYE; gets no new tasks
  bool operator==(const worker_status&) const = default;
};

// Most workers one STATUS_REPLY lists, so the header stays under its size limit.
inline constexpr std::size_t max_listed_workers = 128;

// Client checks that the broker answers (and that the handshake succeeded).
struct ping_msg {};

// Broker delivers a task's result; the payload frame carries the output.
struct result_msg {
  std::string id;  // task id given in SUBMIT
};

// Broker reports that a task failed.
struct failed_msg {
  std::string id;       // task id given in SUBMIT
  std::string kind;     // machine-readable kind, e.g. "task_error"
  std::string message;  // human-readable text, e.g. the handler's error
};

// Broker refuses a SUBMIT because it cannot take more work now. Nothing is stored.
struct busy_msg {
  std::string id;                   // task id given in SUBMIT
  std::uint64_t depth = 0;          // tasks queued now
  std::uint64_t limit = 0;          // queue limit in tasks
  std::uint64_t capacity = 0;       // connected worker slots
  std::uint32_t retry_after_ms = 0; // broker's estimate of the wait
  std::string reason;               // "queue_full", "queue_bytes", "no_workers"
};

// A snapshot of broker state and counters.
struct status_reply_msg {
  std::uint64_t workers = 0;        // worker processes with at least one slot known
  std::uint64_t slots = 0;          // connected worker slots
  std::uint64_t busy_slots = 0;     // slots running a task
  std::uint64_t queue_depth = 0;    // tasks waiting for a slot
  std::uint64_t queue_high = 0;     // of which in the high lane
  std::uint64_t queue_normal = 0;   // of which in the normal lane
  std::uint64_t queue_low = 0;      // of which in the low lane
  std::uint64_t queue_limit = 0;    // limit in effect (tasks)
  std::uint64_t queue_bytes = 0;    // payload bytes queued
  std::uint64_t queue_bytes_limit = 0; // limit in effect (bytes)
  std::uint64_t submitted = 0;      // SUBMITs accepted
  std::uint64_t completed = 0;      // RESULTs delivered
  std::uint64_t failed = 0;         // FAILEDs delivered
  std::uint64_t busy_replies = 0;   // BUSY replies sent
  std::uint64_t protocol_errors = 0; // malformed or refused messages
  std::uint64_t uptime_ms = 0;      // since the broker started
  std::optional<std::vector<worker_status>> worker_list;  // per worker, when STATUS asked for it
};

// Broker answers PING.
struct pong_msg {
  std::string broker;  // the broker's instance id, new at each start: a change means it restarted
};

// Broker reports a malformed or refused message.
struct error_msg {
  std::string kind;     // "protocol_error", "not_allowed", "payload_too_large", ...
  std::string message;  // what was wrong
};

// What a worker can run, as its slots announce it.
struct capabilities {
  std::vector<std::string> tasks;  // task names it has a handler for
  std::vector<std::string> exec;   // glob patterns of programs it runs for task "exec" (--allow-exec)
  bool operator==(const capabilities&) const = default;
};

// A worker slot announces that it can take one task.
struct ready_msg {
  std::string worker_id;             // the slot's worker process
  std::optional<capabilities> caps;  // absent: the worker takes any task (and fails names it lacks)
};

// Broker hands a task to a slot; the payload frame carries its input.
struct task_msg {
  std::string id;              // task id
  std::string task;            // task name
  std::uint32_t attempt = 1;   // 1 on the first start
  std::uint64_t deadline_ms = 0; // unix time in ms by which to finish; 0 = none
  std::vector<std::string> argv; // task "exec" only: the program and its arguments
};

// A slot returns a task's outcome; it also means the slot is ready again.
struct done_msg {
  std::string worker_id;  // the slot's worker process
  std::string id;         // task id from TASK
  bool ok = true;         // false: the handler failed
  std::string error;      // handler's error text when !ok
  std::string kind;       // error kind when !ok, e.g. "not_allowed"; "" means "task_error"
};

// A worker process introduces its control channel.
struct hello_msg {
  std::string worker_id;       // the same id its slots announce
  std::uint32_t capacity = 0;  // slots it runs
  std::string version;         // Argon version, for logs
};

// Liveness, both ways; any message from a peer also counts as a sign of life.
struct heartbeat_msg {
  std::string sender;  // a worker's id, or from the broker its instance id (new at each start)
};

// A worker is stopping: send it no more tasks; its running ones will finish.
struct bye_msg {
  std::string worker_id;  // the stopping worker
};

// A running task's progress: worker control -> broker, and broker -> the
// task's client. The broker forwards only progress of a task that the
// sending worker runs.
struct progress_msg {
  std::string id;              // task id
  std::uint32_t percent = 0;   // 0-100
  std::string message;         // short free text, may be empty
};

// Any header, typed.
using body = std::variant<submit_msg, cancel_msg, status_msg, ping_msg, result_msg, failed_msg,
                          busy_msg, status_reply_msg, pong_msg, error_msg, ready_msg, task_msg,
                          done_msg, hello_msg, heartbeat_msg, bye_msg, progress_msg>;

// The command a body encodes as.
command command_of(const body& b);

// Upper-case wire name of a command, e.g. "SUBMIT"; "UNKNOWN" for others.
const char* command_name(command c);

// Lower-case name of a priority and back; parse returns false on an unknown name.
const char* priority_name(priority p);
bool parse_priority(const std::string& name, priority& out);

}  // namespace argon::common
