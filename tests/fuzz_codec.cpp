// fuzz_codec: a deterministic fuzzer for the header codec and the frame decoder.
//
// It starts from a valid header of every command (common::encode_header, in
// every role), mutates it — bit flips, byte changes, truncation, insertion,
// duplication, a field swapped for another msgpack type, huge declared
// lengths, deep nesting, fields added or dropped — or makes up random bytes,
// and feeds the result to common::decode_header and, with 0-3 payload
// frames, to common::decode. It promises that the codec's only outcomes are
// a decoded message or common::protocol_error; that a decoded message keeps
// the limits docs/protocol.md gives (string lengths, priority, attempts,
// capacity) and has the payload frames its command needs; and that a
// decoded header encodes again to bytes that decode to the same message.
// Anything else stops the run with the seed, the iteration and the input in
// hex; a crash prints the seed and the iteration before the sanitizer's
// report.
//
// Iteration i of seed s uses its own std::mt19937_64 seeded from (s, i), so
// one failing iteration replays alone, however long the run that found it:
//   fuzz_codec --seed S --replay I
// Usage: fuzz_codec [--seed N] [--seconds S] [--iterations N] [--replay I]
//                   [--corpus DIR]
// The seed is --seed, else $ARGON_FUZZ_SEED, else a fixed value; the run
// lasts --seconds (default 10) or --iterations, whichever ends first.
// --corpus writes the valid headers as libFuzzer seed inputs and exits.
//
// Compiled with -DARGON_LIBFUZZER and clang's -fsanitize=fuzzer, the file
// instead defines LLVMFuzzerTestOneInput with the same checks (no main).
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <variant>
#include <vector>

#include <unistd.h>

#include <msgpack.hpp>

#include "codec.hpp"

