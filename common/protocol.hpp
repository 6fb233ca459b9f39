// Argon wire protocol, version 1: the one model of every message.
//
// A message on the wire is [empty][header][payload?]. The header is one
// msgpack array [version, role, command, fields...]; the payload, when a
// command has one, is a separate frame of opaque bytes that the broker moves
// between sockets without decoding.
//
// Each message struct names its command (wire_command, wire_name) and lists
// its header fields once, in wire order, in each_field(): wire name, limit,
// and whether a header may end before it. The codec (header_codec.cpp)
// derives packing, checking, field counts and error texts from that list;
// the test samples, `argon status` and the docs test walk it too. Structs
// sent as a msgpack map (the STATUS_REPLY snapshot, one worker's entry) list
// their keys in each_key() the same way. docs/protocol.md is the spec; this
// file and common/codec.* change together with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "wire_field.hpp"

namespace argon::common {

// The version every header carries; a peer with another version gets ERROR.
inline constexpr std::uint32_t protocol_version = 1;

// Largest header frame accepted; a larger one is a protocol error.
inline constexpr std::size_t max_header_bytes = 64 * 1024;

// Longest task id and task name accepted.
inline constexpr std::size_t max_id_bytes = 128;

// Longest progress message accepted.
inline constexpr std::size_t max_progress_bytes = 1024;

// Most starts a SUBMIT may allow its task (max_attempts).
inline constexpr std::uint32_t max_attempts_limit = 1000;

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
  limits = 32,        // broker -> worker control
  bye = 35,           // worker control -> broker
  withdraw = 36,      // worker control -> broker
};

// Task priority lanes, served high before normal before low.
enum class priority : std::uint8_t { high = 0, normal = 1, low = 2 };

// Client asks the broker to run a task; the payload frame carries its input.
struct submit_msg {
  std::string id;                   // client-chosen task id, unique per client
  std::string task;                 // task name, e.g. "echo"
  priority pri = priority::normal;  // lane
  std::uint32_t timeout_ms = 0;     // deadline in ms from when the broker accepts the task; 0 = none
  std::uint32_t max_attempts = 1;   // how many times the task may be started
  std::vector<std::string> argv;    // task "exec" only: absolute program path and its arguments
  static constexpr command wire_command = command::submit;
  static constexpr const char* wire_name = "SUBMIT";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id), v(field{"task", max_id_bytes}, s.task);  // which task, as in TASK
    v(field{"priority", 2}, s.pri);
    v(field{"timeout_ms"}, s.timeout_ms);
    v(field{"max_attempts", max_attempts_limit}.reading_zero_as(1), s.max_attempts);
    v(field{"argv", max_header_bytes}.optional(), s.argv);
  }
};

// Client withdraws a task; from the broker to a worker's control channel, the
// worker should stop running it (its result is no longer wanted).
struct cancel_msg {
  std::string id;  // task id given in SUBMIT
  static constexpr command wire_command = command::cancel;
  static constexpr const char* wire_name = "CANCEL";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id);
  }
};

// Client asks for a status snapshot.
struct status_msg {
  bool workers = false;  // also list each worker (sent only when true)
  static constexpr command wire_command = command::status;
  static constexpr const char* wire_name = "STATUS";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"workers"}.only_when_set(), s.workers);
  }
};

// One worker process as STATUS_REPLY lists it: a map, so keys can be added.
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
  template <class S, class V> static void each_key(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id);
    v(field{"address", max_id_bytes}, s.address);
    v(field{"capacity"}, s.capacity);
    v(field{"slots"}, s.slots);
    v(field{"busy"}, s.busy);
    v(field{"done"}, s.done);
    v(field{"last_heartbeat_ms"}, s.last_heartbeat_ms);
    v(field{"leaving"}, s.leaving);
  }
};

// Most workers one STATUS_REPLY lists, so the header stays under its size limit.
inline constexpr std::size_t max_listed_workers = 128;

