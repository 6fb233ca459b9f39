// The broker's monitor stream: one model of every event it publishes.
//
// argon-broker --monitor ENDPOINT publishes each event as two frames on an
// XPUB socket: the event's name (the topic, so a prefix subscription picks
// events by name) and a msgpack map {"event", "time_ms", fields...}. Each
// event struct lists its fields once, in each_field(); the codec
// (monitor_codec.cpp), argon-monitor's JSON output and the tests all walk
// that list, so a field is named in exactly one place. docs/protocol.md
// ("Monitor stream") is the spec and changes with this file. Readers ignore
// keys they do not know and take a missing key as its zero value, so fields
// can be added without breaking older monitors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace argon::common::monitor {

// A worker process said HELLO (or came back after it had expired).
struct worker_joined {
  std::string worker;          // worker id
  std::uint64_t capacity = 0;  // slots it announced; 0 when unknown
  std::string address;         // its control channel's peer address
  bool operator==(const worker_joined&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("worker", s.worker), v("capacity", s.capacity), v("address", s.address);
  }
};

// A worker process is gone: "bye", "expired" or "disconnected".
struct worker_left {
  std::string worker;  // worker id
  std::string reason;  // bye, expired, disconnected
  bool operator==(const worker_left&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("worker", s.worker), v("reason", s.reason); }
};

// The broker accepted a SUBMIT and queued the task.
struct task_submitted {
  std::string id;                  // task id
  std::string task;                // task name
  std::string priority;            // high, normal, low
  std::uint64_t payload_bytes = 0; // input size
  std::string client;              // the client's routing id (short form)
  bool operator==(const task_submitted&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("id", s.id), v("task", s.task), v("priority", s.priority), v("payload_bytes", s.payload_bytes), v("client", s.client);
  }
};

// A task was sent to a worker slot.
struct task_dispatched {
  std::string id;             // task id
  std::string worker;         // worker id of the slot
  std::uint64_t attempt = 0;  // 1 on the first start
  double wait_ms = 0;         // time it waited in its lane
  bool operator==(const task_dispatched&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("id", s.id), v("worker", s.worker), v("attempt", s.attempt), v("wait_ms", s.wait_ms);
  }
};

// A task's RESULT went to its client.
struct task_done {
  std::string id;      // task id
  std::string worker;  // worker that ran it
  double run_ms = 0;   // dispatch to result
  bool operator==(const task_done&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("id", s.id), v("worker", s.worker), v("run_ms", s.run_ms); }
};

// An accepted task's FAILED went to its client.
struct task_failed {
  std::string id;       // task id
  std::string kind;     // failure kind, as in FAILED
  std::string message;  // its text
  std::string worker;   // worker that reported it; "" when the broker ended the task
  bool operator==(const task_failed&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("id", s.id), v("kind", s.kind), v("message", s.message), v("worker", s.worker);
  }
};

// A started task went back to the front of its lane.
struct task_requeued {
  std::string id;             // task id
  std::uint64_t attempt = 0;  // starts so far
  std::string why;            // worker_lost, slot_restarted, stale_result
  bool operator==(const task_requeued&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("id", s.id), v("attempt", s.attempt), v("why", s.why); }
};

// A worker reported progress on a task it runs.
struct task_progress {
  std::string id;             // task id
  std::uint64_t percent = 0;  // 0-100
  std::string message;        // the worker's text
  bool operator==(const task_progress&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("id", s.id), v("percent", s.percent), v("message", s.message); }
};

// A SUBMIT was refused with BUSY.
struct busy {
  std::string reason;       // queue_full, queue_bytes, no_workers, draining, client_slow, starting, client_share
  std::uint64_t depth = 0;  // tasks queued
  std::uint64_t limit = 0;  // queue limit in force
  bool operator==(const busy&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("reason", s.reason), v("depth", s.depth), v("limit", s.limit); }
};

// A connection was refused: by the ZAP handler, or its handshake failed.
struct auth_failed {
  std::string address;    // peer address; "" when libzmq did not say
  std::string mechanism;  // CURVE, NULL, PLAIN
  std::string why;        // the reason, as logged
  bool operator==(const auth_failed&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("address", s.address), v("mechanism", s.mechanism), v("why", s.why);
  }
};

// A TCP connection to the broker's endpoint was accepted.
struct connected {
  std::string address;  // peer address:port; "" when unknown
  bool operator==(const connected&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("address", s.address); }
};

// A connection to the broker's endpoint closed.
struct disconnected {
  std::string address;  // peer address:port; "" when unknown
  bool operator==(const disconnected&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) { v("address", s.address); }
};