namespace {

using namespace argon::common;

// One input to the decoder: a header frame and what follows it.
struct fuzz_input {
  std::string header;                 // the header frame's bytes
  std::vector<std::string> payloads;  // frames after the header, 0-3
  bool bad_envelope = false;          // the delimiter was missing, as read_frames reports it
};

// A broken promise of the codec, with what was seen.
struct fuzz_failure {
  std::string what;  // which check failed and how
};

// ---------------------------------------------------------------- checks

[[noreturn]] void fail(std::string what) { throw fuzz_failure{std::move(what)}; }

// Decodes, turning every outcome except success and protocol_error into a failure.
template <class F> std::optional<message> decode_or_refuse(const char* what, F&& fn) {
  try {
    return fn();
  } catch (const protocol_error&) {
    return std::nullopt;
  } catch (const std::exception& e) {
    fail(std::string(what) + " threw " + typeid(e).name() + " instead of protocol_error: " + e.what());
  } catch (...) {
    fail(std::string(what) + " threw something that is not a std::exception");
  }
}

// A decoded header must encode again to bytes that decode to the same message.
void check_round_trip(const message& m) {
  const std::string once = encode_header(m.from, m.content).to_string();
  auto again = decode_or_refuse("decode_header of a re-encoded header",
                                [&] { return decode_header(once.data(), once.size()); });
  if (!again) fail("a decoded header re-encodes to bytes that do not decode");
  if (again->from != m.from || again->content.index() != m.content.index())
    fail("a decoded header re-encodes as another role or command");
  if (encode_header(again->from, again->content).to_string() != once)
    fail("a decoded header does not survive a second round trip unchanged");
}

// The limits docs/protocol.md gives hold for every decoded message.
void check_limits(const body& b) {
  const auto short_text = [](const std::string& s) {
    if (s.size() > max_id_bytes) fail("decoded a string field of " + std::to_string(s.size()) + " bytes; the limit is 128");
  };
  const auto long_text = [](const std::string& s) {
    if (s.size() > max_header_bytes) fail("decoded an error text over 65,536 bytes");
  };
  std::visit([&](const auto& m) {
    using T = std::decay_t<decltype(m)>;
    if constexpr (std::is_same_v<T, submit_msg>) {
      short_text(m.id), short_text(m.task);
      if (m.pri > priority::low) fail("decoded a priority over 2");
      if (m.max_attempts < 1 || m.max_attempts > 1000) fail("decoded max_attempts outside 1-1000");
    } else if constexpr (std::is_same_v<T, cancel_msg> || std::is_same_v<T, result_msg>) {
      short_text(m.id);
    } else if constexpr (std::is_same_v<T, failed_msg>) {
      short_text(m.id), short_text(m.kind), long_text(m.message);
    } else if constexpr (std::is_same_v<T, busy_msg>) {
      short_text(m.id), short_text(m.reason);
    } else if constexpr (std::is_same_v<T, error_msg>) {
      short_text(m.kind), long_text(m.message);
    } else if constexpr (std::is_same_v<T, task_msg>) {
      short_text(m.id), short_text(m.task);
    } else if constexpr (std::is_same_v<T, done_msg>) {
      short_text(m.worker_id), short_text(m.id), long_text(m.error);
    } else if constexpr (std::is_same_v<T, hello_msg>) {
      short_text(m.worker_id), short_text(m.version);
      if (m.capacity > (1u << 20)) fail("decoded a HELLO capacity over 2^20");
    } else if constexpr (std::is_same_v<T, ready_msg> || std::is_same_v<T, bye_msg>) {
      short_text(m.worker_id);
    } else if constexpr (std::is_same_v<T, heartbeat_msg>) {
      short_text(m.sender);
    } else if constexpr (std::is_same_v<T, pong_msg>) {
      short_text(m.broker);
    }
  }, b);
}

// The frame rules: a decoded message had a delimiter, one header, and a payload
// frame exactly when its command has one, and that payload is handed over intact.
void check_frames(const fuzz_input& in) {
  frames f;
  f.header = zmq::message_t(in.header.data(), in.header.size());
  f.parts = 1 + in.payloads.size();
  f.bad_envelope = in.bad_envelope || in.payloads.size() > 1;
  if (!in.payloads.empty()) f.payload = zmq::message_t(in.payloads[0].data(), in.payloads[0].size());
  auto m = decode_or_refuse("decode", [&] { return decode(f); });
  if (!m) return;
  if (in.bad_envelope || in.payloads.size() > 1) fail("decode accepted a malformed envelope");
  const bool needs = has_payload(command_of(m->content));
  if (needs != (in.payloads.size() == 1)) fail("decode accepted a message with the wrong number of payload frames");
  if (needs && m->payload.to_string() != in.payloads[0]) fail("decode changed the payload frame");
}

// Every check for one input; returns whether the header alone decoded.
bool check_input(const fuzz_input& in) {
  auto m = decode_or_refuse("decode_header", [&] { return decode_header(in.header.data(), in.header.size()); });
  if (m) check_limits(m->content), check_round_trip(*m);
  check_frames(in);
  return m.has_value();
}

// ---------------------------------------------------------------- seeds

std::vector<body> one_of_each() {
  const std::string longest(max_id_bytes, 'i');
  return {submit_msg{"id-1", "resize", priority::high, 2500, 3},
          submit_msg{longest, longest, priority::low, UINT32_MAX, 1000},
          cancel_msg{"id-2"},
          status_msg{},
          ping_msg{},
          result_msg{""},
          failed_msg{"id-4", "task_error", std::string(300, 'm')},
          busy_msg{"id-5", 12, 24, UINT64_MAX, 1500, "queue_full"},
          status_reply_msg{2, 8, 3, 5, 1, 2, 2, 24, 640, 1000, 100, 90, 4, 7, 1, 123456},
          pong_msg{"b-7f3a"},
          error_msg{"protocol_error", "bad"},
          ready_msg{"w1"},
          task_msg{"id-6", "sleep", 2, 1700000000000},
          done_msg{"w1", "id-6", false, "boom"},
          done_msg{"w1", "id-7", true, ""},
          hello_msg{"w1", 1u << 20, "0.1.0"},
          heartbeat_msg{"w1"},
          bye_msg{"w1"}};
}

// A valid header split into its encoded array items, so items can be swapped.
struct seed_header {
  std::vector<std::string> items;  // each item's msgpack bytes: version, role, command, fields
  bool payload = false;            // whether its command takes a payload frame
};

std::string packed(const msgpack::object& o) {
  msgpack::sbuffer b;
  msgpack::pack(b, o);
  return std::string(b.data(), b.size());
}

[[maybe_unused]] std::vector<seed_header> make_seeds() {
  std::vector<seed_header> seeds;
  for (const body& b : one_of_each()) {
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

std::string array_header(std::size_t n) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack_array(static_cast<std::uint32_t>(n));
  return std::string(b.data(), b.size());
}

std::string assemble(const std::vector<std::string>& items, std::size_t declared) {
  std::string h = array_header(declared);
  for (const auto& i : items) h += i;
  return h;
}

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

// Iteration i of a run: the plain seeds first, then mutants and random bytes.
[[maybe_unused]] fuzz_input make_input(const std::vector<seed_header>& seeds, std::uint64_t seed, std::uint64_t i) {
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

// ---------------------------------------------------------------- reports

std::string hex_dump(const std::string& bytes, std::size_t limit = 4096) {
  std::string out;
  char line[16];
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    if (i % 32 == 0) { std::snprintf(line, sizeof line, "%s%06zx ", i ? "\n" : "", i); out += line; }
    std::snprintf(line, sizeof line, "%02x", static_cast<unsigned char>(bytes[i]));
    out += line;
  }
  if (bytes.size() > limit) out += "\n... " + std::to_string(bytes.size() - limit) + " more bytes";
  return out;
}

void report(const fuzz_failure& f, const fuzz_input& in, const std::string& where) {
  std::fprintf(stderr, "fuzz_codec: FAILED %s: %s\n", where.c_str(), f.what.c_str());
  std::fprintf(stderr, "header frame (%zu bytes):\n%s\n", in.header.size(), hex_dump(in.header).c_str());
  std::fprintf(stderr, "payload frames: %zu%s\n", in.payloads.size(), in.bad_envelope ? ", envelope without delimiter" : "");
  for (const auto& p : in.payloads) std::fprintf(stderr, "payload (%zu bytes):\n%s\n", p.size(), hex_dump(p, 256).c_str());
}

}  // namespace

#ifdef ARGON_LIBFUZZER

// libFuzzer's input: the first byte picks the payload frames (bits 0-1: how many,
// bit 2: no delimiter); the rest is the header frame.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz_input in;
  if (size > 0) {
    const std::uint8_t shape = data[0];
    in.header.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    for (int i = 0; i < (shape & 3); ++i) in.payloads.push_back(i ? "" : "payload");
    in.bad_envelope = (shape & 4) != 0;
  }
  try {
    (void)check_input(in);
  } catch (const fuzz_failure& f) {
    report(f, in, "on this input");
    std::abort();
  }
  return 0;
}

