// msgpack encoding of the header frame: [version, role, command, fields...].
//
// No field is named here: packing, reading, field counts and error texts
// all walk each message's each_field() list in protocol.hpp, so a field's
// order, name and limits live in one place. Every type, limit and count is
// checked; any defect becomes protocol_error naming the command and the
// field. Map-shaped values (the STATUS_REPLY snapshot and worker entries)
// are read leniently instead: unknown keys and ill-typed values are
// skipped, so keys can be added without a version bump.
#include <msgpack.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "codec.hpp"
#include "model_walk.hpp"

namespace argon::common {
namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

template <class T> inline constexpr bool is_integer = std::is_unsigned_v<T> && !std::is_same_v<T, bool>;

// The largest value an integer field takes: its own limit and its C++ type's.
template <class T> std::uint64_t limit_of(const field& f) {
  if constexpr (std::is_enum_v<T>) return std::min<std::uint64_t>(f.max, std::numeric_limits<std::underlying_type_t<T>>::max());
  else return std::min<std::uint64_t>(f.max, std::numeric_limits<T>::max());
}

// Whether a field is written: an empty optional never is, a when_set one only when true.
template <class T> bool written(const field& f, const T& v) {
  if constexpr (is_optional<T>) return v.has_value();
  else if constexpr (std::is_same_v<T, bool>) return f.when != presence::when_set || v;
  else return true;
}
template <class T> const held<T>& value_of(const T& v) {
  if constexpr (is_optional<T>) return *v;
  else return v;
}

// Walks a message's fields and packs them; with no packer it only counts them.
// A field that may be absent can be left out only at the end: a reader
// takes the fields in order, so a later field written after a left-out one
// would be read in its place. Such a message cannot be encoded, and trying
// throws std::invalid_argument naming both fields.
struct field_writer {
  packer* p;                     // where to write; null to count only
  std::uint32_t n = 0;           // header fields written so far
  const char* left_out = nullptr;  // the first field not written, if any

  template <class T> void operator()(const field& f, const T& v) {
    if (!written(f, v)) {
      if (!left_out) left_out = f.name;
      return;
    }
    if (left_out)
      throw std::invalid_argument(std::string("field '") + f.name + "' cannot be sent without '" + left_out + "' before it");
    using H = held<T>;
    if constexpr (group<H>) {
      H::each_field(value_of(v), *this);
    } else {
      ++n;
      if (p) pack(value_of(v));
    }
  }
  void pack(const std::string& v) { p->pack(v); }
  void pack(bool v) { p->pack(v); }
  template <class T> requires is_integer<T> void pack(T v) { p->pack(v); }
  template <class T> requires std::is_enum_v<T> void pack(T v) { p->pack(static_cast<unsigned>(v)); }
  template <class T> void pack(const std::vector<T>& items) {
    p->pack_array(static_cast<std::uint32_t>(items.size()));
    for (const T& item : items) pack(item);
  }
  template <keyed T> void pack(const T& v) { pack(map_of<const T>{v}); }
  template <class S> void pack(const map_of<S>& m) {
    std::uint32_t keys = 0;
    S::each_key(m.s, [&](const field&, const auto&) { ++keys; });
    p->pack_map(keys);
    S::each_key(m.s, [&](const field& f, const auto& v) { p->pack(std::string_view(f.name)), pack(v); });
  }
};

// Sets a map value when its type and limit fit; otherwise leaves it (readers skip what they do not understand).
void take(const field& f, const msgpack::object& o, std::string& out) {
  if (o.type == msgpack::type::STR && o.via.str.size <= f.max) out.assign(o.via.str.ptr, o.via.str.size);
}
void take(const field&, const msgpack::object& o, bool& out) {
  if (o.type == msgpack::type::BOOLEAN) out = o.via.boolean;
}
template <class T> requires is_integer<T> void take(const field& f, const msgpack::object& o, T& out) {
  if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= limit_of<T>(f)) out = static_cast<T>(o.via.u64);
}

// Fills a map struct from a msgpack map; for a repeated key the last one counts.
template <class S> void take_keys(const msgpack::object& map, S& s) {
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    S::each_key(s, [&](const field& f, auto& out) {
      if (key == f.name) take(f, kv.val, out);
    });
  }
}

