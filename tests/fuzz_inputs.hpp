// Inputs for the codec fuzzer: valid headers of every command as seeds, and
// the mutations that turn them into hostile ones.
//
// A seed is a valid header (every command, in every role, with ordinary and
// limit values) split into its msgpack array items. make_input() derives
// iteration i of a run from (run seed, i) alone, so any one iteration can be
// replayed: the plain seeds come first, then headers with items swapped for
// other types, huge lengths, deep nesting, dropped or doubled fields and
// byte-level damage, and now and then purely random bytes, each with 0-3
// payload frames and sometimes no delimiter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace argon::fuzz {

// One input to the decoder: a header frame and what follows it.
struct fuzz_input {
  std::string header;                 // the header frame's bytes
  std::vector<std::string> payloads;  // frames after the header, 0-3
  bool bad_envelope = false;          // the delimiter was missing, as read_frames reports it
};

// A valid header split into its encoded array items, so items can be swapped.
struct seed_header {
  std::vector<std::string> items;  // each item's msgpack bytes: version, role, command, fields
  bool payload = false;            // whether its command takes a payload frame
};

// Every command in every role, ordinary and limit values.
std::vector<seed_header> make_seeds();
// A header: an array declaring `declared` items, followed by the given item bytes.
std::string assemble(const std::vector<std::string>& items, std::size_t declared);
// Iteration i of the run with this seed.
fuzz_input make_input(const std::vector<seed_header>& seeds, std::uint64_t seed, std::uint64_t i);

}  // namespace argon::fuzz