#else

namespace {

// Settings from the command line and the environment.
struct run_options {
  std::uint64_t seed = 0x6172676f6e;          // --seed, else $ARGON_FUZZ_SEED, else this
  double seconds = 10;                        // --seconds: stop after this long
  std::uint64_t iterations = UINT64_MAX;      // --iterations: stop after this many
  std::optional<std::uint64_t> replay;        // --replay I: run iteration I only
  std::string corpus;                         // --corpus DIR: write libFuzzer seed inputs and exit
};

run_options parse_options(int argc, char** argv) {
  run_options o;
  if (const char* env = std::getenv("ARGON_FUZZ_SEED")) o.seed = std::strtoull(env, nullptr, 0);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!value) {
      std::fprintf(stderr, "fuzz_codec: %s needs a value\n", arg.c_str());
      std::exit(2);
    }
    ++i;
    if (arg == "--seed") o.seed = std::strtoull(value, nullptr, 0);
    else if (arg == "--seconds") o.seconds = std::strtod(value, nullptr);
    else if (arg == "--iterations") o.iterations = std::strtoull(value, nullptr, 0);
    else if (arg == "--replay") o.replay = std::strtoull(value, nullptr, 0);
    else if (arg == "--corpus") o.corpus = value;
    else {
      std::fprintf(stderr, "usage: fuzz_codec [--seed N] [--seconds S] [--iterations N] [--replay I] [--corpus DIR]\n");
      std::exit(2);
    }
  }
  return o;
}

