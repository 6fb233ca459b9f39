// Test fixture: a raw SUBMIT that the broker must refuse, and a check of its answer.
//
// docs/protocol.md promises that a SUBMIT the broker cannot accept but whose
// id it can read gets exactly one FAILED naming that id, at once: a payload
// over --max-payload (payload_too_large), a task name over 128 bytes, a
// priority past 2 or max_attempts past 1,000 (protocol_error naming the
// field). max_attempts 0 is read as 1, so that SUBMIT runs like any task and
// gets exactly one outcome. run_submit_probe() sends one on a connection of
// its own and checks that exactly one answer comes, and that it is the one
// promised.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "protocol.hpp"

namespace argon::test {

// A SUBMIT and what must come back for it.
struct submit_probe {
  common::submit_msg m;  // what is sent (an echo task)
  std::string payload;   // its payload frame
  std::string kind;      // the FAILED kind expected; "" for the one that runs
  std::string mention;   // what that FAILED's message must name
};

// One of the five, chosen by rng, with id "probe-N"; max_payload is the broker's --max-payload.
submit_probe make_submit_probe(std::mt19937_64& rng, int n, std::size_t max_payload);

// "" when the broker answered as promised; otherwise what went wrong, naming the id.
std::string run_submit_probe(const std::string& endpoint, const submit_probe& p);

}  // namespace argon::test
