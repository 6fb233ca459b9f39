// msgpack encoding of the header frame: [version, role, command, fields...].
//
// Each command has one pack_fields overload and one unpack_* function, so the
// field order lives next to itself. Every type and count is checked; any
// defect becomes protocol_error with the field named.
#include <msgpack.hpp>

#include "codec.hpp"

namespace argon::common {
namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_fields(packer& p, const submit_msg& m) {
  p.pack(m.id).pack(m.task).pack(static_cast<unsigned>(m.pri)).pack(m.timeout_ms).pack(m.max_attempts).pack(m.argv);
}
void pack_fields(packer& p, const cancel_msg& m) { p.pack(m.id); }
void pack_fields(packer& p, const status_msg& m) {
  if (m.workers) p.pack(true);
}
void pack_fields(packer&, const ping_msg&) {}
void pack_fields(packer& p, const result_msg& m) { p.pack(m.id); }
void pack_fields(packer& p, const failed_msg& m) { p.pack(m.id).pack(m.kind).pack(m.message); }
void pack_fields(packer& p, const busy_msg& m) {
  p.pack(m.id).pack(m.depth).pack(m.limit).pack(m.capacity).pack(m.retry_after_ms).pack(m.reason);
}
void pack_fields(packer& p, const pong_msg& m) { p.pack(m.broker); }
void pack_fields(packer& p, const error_msg& m) { p.pack(m.kind).pack(m.message); }
void pack_fields(packer& p, const ready_msg& m) {
  p.pack(m.worker_id);
  if (m.caps) p.pack(m.caps->tasks).pack(m.caps->exec);
}
void pack_fields(packer& p, const task_msg& m) {
  p.pack(m.id).pack(m.task).pack(m.attempt).pack(m.deadline_ms).pack(m.argv);
}
void pack_fields(packer& p, const progress_msg& m) { p.pack(m.id).pack(m.percent).pack(m.message); }
void pack_fields(packer& p, const hello_msg& m) { p.pack(m.worker_id).pack(m.capacity).pack(m.version); }
void pack_fields(packer& p, const heartbeat_msg& m) { p.pack(m.sender); }
void pack_fields(packer& p, const bye_msg& m) { p.pack(m.worker_id); }
void pack_fields(packer& p, const done_msg& m) {
  p.pack(m.worker_id).pack(m.id).pack(m.ok).pack(m.error).pack(m.kind);
}

// The status snapshot is one map field, so fields can be added without a version bump.
#define ARGON_STATUS_FIELDS(X)                                                             \
  X(workers) X(slots) X(busy_slots) X(queue_depth) X(queue_high) X(queue_normal) X(queue_low) \
  X(queue_limit) X(queue_bytes) X(queue_bytes_limit) X(submitted) X(completed) X(failed)    \
  X(busy_replies) X(protocol_errors) X(uptime_ms)

void pack_fields(packer& p, const status_reply_msg& m) {
  std::uint32_t n = 0;
#define ARGON_COUNT(f) ++n;
  ARGON_STATUS_FIELDS(ARGON_COUNT)
#undef ARGON_COUNT
  p.pack_map(n);
#define ARGON_PACK(f) p.pack(std::string_view(#f)).pack(m.f);
  ARGON_STATUS_FIELDS(ARGON_PACK)
#undef ARGON_PACK
  if (!m.worker_list) return;
  p.pack_array(static_cast<std::uint32_t>(m.worker_list->size()));
  for (const worker_status& w : *m.worker_list) {
    p.pack_map(8);
    p.pack(std::string_view("id")).pack(w.id).pack(std::string_view("address")).pack(w.address);
    p.pack(std::string_view("capacity")).pack(w.capacity).pack(std::string_view("slots")).pack(w.slots);
    p.pack(std::string_view("busy")).pack(w.busy).pack(std::string_view("done")).pack(w.done);
    p.pack(std::string_view("last_heartbeat_ms")).pack(w.last_heartbeat_ms).pack(std::string_view("leaving")).pack(w.leaving);
  }
}

// How many fields each command has: {fewest, most}. Trailing fields added
// after version 1 shipped (SUBMIT and TASK argv, READY capabilities) are
// optional on input, so older peers still decode; the encoder writes all.
struct field_range {
  std::size_t min, max;
};
field_range field_counts(const body& b) {
  static constexpr field_range counts[] = {{5, 6}, {1, 1}, {0, 1}, {0, 0}, {1, 1}, {3, 3}, {6, 6}, {1, 2}, {1, 1},
                                           {2, 2}, {1, 3}, {4, 5}, {4, 5}, {3, 3}, {1, 1}, {1, 1}, {3, 3}};
  static_assert(std::size(counts) == std::variant_size_v<body>);
  return counts[b.index()];
}

std::size_t field_count(const body& b) {
  if (const auto* r = std::get_if<ready_msg>(&b); r && !r->caps) return 1;
  if (const auto* s = std::get_if<status_msg>(&b)) return s->workers ? 1 : 0;
  if (const auto* s = std::get_if<status_reply_msg>(&b)) return s->worker_list ? 2 : 1;
  return field_counts(b).max;
}

// Reads typed fields from the header array, checking each one.
class fields {
 public:
  fields(const msgpack::object* items, std::size_t n, command c) : items_(items), n_(n), cmd_(c) {}