// How many fields a command has: {fewest, most}. Fields that may be absent
// (presence::optional or when_set, and every field of such a group) count only towards most.
struct field_range {
  std::size_t min = 0, max = 0;
};

template <class T> field_range field_counts() {
  static const field_range counts = [] {
    field_range r;
    each_header_field<T>([&r](const field&, const auto&, bool may_be_absent) {
      ++r.max;
      if (!may_be_absent) ++r.min;
    });
    return r;
  }();
  return counts;
}

// Reads a message's fields from the header array in each_field() order, checking each one.
class field_reader {
 public:
  field_reader(const msgpack::object* items, std::size_t n, command c) : items_(items), n_(n), cmd_(c) {}

  template <class T> void operator()(const field& f, T&& out) {
    if (f.when != presence::required && i_ >= n_) return;  // an absent trailing field keeps its default
    using H = held<T>;
    H* target;
    if constexpr (is_optional<T>) target = &out.emplace();
    else target = &out;
    if constexpr (group<H>) H::each_field(*target, *this);
    else read(f, *target);
  }

  void expect_count(field_range want) const {
    if (n_ >= want.min && n_ <= want.max) return;
    std::string range = std::to_string(want.min);
    if (want.max != want.min) range += " to " + std::to_string(want.max);
    throw protocol_error(std::string(command_name(cmd_)) + " needs " + range + " fields, got " + std::to_string(n_));
  }

 private:
  void read(const field& f, std::string& out) {
    const auto& o = next(f, msgpack::type::STR);
    if (o.via.str.size > f.max) fail(f, "is too long");
    out.assign(o.via.str.ptr, o.via.str.size);
  }
  void read(const field& f, bool& out) { out = next(f, msgpack::type::BOOLEAN).via.boolean; }
  template <class T> requires is_integer<T> || std::is_enum_v<T> void read(const field& f, T& out) {
    std::uint64_t v = next(f, msgpack::type::POSITIVE_INTEGER).via.u64;
    if (v > limit_of<T>(f)) fail(f, "is out of range");
    if (v == 0 && f.zero_as != 0) v = f.zero_as;
    out = static_cast<T>(v);
  }
  void read(const field& f, std::vector<std::string>& out) {
    const auto& o = next(f, msgpack::type::ARRAY);
    out.reserve(o.via.array.size);
    for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
      const auto& item = o.via.array.ptr[i];
      if (item.type != msgpack::type::STR) fail(f, "has an item that is not a string");
      if (item.via.str.size > f.max) fail(f, "has an item that is too long");
      out.emplace_back(item.via.str.ptr, item.via.str.size);
    }
  }
  template <keyed T> void read(const field& f, std::vector<T>& out) {
    const auto& o = next(f, msgpack::type::ARRAY);
    for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
      if (o.via.array.ptr[i].type != msgpack::type::MAP) fail(f, "has an item that is not a map");
      take_keys(o.via.array.ptr[i], out.emplace_back());
    }
  }
  template <class S> void read(const field& f, map_of<S>& m) { take_keys(next(f, msgpack::type::MAP), m.s); }

  const msgpack::object& next(const field& f, msgpack::type::object_type t) {
    if (i_ >= n_) fail(f, "is missing");
    const auto& o = items_[i_++];
    if (o.type != t) fail(f, "has the wrong type");
    return o;
  }
  [[noreturn]] void fail(const field& f, const char* what) const {
    throw protocol_error(std::string(command_name(cmd_)) + " field '" + f.name + "' " + what);
  }
  const msgpack::object* items_;  // header array items after the command
  std::size_t n_;                 // how many there are
  command cmd_;                   // for error messages
  std::size_t i_ = 0;             // next field to read
};

// Reads the fields of message T, then checks that the header had no more than T has.
template <class T> body read_message(field_reader& f) {
  T m;
  T::each_field(m, f);
  f.expect_count(field_counts<T>());
  return m;
}

template <std::size_t... I> body read_body(std::size_t index, field_reader& f, std::index_sequence<I...>) {
  static constexpr body (*readers[])(field_reader&) = {&read_message<std::variant_alternative_t<I, body>>...};
  return readers[index](f);
}

}  // namespace

