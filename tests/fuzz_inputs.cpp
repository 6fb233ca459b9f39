#include "fuzz_inputs.hpp"

#include <random>

#include <msgpack.hpp>

#include "codec.hpp"
#include "sample_messages.hpp"

namespace argon::fuzz {

using namespace argon::common;

namespace {

std::string packed(const msgpack::object& o) {
  msgpack::sbuffer b;
  msgpack::pack(b, o);
  return std::string(b.data(), b.size());
}

}  // namespace

std::vector<seed_header> make_seeds() {
  std::vector<body> samples = test::one_of_each();
  for (auto& b : test::edge_messages()) samples.push_back(std::move(b));
  std::vector<seed_header> seeds;
  for (const body& b : samples) {
    for (unsigned r = 0; r <= static_cast<unsigned>(role::broker); ++r) {
      const std::string h = encode_header(static_cast<role>(r), b).to_string();
      msgpack::object_handle oh = msgpack::unpack(h.data(), h.size());
      seed_header s;
      s.payload = has_payload(command_of(b));
      for (std::uint32_t i = 0; i < oh.get().via.array.size; ++i) s.items.push_back(packed(oh.get().via.array.ptr[i]));
      seeds.push_back(std::move(s));
    }
  }
  return seeds;
}

namespace {

std::string array_header(std::size_t n) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack_array(static_cast<std::uint32_t>(n));
  return std::string(b.data(), b.size());
}

}  // namespace

std::string assemble(const std::vector<std::string>& items, std::size_t declared) {
  std::string h = array_header(declared);
  for (const auto& i : items) h += i;
  return h;
}

namespace {

// ---------------------------------------------------------------- structured values

using rng_t = std::mt19937_64;

std::size_t below(rng_t& rng, std::size_t n) { return n ? static_cast<std::size_t>(rng() % n) : 0; }

// Integers at the edges of every width and of the codec's own limits.
std::uint64_t edge_uint(rng_t& rng) {
  static constexpr std::uint64_t edges[] = {0, 1, 2, 3, 127, 128, 255, 256, 65535, 65536, 1000, 1001,
                                            (1u << 20), (1u << 20) + 1, UINT32_MAX, 1ull << 32, UINT64_MAX};
  return rng() % 4 == 0 ? rng() : edges[below(rng, std::size(edges))];
}

std::string random_string(rng_t& rng) {
  static constexpr std::size_t sizes[] = {0, 1, 31, 32, 127, 128, 129, 255, 256, 65535, 65536};
  std::string s(rng() % 3 ? below(rng, 40) : sizes[below(rng, std::size(sizes))], 'a');
  for (std::size_t i = 0; i < s.size() && i < 64; ++i) s[i] = static_cast<char>(rng() % 3 ? 'a' + rng() % 26 : rng());
  return s;
}

// A status snapshot-like map whose keys and values may have any type.
void pack_random_map(msgpack::packer<msgpack::sbuffer>& p, rng_t& rng) {
  static const char* keys[] = {"workers", "slots", "busy_slots", "queue_depth", "uptime_ms", "nope", ""};
  const std::size_t n = below(rng, 6);
  p.pack_map(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 4) p.pack(std::string(keys[below(rng, std::size(keys))]));
    else p.pack(static_cast<std::int64_t>(rng()));
    if (rng() % 3) p.pack(edge_uint(rng));
    else p.pack(random_string(rng));
  }
}

// One msgpack value of a randomly chosen type.
std::string typed_value(rng_t& rng) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  switch (rng() % 12) {
    case 0: p.pack_nil(); break;
    case 1: p.pack(rng() % 2 == 0); break;
    case 2: p.pack(edge_uint(rng)); break;
    case 3: p.pack(-static_cast<std::int64_t>(1 + below(rng, 1u << 20))); break;
    case 4: p.pack(static_cast<float>(rng() % 1000) / 7.0f); break;
    case 5: p.pack(static_cast<double>(rng()) * 1e-3); break;
    case 6: p.pack(random_string(rng)); break;
    case 7: {
      const auto s = random_string(rng);
      p.pack_bin(static_cast<std::uint32_t>(s.size())).pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
      break;
    }
    case 8: p.pack_array(0); break;
    case 9: pack_random_map(p, rng); break;
    case 10: p.pack_ext(1, static_cast<std::int8_t>(rng())).pack_ext_body("x", 1); break;
    default: p.pack_array(2).pack(1).pack("x"); break;
  }
  return std::string(b.data(), b.size());
}

// A container or string header that declares far more than follows it.
std::string huge_length(rng_t& rng) {
  static constexpr unsigned char kinds[] = {0xdb, 0xc6, 0xdd, 0xdf, 0xc9, 0xda, 0xc5, 0xdc, 0xde, 0xd9, 0xc4};
  static constexpr std::uint32_t sizes[] = {0xffffffffu, 0x7fffffffu, 0x10001u, 0x10000u, 65, 129, 0xffffu, 0xffu};
  const unsigned char k = kinds[below(rng, std::size(kinds))];
  const std::uint32_t n = sizes[below(rng, std::size(sizes))];
  std::string s(1, static_cast<char>(k));
  const int width = (k == 0xdb || k == 0xc6 || k == 0xdd || k == 0xdf || k == 0xc9) ? 4 : (k == 0xd9 || k == 0xc4) ? 1 : 2;
  for (int i = width - 1; i >= 0; --i) s += static_cast<char>((n >> (8 * i)) & 0xff);
  if (k == 0xc9) s += '\x01';  // ext type byte
  s.append(below(rng, 16), 'z');
  return s;
}