// Client checks that the broker answers (and that the handshake succeeded).
struct ping_msg {
  static constexpr command wire_command = command::ping;
  static constexpr const char* wire_name = "PING";
  template <class S, class V> static void each_field(S&, V&&) {}
};

// Broker delivers a task's result; the payload frame carries the output.
struct result_msg {
  std::string id;  // task id given in SUBMIT
  static constexpr command wire_command = command::result;
  static constexpr const char* wire_name = "RESULT";
  template <class S, class V> static void each_field(S& s, V&& v) { v(field{"id", max_id_bytes}, s.id); }
};

// Broker reports that a task failed.
struct failed_msg {
  std::string id;       // task id given in SUBMIT
  std::string kind;     // machine-readable kind, e.g. "task_error"
  std::string message;  // human-readable text, e.g. the handler's error
  static constexpr command wire_command = command::failed;
  static constexpr const char* wire_name = "FAILED";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id);
    v(field{"kind", max_id_bytes}, s.kind);
    v(field{"message", max_header_bytes}, s.message);
  }
};

// Broker refuses a SUBMIT because it cannot take more work now. Nothing is stored.
struct busy_msg {
  std::string id;                   // task id given in SUBMIT
  std::uint64_t depth = 0;          // tasks queued now
  std::uint64_t limit = 0;          // queue limit in tasks
  std::uint64_t capacity = 0;       // connected worker slots
  std::uint32_t retry_after_ms = 0; // broker's estimate of the wait
  std::string reason;               // "queue_full", "queue_bytes", "no_workers", "draining", "client_slow", "starting", "client_share"
  static constexpr command wire_command = command::busy;
  static constexpr const char* wire_name = "BUSY";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id);
    v(field{"depth"}, s.depth);
    v(field{"limit"}, s.limit);
    v(field{"capacity"}, s.capacity);
    v(field{"retry_after_ms"}, s.retry_after_ms);
    v(field{"reason", max_id_bytes}, s.reason);
  }
};

// A snapshot of broker state and counters. The counters travel as one map
// (each_key), so keys can be added without a version bump.
struct status_reply_msg {
  std::uint64_t workers = 0;        // worker processes with at least one slot known
  std::uint64_t slots = 0;          // connected worker slots
  std::uint64_t busy_slots = 0;     // slots running a task
  std::uint64_t queue_depth = 0;    // tasks waiting for a slot
  std::uint64_t queue_high = 0;     // of which in the high lane
  std::uint64_t queue_normal = 0;   // of which in the normal lane
  std::uint64_t queue_low = 0;      // of which in the low lane
  std::uint64_t queued_clients = 0; // clients with at least one task waiting (they take turns in each lane)
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
  static constexpr command wire_command = command::status_reply;
  static constexpr const char* wire_name = "STATUS_REPLY";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"snapshot"}, map_of<S>{s});
    v(field{"workers"}.only_when_set(), s.worker_list);  // at most max_listed_workers
  }
  template <class S, class V> static void each_key(S& s, V&& v) {
    v(field{"workers"}, s.workers);
    v(field{"slots"}, s.slots);
    v(field{"busy_slots"}, s.busy_slots);
    v(field{"queue_depth"}, s.queue_depth);
    v(field{"queue_high"}, s.queue_high);
    v(field{"queue_normal"}, s.queue_normal);
    v(field{"queue_low"}, s.queue_low);
    v(field{"queued_clients"}, s.queued_clients);
    v(field{"queue_limit"}, s.queue_limit);
    v(field{"queue_bytes"}, s.queue_bytes);
    v(field{"queue_bytes_limit"}, s.queue_bytes_limit);
    v(field{"submitted"}, s.submitted);
    v(field{"completed"}, s.completed);
    v(field{"failed"}, s.failed);
    v(field{"busy_replies"}, s.busy_replies);
    v(field{"protocol_errors"}, s.protocol_errors);
    v(field{"uptime_ms"}, s.uptime_ms);
  }
};

