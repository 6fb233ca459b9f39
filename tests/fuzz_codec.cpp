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
// Inputs come from fuzz_inputs.*. Compiled with -DARGON_LIBFUZZER and clang's -fsanitize=fuzzer, the file
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
#include "fuzz_inputs.hpp"

namespace {

using namespace argon::common;
using namespace argon::fuzz;

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

// ---------------------------------------------------------------- reports

std::string hex_dump(const std::string& bytes, std::size_t limit = 4096) {
  std::string out;
  char line[32];  // the widest is "\n", a 16-digit offset and a space
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