  std::string str(const char* name, std::size_t max = max_id_bytes) {
    const auto& o = next(name, msgpack::type::STR);
    if (o.via.str.size > max) fail(name, "is too long");
    return std::string(o.via.str.ptr, o.via.str.size);
  }
  std::uint64_t uint(const char* name, std::uint64_t max = UINT64_MAX) {
    const auto& o = next(name, msgpack::type::POSITIVE_INTEGER);
    if (o.via.u64 > max) fail(name, "is out of range");
    return o.via.u64;
  }
  bool boolean(const char* name) { return next(name, msgpack::type::BOOLEAN).via.boolean; }
  std::vector<std::string> strings(const char* name, std::size_t max_each) {
    const auto& o = next(name, msgpack::type::ARRAY);
    std::vector<std::string> out;
    out.reserve(o.via.array.size);
    for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
      const auto& item = o.via.array.ptr[i];
      if (item.type != msgpack::type::STR) fail(name, "has an item that is not a string");
      if (item.via.str.size > max_each) fail(name, "has an item that is too long");
      out.emplace_back(item.via.str.ptr, item.via.str.size);
    }
    return out;
  }
  [[nodiscard]] bool more() const { return i_ < n_; }
  const msgpack::object& map(const char* name) { return next(name, msgpack::type::MAP); }
  const msgpack::object& array(const char* name) { return next(name, msgpack::type::ARRAY); }

  void expect_count(field_range want) const {
    if (n_ >= want.min && n_ <= want.max) return;
    std::string range = std::to_string(want.min);
    if (want.max != want.min) range += " to " + std::to_string(want.max);
    throw protocol_error(std::string(command_name(cmd_)) + " needs " + range + " fields, got " + std::to_string(n_));
  }

 private:
  const msgpack::object& next(const char* name, msgpack::type::object_type t) {
    if (i_ >= n_) fail(name, "is missing");
    const auto& o = items_[i_++];
    if (o.type != t) fail(name, "has the wrong type");
    return o;
  }
  [[noreturn]] void fail(const char* name, const char* what) const {
    throw protocol_error(std::string(command_name(cmd_)) + " field '" + name + "' " + what);
  }
  const msgpack::object* items_;  // header array items after the command
  std::size_t n_;                 // how many there are
  command cmd_;                   // for error messages
  std::size_t i_ = 0;             // next field to read
};

priority to_priority(std::uint64_t v) { return static_cast<priority>(v); }

status_reply_msg unpack_status(const msgpack::object& map) {
  status_reply_msg m;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR || kv.val.type != msgpack::type::POSITIVE_INTEGER) continue;
    std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