// Broker answers PING.
struct pong_msg {
  std::string broker;              // the broker's instance id, new at each start: a change means it restarted
  std::uint64_t max_payload = 0;   // the largest payload it accepts (--max-payload), bytes; 0: not said (an older broker)
  static constexpr command wire_command = command::pong;
  static constexpr const char* wire_name = "PONG";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"broker", max_id_bytes}, s.broker), v(field{"max_payload"}.optional(), s.max_payload);
  }
};

// Broker reports a malformed or refused message.
struct error_msg {
  std::string kind;     // "protocol_error", "not_allowed", "payload_too_large", ...
  std::string message;  // what was wrong
  static constexpr command wire_command = command::error;
  static constexpr const char* wire_name = "ERROR";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"kind", max_id_bytes}, s.kind);
    v(field{"message", max_header_bytes}, s.message);
  }
};

// What a worker can run, as its slots announce it: two fields of READY.
struct capabilities {
  std::vector<std::string> tasks;  // task names it has a handler for
  std::vector<std::string> exec;   // glob patterns of programs it runs for task "exec" (--allow-exec)
  bool operator==(const capabilities&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"tasks", max_id_bytes}, s.tasks);
    v(field{"exec", max_id_bytes * 8}, s.exec);
  }
};

// The lanes bit mask of READY: bit p is lane p (0 high, 1 normal, 2 low).
inline constexpr std::uint32_t all_lanes = 7;
[[nodiscard]] constexpr std::uint32_t lane_bit(priority p) { return 1u << static_cast<unsigned>(p); }

// A worker slot announces that it can take one task.
struct ready_msg {
  std::string worker_id;             // the slot's worker process
  std::optional<capabilities> caps;  // absent: the worker takes any task (and fails names it lacks)
  std::optional<std::uint32_t> lanes{};  // bit per lane it takes (1 high, 2 normal, 4 low); absent: every lane.
                                       // Only after the capabilities; 0 reads as every lane
  static constexpr command wire_command = command::ready;
  static constexpr const char* wire_name = "READY";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"worker_id", max_id_bytes}, s.worker_id);
    v(field{"capabilities"}.only_when_set(), s.caps);  // its fields, both or neither
    v(field{"lanes", all_lanes}.only_when_set().reading_zero_as(all_lanes), s.lanes);
  }
};

// Broker hands a task to a slot; the payload frame carries its input.
struct task_msg {
  std::string id;              // task id
  std::string task;            // task name
  std::uint32_t attempt = 1;   // 1 on the first start
  std::uint64_t deadline_ms = 0; // unix time in ms by which to finish; 0 = none
  std::vector<std::string> argv; // task "exec" only: the program and its arguments
  static constexpr command wire_command = command::task;
  static constexpr const char* wire_name = "TASK";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id), v(field{"task", max_id_bytes}, s.task);  // which task, as in SUBMIT
    v(field{"attempt"}, s.attempt);
    v(field{"deadline_ms"}, s.deadline_ms);
    v(field{"argv", max_header_bytes}.optional(), s.argv);
  }
};

// A slot returns a task's outcome; it also means the slot is ready again.
struct done_msg {
  std::string worker_id;  // the slot's worker process
  std::string id;         // task id from TASK
  bool ok = true;         // false: the handler failed
  std::string error;      // handler's error text when !ok
  std::string kind;       // error kind when !ok, e.g. "not_allowed"; "" means "task_error"
  bool park = false;      // the slot asks for no next task (its worker moves the capacity to another broker):
                          // the broker answers ERROR withdrawn instead of counting it ready
  static constexpr command wire_command = command::done;
  static constexpr const char* wire_name = "DONE";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"worker_id", max_id_bytes}, s.worker_id);
    v(field{"id", max_id_bytes}, s.id);
    v(field{"ok"}, s.ok);
    v(field{"error", max_header_bytes}, s.error);
    v(field{"kind", max_id_bytes}.optional(), s.kind);
    v(field{"park"}.only_when_set(), s.park);
  }
};