// Once a second: the broker's state, rates and latencies.
struct stats {
  std::uint64_t workers = 0;        // worker processes
  std::uint64_t slots = 0;          // connected slots
  std::uint64_t busy_slots = 0;     // slots running a task
  std::uint64_t queue_high = 0;     // tasks waiting in the high lane
  std::uint64_t queue_normal = 0;   // in the normal lane
  std::uint64_t queue_low = 0;      // in the low lane
  std::uint64_t queue_limit = 0;    // limit in force
  std::uint64_t queued_clients = 0; // clients with tasks waiting
  std::string top_clients;          // up to 5 of them, most tasks first: "ID N, ID N" (short routing ids)
  double tasks_per_s = 0;           // outcomes sent per second since the last stats
  double busy_per_s = 0;            // BUSY replies per second since the last stats
  double wait_p50_ms = 0;           // queue wait percentiles over the window
  double wait_p95_ms = 0;           //   "
  double wait_p99_ms = 0;           //   "
  double run_p50_ms = 0;            // run time percentiles over the window
  double run_p95_ms = 0;            //   "
  double run_p99_ms = 0;            //   "
  std::uint64_t window_s = 0;       // the latency window, seconds
  std::uint64_t dropped = 0;        // events dropped since the last stats (slow subscriber)
  std::uint64_t dropped_total = 0;  // events dropped since the broker started
  bool operator==(const stats&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("workers", s.workers), v("slots", s.slots), v("busy_slots", s.busy_slots), v("queue_high", s.queue_high),
        v("queue_normal", s.queue_normal), v("queue_low", s.queue_low), v("queue_limit", s.queue_limit),
        v("queued_clients", s.queued_clients), v("top_clients", s.top_clients), v("tasks_per_s", s.tasks_per_s), v("busy_per_s", s.busy_per_s), v("wait_p50_ms", s.wait_p50_ms),
        v("wait_p95_ms", s.wait_p95_ms), v("wait_p99_ms", s.wait_p99_ms), v("run_p50_ms", s.run_p50_ms),
        v("run_p95_ms", s.run_p95_ms), v("run_p99_ms", s.run_p99_ms), v("window_s", s.window_s),
        v("dropped", s.dropped), v("dropped_total", s.dropped_total);
  }
};

// One protocol message the broker received or sent.
struct trace {
  std::string direction;          // in, out
  std::string command;            // wire name, e.g. SUBMIT
  std::string id;                 // task id when the command has one
  std::string peer;               // the peer's routing id (short form)
  std::string role;               // client, slot, control
  std::uint64_t payload_bytes = 0; // payload frame size
  std::string detail;             // a few more fields of the command, e.g. "task=resize pri=high"
  bool operator==(const trace&) const = default;
  template <class S, class V> static void each_field(S& s, V&& v) {
    v("direction", s.direction), v("command", s.command), v("id", s.id), v("peer", s.peer), v("role", s.role),
        v("payload_bytes", s.payload_bytes), v("detail", s.detail);
  }
};

// Any event body.
using body = std::variant<worker_joined, worker_left, task_submitted, task_dispatched, task_done, task_failed,
                          task_requeued, task_progress, busy, auth_failed, connected, disconnected, stats, trace>;

// How many kinds of event there are; kinds are numbered by their body index.
inline constexpr std::size_t kind_count = std::variant_size_v<body>;

// The kind number of event type T: its index in body.
template <class T, std::size_t I = 0> constexpr std::size_t kind_index() {
  if constexpr (std::is_same_v<T, std::variant_alternative_t<I, body>>) return I;
  else return kind_index<T, I + 1>();
}

// An event with its time.
struct event {
  std::uint64_t time_ms = 0;  // Unix time in ms when the broker published it
  body content;               // which event, and its fields
  bool operator==(const event&) const = default;
};

// The event's name, its topic on the wire, e.g. "task_done".
[[nodiscard]] const char* name_of(std::size_t kind);
[[nodiscard]] inline const char* name_of(const body& b) { return name_of(b.index()); }
// The kind with this name; kind_count when there is none.
[[nodiscard]] std::size_t kind_of(std::string_view name);

// A subscriber that wants the broker's current workers also subscribes to
// replay_prefix, a nonce of its own and "/" (at most max_replay_topic bytes
// in all); the broker answers with one worker_joined per worker under that
// topic followed by "worker_joined", which reaches that subscriber alone.
inline constexpr std::string_view replay_prefix = "replay/";
inline constexpr std::size_t max_replay_topic = 64;

// Encodes the map frame of an event.
[[nodiscard]] std::string encode(const event& e);
// Decodes a topic and map frame; throws protocol_error on a defect.
[[nodiscard]] event decode(std::string_view topic, std::string_view map);

// Short form of a routing id for events: printable ids as they are (at most
// 24 characters), others as hex of their first 6 bytes followed by "…".
[[nodiscard]] std::string short_peer(std::string_view routing_id);

}  // namespace argon::common::monitor
