// msgpack encoding of monitor events: a map {"event", "time_ms", fields...}
// walked from each event's each_field() list, so encoder and decoder can
// never disagree on a name. Decoding checks every type it reads and throws
// protocol_error; unknown keys are skipped and missing ones stay zero.
#include <msgpack.hpp>

#include <array>
#include <cstring>
#include <utility>

#include "errors.hpp"
#include "monitor_events.hpp"

namespace argon::common::monitor {
namespace {

constexpr std::array<const char*, kind_count> names = {
    "worker_joined", "worker_left",  "task_submitted", "task_dispatched", "task_done",    "task_failed", "task_requeued",
    "task_progress", "busy",         "auth_failed",    "connected",       "disconnected", "stats",       "trace"};

using packer = msgpack::packer<msgpack::sbuffer>;

struct field_counter {
  std::uint32_t n = 0;
  template <class T> void operator()(const char*, const T&) { ++n; }
};

struct field_packer {
  packer& p;
  void operator()(const char* key, const std::string& v) { p.pack(std::string_view(key)).pack(v); }
  void operator()(const char* key, std::uint64_t v) { p.pack(std::string_view(key)).pack(v); }
  void operator()(const char* key, double v) { p.pack(std::string_view(key)).pack_double(v); }
};

// Fills fields from a decoded map, checking each value's type.
class field_reader {
 public:
  explicit field_reader(const msgpack::object& map) : map_(map) {}
  void operator()(const char* key, std::string& out) {
    const auto* o = find(key);
    if (!o) return;
    if (o->type != msgpack::type::STR) fail(key);
    out.assign(o->via.str.ptr, o->via.str.size);
  }
  void operator()(const char* key, std::uint64_t& out) {
    const auto* o = find(key);
    if (!o) return;
    if (o->type != msgpack::type::POSITIVE_INTEGER) fail(key);
    out = o->via.u64;
  }
  void operator()(const char* key, double& out) {
    const auto* o = find(key);
    if (!o) return;
    if (o->type == msgpack::type::FLOAT64 || o->type == msgpack::type::FLOAT32) out = o->via.f64;
    else if (o->type == msgpack::type::POSITIVE_INTEGER) out = static_cast<double>(o->via.u64);
    else fail(key);
  }
  [[nodiscard]] const msgpack::object* find(const char* key) const {
    const std::size_t len = std::strlen(key);
    for (std::uint32_t i = 0; i < map_.via.map.size; ++i) {
      const auto& k = map_.via.map.ptr[i].key;
      if (k.type == msgpack::type::STR && k.via.str.size == len && std::memcmp(k.via.str.ptr, key, len) == 0)
        return &map_.via.map.ptr[i].val;
    }
    return nullptr;
  }

 private:
  [[noreturn]] static void fail(const char* key) {
    throw protocol_error(std::string("monitor event field '") + key + "' has the wrong type");
  }
  const msgpack::object& map_;  // the event's map
};

template <std::size_t... I> body make_body(std::size_t kind, std::index_sequence<I...>) {
  static constexpr body (*makers[])() = {[]() -> body { return std::variant_alternative_t<I, body>{}; }...};
  return makers[kind]();
}

msgpack::object unpack_map(msgpack::zone& zone, std::string_view bytes) {
  msgpack::object o;
  try {
    std::size_t off = 0;
    msgpack::unpack_limit limit(64, 64, 64 * 1024, 64 * 1024, 64 * 1024, 4);
    o = msgpack::unpack(zone, bytes.data(), bytes.size(), off, nullptr, nullptr, limit);
    if (off != bytes.size()) throw protocol_error("trailing bytes after the monitor event");
  } catch (const protocol_error&) {
    throw;
  } catch (const std::exception& e) {
    throw protocol_error(std::string("monitor event is not valid msgpack: ") + e.what());
  }
  if (o.type != msgpack::type::MAP) throw protocol_error("monitor event is not a msgpack map");
  return o;
}

}  // namespace

const char* name_of(std::size_t kind) { return kind < kind_count ? names[kind] : "unknown"; }

std::size_t kind_of(std::string_view name) {
  for (std::size_t i = 0; i < kind_count; ++i)
    if (name == names[i]) return i;
  return kind_count;
}

std::string encode(const event& e) {
  msgpack::sbuffer buf;
  packer p(buf);
  std::visit([&](const auto& b) {
    using T = std::decay_t<decltype(b)>;
    field_counter count;
    T::each_field(b, count);
    p.pack_map(2 + count.n);
    p.pack(std::string_view("event")).pack(std::string_view(name_of(e.content)));
    p.pack(std::string_view("time_ms")).pack(e.time_ms);
    T::each_field(b, field_packer{p});
  }, e.content);
  return std::string(buf.data(), buf.size());
}

event decode(std::string_view topic, std::string_view map) {
  const std::size_t kind = kind_of(topic);
  if (kind == kind_count) throw protocol_error("unknown monitor event '" + std::string(topic.substr(0, 64)) + "'");
  msgpack::zone zone;
  const msgpack::object o = unpack_map(zone, map);
  field_reader read(o);
  std::string named;
  read("event", named);
  if (!named.empty() && named != topic) throw protocol_error("monitor event named '" + named + "' under topic '" + std::string(topic) + "'");
  event e;
  read("time_ms", e.time_ms);
  e.content = make_body(kind, std::make_index_sequence<kind_count>{});
  std::visit([&](auto& b) { std::decay_t<decltype(b)>::each_field(b, read); }, e.content);
  return e;
}

std::string short_peer(std::string_view id) {
  bool printable = !id.empty();
  for (unsigned char c : id) printable = printable && c >= 0x21 && c < 0x7f;
  if (printable) return std::string(id.substr(0, 24));
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < id.size() && i < 6; ++i) {
    out += hex[static_cast<unsigned char>(id[i]) >> 4];
    out += hex[static_cast<unsigned char>(id[i]) & 15];
  }
  return id.size() > 6 ? out + "…" : out;
}

}  // namespace argon::common::monitor