zmq::message_t encode_header(role from, const body& b) {
  thread_local msgpack::sbuffer buf;
  buf.clear();
  packer p(buf);
  std::visit([&](const auto& m) {
    using T = std::decay_t<decltype(m)>;
    field_writer count{nullptr};
    T::each_field(m, count);
    p.pack_array(3 + count.n);
    p.pack(protocol_version).pack(static_cast<unsigned>(from)).pack(static_cast<unsigned>(T::wire_command));
    T::each_field(m, field_writer{&p});
  }, b);
  return zmq::message_t(buf.data(), buf.size());
}

namespace {

// The header's msgpack array, checked for size (at most max_size bytes) and
// syntax only; it lives in zone.
msgpack::object unpack_header(const void* data, std::size_t size, msgpack::zone& zone, std::size_t max_size = max_header_bytes) {
  if (size == 0) throw protocol_error("empty header frame");
  if (size > max_size) throw protocol_error("header frame of " + std::to_string(size) + " bytes is too large");
  msgpack::object o;
  try {
    std::size_t off = 0;
    msgpack::unpack_limit limit(max_list_items, 64, max_size, max_size, max_size, 4);
    o = msgpack::unpack(zone, static_cast<const char*>(data), size, off, nullptr, nullptr, limit);
    if (off != size) throw protocol_error("trailing bytes after the header");
  } catch (const protocol_error&) {
    throw;
  } catch (const std::exception& e) {
    throw protocol_error(std::string("header is not valid msgpack: ") + e.what());
  }
  if (o.type != msgpack::type::ARRAY || o.via.array.size < 3) throw protocol_error("header is not an array of at least 3 items");
  return o;
}

}  // namespace

std::optional<std::string> submit_id(const void* data, std::size_t size) noexcept {
  try {
    // A header over its limit is read too (the socket already bounds its size):
    // its id is what lets the client learn that its task failed.
    msgpack::zone zone;
    const msgpack::object o = unpack_header(data, size, zone, std::max(size, max_header_bytes));
    const msgpack::object* a = o.via.array.ptr;
    const auto is = [](const msgpack::object& item, std::uint64_t v) {
      return item.type == msgpack::type::POSITIVE_INTEGER && item.via.u64 == v;
    };
    if (o.via.array.size < 4 || !is(a[0], protocol_version) || !is(a[2], static_cast<unsigned>(command::submit))) return std::nullopt;
    if (a[3].type != msgpack::type::STR || a[3].via.str.size == 0 || a[3].via.str.size > max_id_bytes) return std::nullopt;
    return std::string(a[3].via.str.ptr, a[3].via.str.size);
  } catch (...) {
    return std::nullopt;
  }
}

message decode_header(const void* data, std::size_t size) {
  // One zone per thread, cleared per header, so decoding allocates only for the strings it returns.
  thread_local msgpack::zone zone;
  zone.clear();
  const msgpack::object o = unpack_header(data, size, zone);
  const msgpack::object* a = o.via.array.ptr;
  for (int i = 0; i < 3; ++i)
    if (a[i].type != msgpack::type::POSITIVE_INTEGER) throw protocol_error("header version, role and command must be unsigned integers");
  if (a[0].via.u64 != protocol_version)
    throw protocol_error("protocol version " + std::to_string(a[0].via.u64) + " is not supported (this broker speaks " + std::to_string(protocol_version) + ")");
  if (a[1].via.u64 > static_cast<unsigned>(role::broker)) throw protocol_error("unknown role " + std::to_string(a[1].via.u64));
  const std::size_t index = body_index(a[2].via.u64);
  if (index == std::variant_size_v<body>) throw protocol_error("unknown command " + std::to_string(a[2].via.u64));
  field_reader f(a + 3, o.via.array.size - 3, static_cast<command>(a[2].via.u64));
  message m;
  m.from = static_cast<role>(a[1].via.u64);
  m.content = read_body(index, f, std::make_index_sequence<std::variant_size_v<body>>{});
  return m;
}

}  // namespace argon::common
