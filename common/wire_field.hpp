// How the protocol model (protocol.hpp) describes one wire field: its name,
// its limit, and whether a header may end before it. Each message lists its
// fields with these in each_field() (each_key() for map-shaped structs); the
// codec, the samples and the doc test read them, so a field's name and limits
// are written once.
#pragma once

#include <cstdint>

namespace argon::common {

// Whether a header may end before a field. Only trailing fields may be
// absent: they were added after version 1 shipped, and older peers omit them.
enum class presence : std::uint8_t {
  required,  // always written, always read
  optional,  // always written; a header that ends before it reads as the default
  when_set,  // written only when set (true, or holding a value); absent reads as unset
};

// One wire field as each_field()/each_key() list it. The codec takes its
// name for error texts ("SUBMIT field 'task' is too long") and map keys.
struct field {
  const char* name;                    // wire name, as docs/protocol.md gives it
  std::uint64_t max = UINT64_MAX;      // strings: most bytes (of each item, for lists); integers: largest value (the C++ type's too)
  std::uint64_t zero_as = 0;           // integers: the value a 0 on the wire is read as; 0 = itself
  presence when = presence::required;  // whether a header may end before it

  [[nodiscard]] constexpr field optional() const { return {name, max, zero_as, presence::optional}; }
  [[nodiscard]] constexpr field only_when_set() const { return {name, max, zero_as, presence::when_set}; }
  [[nodiscard]] constexpr field reading_zero_as(std::uint64_t v) const { return {name, max, v, when}; }
};

// A struct sent as one msgpack map of its each_key() list, e.g. the STATUS_REPLY snapshot.
template <class S> struct map_of {
  S& s;  // the struct whose keys the map holds
};

}  // namespace argon::common