#define ARGON_UNPACK(f) if (key == #f) m.f = kv.val.via.u64;
    ARGON_STATUS_FIELDS(ARGON_UNPACK)
#undef ARGON_UNPACK
  }
  return m;
}

// One worker's map; unknown keys and values of another type are skipped, as in the snapshot.
worker_status unpack_worker(const msgpack::object& map) {
  worker_status w;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    const auto& v = kv.val;
    if (v.type == msgpack::type::STR && v.via.str.size <= max_id_bytes) {
      if (key == "id") w.id.assign(v.via.str.ptr, v.via.str.size);
      else if (key == "address") w.address.assign(v.via.str.ptr, v.via.str.size);
    } else if (v.type == msgpack::type::POSITIVE_INTEGER) {
      if (key == "capacity") w.capacity = v.via.u64;
      else if (key == "slots") w.slots = v.via.u64;
      else if (key == "busy") w.busy = v.via.u64;
      else if (key == "done") w.done = v.via.u64;
      else if (key == "last_heartbeat_ms") w.last_heartbeat_ms = v.via.u64;
    } else if (v.type == msgpack::type::BOOLEAN && key == "leaving") {
      w.leaving = v.via.boolean;
    }
  }
  return w;
}

status_reply_msg unpack_status_reply(fields& f) {
  status_reply_msg m = unpack_status(f.map("snapshot"));
  if (!f.more()) return m;
  const msgpack::object& list = f.array("workers");
  m.worker_list.emplace();
  for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
    if (list.via.array.ptr[i].type != msgpack::type::MAP) throw protocol_error("STATUS_REPLY field 'workers' has an item that is not a map");
    m.worker_list->push_back(unpack_worker(list.via.array.ptr[i]));
  }
  return m;
}

body unpack_body(command c, fields& f) {
  switch (c) {
    case command::submit: {
      submit_msg m{f.str("id"), f.str("task"), to_priority(f.uint("priority", 2)), 0, 1, {}};
      m.timeout_ms = static_cast<std::uint32_t>(f.uint("timeout_ms", UINT32_MAX));
      m.max_attempts = static_cast<std::uint32_t>(f.uint("max_attempts", 1000));
      if (m.max_attempts == 0) m.max_attempts = 1;
      if (f.more()) m.argv = f.strings("argv", max_header_bytes);
      return m;
    }
    case command::cancel: return cancel_msg{f.str("id")};
    case command::status: return f.more() ? status_msg{f.boolean("workers")} : status_msg{};
    case command::ping: return ping_msg{};
    case command::result: return result_msg{f.str("id")};
    case command::failed: return failed_msg{f.str("id"), f.str("kind"), f.str("message", max_header_bytes)};
    case command::busy: {
      busy_msg m{f.str("id"), f.uint("depth"), f.uint("limit"), f.uint("capacity"), 0, ""};
      m.retry_after_ms = static_cast<std::uint32_t>(f.uint("retry_after_ms", UINT32_MAX));
      m.reason = f.str("reason");
      return m;
    }
    case command::status_reply: return unpack_status_reply(f);
    case command::pong: return pong_msg{f.str("broker")};
    case command::error: return error_msg{f.str("kind"), f.str("message", max_header_bytes)};
    case command::ready: {
      ready_msg m{f.str("worker_id"), std::nullopt};
      if (f.more()) m.caps = capabilities{f.strings("tasks", max_id_bytes), f.strings("exec", max_id_bytes * 8)};
      return m;
    }
    case command::task: {
      task_msg m{f.str("id"), f.str("task"), 1, 0, {}};
      m.attempt = static_cast<std::uint32_t>(f.uint("attempt", UINT32_MAX));
      m.deadline_ms = f.uint("deadline_ms");
      if (f.more()) m.argv = f.strings("argv", max_header_bytes);
      return m;
    }
    case command::done: {
      done_msg m{f.str("worker_id"), f.str("id"), f.boolean("ok"), f.str("error", max_header_bytes), ""};
      if (f.more()) m.kind = f.str("kind");
      return m;
    }
    case command::hello: {
      hello_msg m{f.str("worker_id"), 0, ""};
      m.capacity = static_cast<std::uint32_t>(f.uint("capacity", 1u << 20));
      m.version = f.str("version");
      return m;
    }
    case command::heartbeat: return heartbeat_msg{f.str("sender")};
    case command::bye: return bye_msg{f.str("worker_id")};
    case command::progress: {
      progress_msg m{f.str("id"), 0, ""};
      m.percent = static_cast<std::uint32_t>(f.uint("percent", 100));
      m.message = f.str("message", max_progress_bytes);
      return m;
    }
  }
  throw protocol_error("unknown command " + std::to_string(static_cast<unsigned>(c)));
}