// What a crash handler may read: plain integers, written before each iteration.
volatile std::uint64_t crash_seed = 0;       // the run's seed
volatile std::uint64_t crash_iteration = 0;  // the iteration being checked
struct sigaction previous_actions[NSIG];     // handlers in place before ours (e.g. a sanitizer's)

void write_number(std::uint64_t v) {
  char digits[24];
  int n = 0;
  do { digits[n++] = static_cast<char>('0' + v % 10); v /= 10; } while (v);
  while (n > 0) (void)!write(2, &digits[--n], 1);
}

// Says which iteration crashed, then puts the previous handler back and returns:
// the fault happens again and that handler reports it as it would have.
void on_crash(int sig) {
  static const char a[] = "\nfuzz_codec: crashed; replay with --seed ", b[] = " --replay ", c[] = "\n";
  (void)!write(2, a, sizeof a - 1);
  write_number(crash_seed);
  (void)!write(2, b, sizeof b - 1);
  write_number(crash_iteration);
  (void)!write(2, c, sizeof c - 1);
  sigaction(sig, &previous_actions[sig], nullptr);
}

void install_crash_handlers() {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    struct sigaction sa {};
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &previous_actions[sig]);
  }
}

int write_corpus(const std::vector<seed_header>& seeds, const std::string& dir) {
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(dir + "/seed-" + std::to_string(i), std::ios::binary);
    out << static_cast<char>(seeds[i].payload ? 1 : 0) << assemble(seeds[i].items, seeds[i].items.size());
    if (!out) { std::fprintf(stderr, "fuzz_codec: cannot write to %s\n", dir.c_str()); return 2; }
  }
  std::printf("fuzz_codec: wrote %zu seed inputs to %s\n", seeds.size(), dir.c_str());
  return 0;
}

// Counts of what a run did.
struct run_totals {
  std::uint64_t iterations = 0;  // inputs checked
  std::uint64_t decoded = 0;     // headers that decoded
};

// Runs iterations until the time or count is reached; exits 1 at the first failure.
run_totals run(const std::vector<seed_header>& seeds, const run_options& o) {
  run_totals t;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.seconds);
  const std::uint64_t first = o.replay.value_or(0), last = o.replay ? first + 1 : o.iterations;
  crash_seed = o.seed;
  for (std::uint64_t i = first; i < last; ++i) {
    if (i % 256 == 0 && std::chrono::steady_clock::now() >= end && !o.replay) break;
    crash_iteration = i;
    const fuzz_input in = make_input(seeds, o.seed, i);
    try {
      const bool decoded = check_input(in);
      if (i < seeds.size() && !decoded) fail("a valid header of every command must decode");
      t.decoded += decoded;
    } catch (const fuzz_failure& f) {
      report(f, in, "at iteration " + std::to_string(i) + " of seed " + std::to_string(o.seed));
      std::fprintf(stderr, "replay: fuzz_codec --seed %llu --replay %llu\n", static_cast<unsigned long long>(o.seed),
                   static_cast<unsigned long long>(i));
      std::exit(1);
    }
    ++t.iterations;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const run_options o = parse_options(argc, argv);
  const std::vector<seed_header> seeds = make_seeds();
  if (!o.corpus.empty()) return write_corpus(seeds, o.corpus);
  install_crash_handlers();
  const auto start = std::chrono::steady_clock::now();
  const run_totals t = run(seeds, o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz_codec: seed %llu, %llu iterations in %.1f s (%.0f/s), %llu headers decoded, %llu refused\n",
              static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(t.iterations), secs,
              secs > 0 ? static_cast<double>(t.iterations) / secs : 0.0, static_cast<unsigned long long>(t.decoded),
              static_cast<unsigned long long>(t.iterations - t.decoded));
  if (t.iterations >= 10000 && t.decoded < seeds.size() + t.iterations / 1000) {
    std::fprintf(stderr, "fuzz_codec: too few inputs decoded; the mutations no longer reach the decoder's deeper checks\n");
    return 1;
  }
  return 0;
}

#endif
