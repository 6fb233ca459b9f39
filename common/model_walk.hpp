// Walking the protocol model (protocol.hpp): the traits that tell what a
// listed field holds, and a walk over a message's header fields with inline
// groups flattened. The codec and the tests that hold the model against its
// spec share them, so they cannot disagree on which fields a header has or
// which of them a header may end before.
#pragma once

#include <optional>
#include <type_traits>

#include "protocol.hpp"

namespace argon::common {

template <class T> struct optional_of { using type = T; };
template <class T> struct optional_of<std::optional<T>> { using type = T; };
// The type a field holds, with std::optional taken off.
template <class T> using held = typename optional_of<std::remove_cvref_t<T>>::type;
// Whether a field is a std::optional (sent only when it holds a value).
template <class T> inline constexpr bool is_optional = !std::is_same_v<held<T>, std::remove_cvref_t<T>>;

// A visitor that looks at nothing, for the concepts below.
struct ignore_field {
  template <class T> void operator()(const field&, T&&) const {}
};
// A group of fields that sit inline in the header (READY's capabilities).
template <class T> concept group = requires(T& t) { T::each_field(t, ignore_field{}); };
// A struct sent as a map of its each_key() list.
template <class T> concept keyed = requires(T& t) { T::each_key(t, ignore_field{}); };

template <class T> struct map_of_trait : std::false_type {};
template <class S> struct map_of_trait<map_of<S>> : std::true_type {};
// A map_of<S> field: the struct S sent as one map.
template <class T> concept map_ref = map_of_trait<std::remove_cvref_t<T>>::value;

// The walk behind each_header_field(): calls leaf per field, descending into groups.
template <class Leaf> struct header_field_walker {
  Leaf& leaf;                 // called per field
  bool in_optional = false;   // inside a group that may be absent
  template <class T> void operator()(const field& f, T&& v) {
    using H = held<T>;
    const bool optional = in_optional || f.when != presence::required;
    if constexpr (group<H>) {
      H inner{};
      const bool outer = in_optional;
      in_optional = optional;
      H::each_field(inner, *this);
      in_optional = outer;
    } else if constexpr (is_optional<T>) {
      const H inner{};
      leaf(f, inner, optional);
    } else {
      leaf(f, v, optional);
    }
  }
};

// Calls leaf(f, value, may_be_absent) for every header field of a default
// M in wire order, the fields of an inline group in its place; value is the
// field's held value (a default one for an optional), may_be_absent is true
// for a field a header may end before (optional or when_set, or any field
// of such a group).
template <class M, class Leaf> void each_header_field(Leaf&& leaf) {
  M m{};
  header_field_walker<std::remove_reference_t<Leaf>> w{leaf};
  M::each_field(m, w);
}

}  // namespace argon::common