// Arrays or maps nested far deeper than any header needs.
std::string deep_nesting(rng_t& rng) {
  static constexpr std::size_t depths[] = {3, 4, 5, 8, 64, 1000, 5000};
  const std::size_t depth = depths[below(rng, std::size(depths))];
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += rng() % 2 ? "\x91" : "\x81\xa1k";
  return s + "\xc0";
}

// ---------------------------------------------------------------- mutations

// Changes the list of items: a field of another type, a huge length, deep nesting,
// a field dropped, doubled or added. Returns the count the array should declare.
std::size_t mutate_items(std::vector<std::string>& items, rng_t& rng) {
  const std::size_t k = below(rng, items.size());
  switch (rng() % 6) {
    case 0: items[k] = typed_value(rng); break;
    case 1: items[k] = huge_length(rng); break;
    case 2: items[k] = deep_nesting(rng); break;
    case 3: items.erase(items.begin() + static_cast<std::ptrdiff_t>(k)); break;
    case 4: items.insert(items.begin() + static_cast<std::ptrdiff_t>(k), items[k]); break;
    default: items.push_back(typed_value(rng)); break;
  }
  if (items.empty() || rng() % 8) return items.size();
  return rng() % 2 ? items.size() + 1 : rng() % 2 ? items.size() - 1 : 0xffffffffu;
}

// Bytes that mean something special in msgpack: type markers and boundaries.
char interesting_byte(rng_t& rng) {
  static constexpr unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
                                            0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb, 0xdc, 0xdd,
                                            0xde, 0xdf, 0xe0, 0xff};
  return static_cast<char>(bytes[below(rng, std::size(bytes))]);
}

std::string random_run(rng_t& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = rng() % 4 ? static_cast<char>(rng()) : interesting_byte(rng);
  return s;
}

// One byte-level change: flips, overwrites, truncation, insertion or duplication.
void mutate_bytes(std::string& h, rng_t& rng) {
  if (h.empty()) {
    h.assign(1, interesting_byte(rng));
    return;
  }
  const std::size_t at = below(rng, h.size());
  switch (rng() % 6) {
    case 0:
      for (std::size_t n = 1 + below(rng, 4); n > 0; --n) h[below(rng, h.size())] ^= static_cast<char>(1u << (rng() % 8));
      break;
    case 1: h[at] = static_cast<char>(rng()); break;
    case 2: h[at] = interesting_byte(rng); break;
    case 3: h.resize(below(rng, h.size())); break;
    case 4: h.insert(at, random_run(rng, 1 + below(rng, 8))); break;
    default: h.insert(below(rng, h.size() + 1), h.substr(at, 1 + below(rng, h.size() - at))); break;
  }
}

// Random bytes; rarely, just over the largest header frame allowed.
std::string random_bytes(rng_t& rng) {
  return random_run(rng, rng() % 2000 == 0 ? max_header_bytes + 1 + below(rng, 64) : below(rng, 96));
}

// Payload frames: usually as many as the seed's command needs, sometimes not.
void choose_frames(fuzz_input& in, bool payload, rng_t& rng) {
  std::size_t n = payload ? 1 : 0;
  if (rng() % 4 == 0) n = below(rng, 4);
  for (std::size_t i = 0; i < n; ++i) in.payloads.push_back(rng() % 2 ? std::string() : random_string(rng));
  in.bad_envelope = rng() % 32 == 0;
}

// One 64-bit generator seed per (run seed, iteration): splitmix64's finaliser.
std::uint64_t mix(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

// Iteration i of a run: the plain seeds first, then mutants and random bytes.
fuzz_input make_input(const std::vector<seed_header>& seeds, std::uint64_t seed, std::uint64_t i) {
  fuzz_input in;
  if (i < seeds.size()) {
    in.header = assemble(seeds[i].items, seeds[i].items.size());
    if (seeds[i].payload) in.payloads.push_back("payload");
    return in;
  }
  rng_t rng(mix(seed, i));
  if (rng() % 8 == 0) {
    in.header = random_bytes(rng);
    choose_frames(in, rng() % 2, rng);
    return in;
  }
  const seed_header& s = seeds[below(rng, seeds.size())];
  std::vector<std::string> items = s.items;
  std::size_t declared = items.size();
  if (rng() % 2) declared = mutate_items(items, rng);
  in.header = assemble(items, declared);
  for (std::size_t n = rng() % 3 ? below(rng, 4) : 0; n > 0; --n) mutate_bytes(in.header, rng);
  choose_frames(in, s.payload, rng);
  return in;
}

}  // namespace argon::fuzz
