// Test fixture: valid messages of every command, generated from the protocol
// model, for round-trip tests and as seeds for the codec fuzzer.
//
// Each message struct's each_field() list (protocol.hpp) is walked to fill
// values, so a command or field added to the model gets samples without a
// change here. one_of_each() gives every command twice: with ordinary values
// and every optional field set, and with the least values (empty strings,
// zeros, optional fields left out). edge_messages() gives every command at
// the documented limits (longest strings up to 1,024 bytes, largest
// integers, the most list items and listed workers).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "protocol.hpp"

namespace argon::test {

// Which values a generated sample holds.
enum class fill { ordinary, least, most };

// Sets every field it is walked over, and recurses into groups, lists and maps.
struct sample_filler {
  fill how;  // which values to set

  template <class T> void operator()(const common::field& f, T&& out) { set(f, out); }

  void set(const common::field& f, std::string& s) const {
    const std::size_t longest = std::min<std::uint64_t>(f.max, common::max_progress_bytes);
    if (how == fill::ordinary) s = std::string(f.name).substr(0, longest) + (longest > 2 ? "-1" : "");
    else s = how == fill::most ? std::string(longest, 'x') : "";
    if (s.size() > longest) s.resize(longest);
  }
  void set(const common::field&, bool& b) const { b = how != fill::least; }
  template <class T> requires std::is_unsigned_v<T> || std::is_enum_v<T> void set(const common::field& f, T& v) const {
    using U = std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>::type;
    const std::uint64_t largest = std::min<std::uint64_t>(f.max, std::numeric_limits<U>::max());
    const std::uint64_t pick = how == fill::most ? largest : how == fill::ordinary ? std::min<std::uint64_t>(largest, 40) : f.zero_as;
    v = static_cast<T>(pick);
  }
  void set(const common::field& f, std::vector<std::string>& items) const {
    if (how == fill::ordinary) items = {std::string(f.name).substr(0, 4) + "-a", std::string(f.name).substr(0, 4) + "-b"};
    else items.assign(how == fill::most ? common::max_list_items : 0, "a");
  }
  void set(const common::field&, std::vector<common::worker_status>& list) {
    list.resize(how == fill::most ? common::max_listed_workers : 2);
    for (auto& w : list) common::worker_status::each_key(w, *this);
  }
  template <class S> void set(const common::field&, common::map_of<S> m) { S::each_key(m.s, *this); }
  template <class T> void set(const common::field& f, std::optional<T>& o) {
    if (how == fill::least) return o.reset();
    if constexpr (requires(T& t) { T::each_field(t, *this); }) T::each_field(o.emplace(), *this);
    else set(f, o.emplace());
  }
};

// Message T with values of one kind.
template <class T> T sample(fill how) {
  T m{};
  T::each_field(m, sample_filler{how});
  return m;
}

// One sample of every command: the body alternatives, in order.
template <std::size_t... I> std::vector<common::body> samples(fill how, std::index_sequence<I...>) {
  return {common::body{sample<std::variant_alternative_t<I, common::body>>(how)}...};
}
inline std::vector<common::body> samples(fill how) {
  return samples(how, std::make_index_sequence<std::variant_size_v<common::body>>{});
}

// Every command with ordinary values and optional fields set, then with the least values.
inline std::vector<common::body> one_of_each() {
  std::vector<common::body> all = samples(fill::ordinary);
  for (auto& b : samples(fill::least)) all.push_back(std::move(b));
  return all;
}

// Every command with its fields at the documented limits.
inline std::vector<common::body> edge_messages() { return samples(fill::most); }

}  // namespace argon::test