// A worker process introduces its control channel.
struct hello_msg {
  std::string worker_id;          // the same id its slots announce
  std::uint32_t capacity = 0;     // slots it runs
  std::string version;            // Argon version, for logs
  std::uint64_t incarnation = 0;  // random, new at each start of the worker process; 0: not said (an older worker)
  static constexpr command wire_command = command::hello;
  static constexpr const char* wire_name = "HELLO";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"worker_id", max_id_bytes}, s.worker_id);
    v(field{"capacity", 1u << 20}, s.capacity);
    v(field{"version", max_id_bytes}, s.version);
    v(field{"incarnation"}.optional(), s.incarnation);
  }
};

// Liveness, both ways; any message from a peer also counts as a sign of life.
struct heartbeat_msg {
  std::string sender;  // a worker's id, or from the broker its instance id (new at each start)
  static constexpr command wire_command = command::heartbeat;
  static constexpr const char* wire_name = "HEARTBEAT";
  template <class S, class V> static void each_field(S& s, V&& v) { v(field{"sender", max_id_bytes}, s.sender); }
};

// The broker's limits a worker must keep, sent after the HEARTBEAT that
// answers HELLO: a result larger than max_result would be dropped by the
// broker's socket together with the slot's connection, so the worker fails
// such a task as result_too_large instead.
struct limits_msg {
  std::uint64_t max_result = 0;  // the largest DONE payload the broker accepts, bytes
  static constexpr command wire_command = command::limits;
  static constexpr const char* wire_name = "LIMITS";
  template <class S, class V> static void each_field(S& s, V&& v) { v(field{"max_result"}, s.max_result); }
};

// A worker is stopping: send it no more tasks; its running ones will finish.
struct bye_msg {
  std::string worker_id;  // the stopping worker
  static constexpr command wire_command = command::bye;
  static constexpr const char* wire_name = "BYE";
  template <class S, class V> static void each_field(S& s, V&& v) { v(field{"worker_id", max_id_bytes}, s.worker_id); }
};

// A worker takes back an idle slot's READY (to offer it to another broker):
// worker control -> broker. The broker answers on the slot itself, with
// ERROR withdrawn, when the slot was waiting for a task; a slot whose TASK
// is already on its way gets that TASK instead, so nothing is lost.
struct withdraw_msg {
  std::string worker_id;  // the slot's worker
  std::string slot;       // the slot's routing id, as its READY came from
  static constexpr command wire_command = command::withdraw;
  static constexpr const char* wire_name = "WITHDRAW";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"worker_id", max_id_bytes}, s.worker_id);
    v(field{"slot", max_id_bytes}, s.slot);
  }
};

// A running task's progress: worker control -> broker, and broker -> the
// task's client. The broker forwards only progress of a task that the
// sending worker runs.
struct progress_msg {
  std::string id;              // task id
  std::uint32_t percent = 0;   // 0-100
  std::string message;         // short free text, may be empty
  static constexpr command wire_command = command::progress;
  static constexpr const char* wire_name = "PROGRESS";
  template <class S, class V> static void each_field(S& s, V&& v) {
    v(field{"id", max_id_bytes}, s.id);
    v(field{"percent", 100}, s.percent);
    v(field{"message", max_progress_bytes}, s.message);
  }
};

// Any header, typed.
using body = std::variant<submit_msg, cancel_msg, status_msg, ping_msg, result_msg, failed_msg,
                          busy_msg, status_reply_msg, pong_msg, error_msg, ready_msg, task_msg,
                          done_msg, hello_msg, heartbeat_msg, limits_msg, bye_msg, progress_msg, withdraw_msg>;

// The command a body encodes as.
command command_of(const body& b);

// The body alternative command c decodes as; variant_size_v<body> for an unknown command.
std::size_t body_index(std::uint64_t c);

// Upper-case wire name of a command, e.g. "SUBMIT"; "UNKNOWN" for others.
const char* command_name(command c);

// The task id a message carries ("" for commands without one).
std::string_view task_id_of(const body& b);

// Lower-case name of a priority and back; parse returns false on an unknown name.
const char* priority_name(priority p);
bool parse_priority(const std::string& name, priority& out);

}  // namespace argon::common