bool known_command(std::uint64_t c) {
  switch (static_cast<command>(c)) {
    case command::submit: case command::cancel: case command::status: case command::ping:
    case command::result: case command::failed: case command::busy: case command::status_reply:
    case command::pong: case command::error: case command::ready: case command::task:
    case command::done: case command::hello: case command::heartbeat: case command::bye:
    case command::progress:
      return c <= 255;
  }
  return false;
}

}  // namespace

zmq::message_t encode_header(role from, const body& b) {
  thread_local msgpack::sbuffer buf;
  buf.clear();
  packer p(buf);
  p.pack_array(static_cast<std::uint32_t>(3 + field_count(b)));
  p.pack(protocol_version).pack(static_cast<unsigned>(from)).pack(static_cast<unsigned>(command_of(b)));
  std::visit([&](const auto& m) { pack_fields(p, m); }, b);
  return zmq::message_t(buf.data(), buf.size());
}

message decode_header(const void* data, std::size_t size) {
  if (size == 0) throw protocol_error("empty header frame");
  if (size > max_header_bytes) throw protocol_error("header frame of " + std::to_string(size) + " bytes is too large");
  // One zone per thread, cleared per header, so decoding allocates only for the strings it returns.
  thread_local msgpack::zone zone;
  zone.clear();
  msgpack::object o;
  try {
    std::size_t off = 0;
    msgpack::unpack_limit limit(max_list_items, 64, max_header_bytes, max_header_bytes, max_header_bytes, 4);
    o = msgpack::unpack(zone, static_cast<const char*>(data), size, off, nullptr, nullptr, limit);
    if (off != size) throw protocol_error("trailing bytes after the header");
  } catch (const protocol_error&) {
    throw;
  } catch (const std::exception& e) {
    throw protocol_error(std::string("header is not valid msgpack: ") + e.what());
  }
  if (o.type != msgpack::type::ARRAY || o.via.array.size < 3) throw protocol_error("header is not an array of at least 3 items");
  const msgpack::object* a = o.via.array.ptr;
  for (int i = 0; i < 3; ++i)
    if (a[i].type != msgpack::type::POSITIVE_INTEGER) throw protocol_error("header version, role and command must be unsigned integers");
  if (a[0].via.u64 != protocol_version)
    throw protocol_error("protocol version " + std::to_string(a[0].via.u64) + " is not supported (this broker speaks " + std::to_string(protocol_version) + ")");
  if (a[1].via.u64 > static_cast<unsigned>(role::broker)) throw protocol_error("unknown role " + std::to_string(a[1].via.u64));
  if (!known_command(a[2].via.u64)) throw protocol_error("unknown command " + std::to_string(a[2].via.u64));
  auto cmd = static_cast<command>(a[2].via.u64);
  fields f(a + 3, o.via.array.size - 3, cmd);
  message m;
  m.from = static_cast<role>(a[1].via.u64);
  m.content = unpack_body(cmd, f);
  f.expect_count(field_counts(m.content));
  return m;
}

}  // namespace argon::common
