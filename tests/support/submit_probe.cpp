// submit_probe: SUBMITs out of range, each sent on its own connection and its one answer judged.
#include "submit_probe.hpp"

#include <fmt/format.h>

#include <chrono>

#include "outcome_rule.hpp"
#include "raw_peer.hpp"

namespace argon::test {

using namespace std::chrono_literals;

namespace {

template <class T> T between(std::mt19937_64& rng, T lo, T hi) { return std::uniform_int_distribution<T>(lo, hi)(rng); }

// Whether the one answer keeps the promise; "" when it does.
std::string judge(const submit_probe& p, common::message& answer) {
  const std::string& id = p.m.id;
  if (auto* f = std::get_if<common::failed_msg>(&answer.content)) {
    if (f->id != id) return fmt::format("{}: FAILED names '{}'", id, f->id);
    if (p.kind.empty()) return outcome_problem(id, false, "", f->kind, f->message, p.payload, 1);
    if (f->kind != p.kind || f->message.find(p.mention) == std::string::npos)
      return fmt::format("{}: FAILED {} ({}), expected {} naming {}", id, f->kind, f->message, p.kind, p.mention);
    return "";
  }
  if (auto* r = std::get_if<common::result_msg>(&answer.content))
    return p.kind.empty() && r->id == id ? outcome_problem(id, true, answer.payload.to_string(), "", "", p.payload, 1)
                                         : fmt::format("{}: RESULT for '{}', expected FAILED {}", id, r->id, p.kind);
  if (auto* b = std::get_if<common::busy_msg>(&answer.content))
    return p.kind.empty() && b->id == id ? "" : fmt::format("{}: BUSY for '{}', expected FAILED {}", id, b->id, p.kind);
  return fmt::format("{}: {} instead of an answer naming the id", id, common::command_name(common::command_of(answer.content)));
}

}  // namespace

submit_probe make_submit_probe(std::mt19937_64& rng, int n, std::size_t max_payload) {
  common::submit_msg m{fmt::format("probe-{}", n), "echo", common::priority::normal, 0, 1, {}};
  switch (between(rng, 0, 4)) {
    case 0: return {m, std::string(max_payload + 1, 'p'), "payload_too_large", "limit"};
    case 1: m.task = std::string(common::max_id_bytes + 1, 't'); return {m, "x", "protocol_error", "'task'"};
    case 2: m.pri = static_cast<common::priority>(between(rng, 3, 255)); return {m, "x", "protocol_error", "'priority'"};
    case 3:
      m.max_attempts = between<std::uint32_t>(rng, common::max_attempts_limit + 1, UINT32_MAX);
      return {m, "x", "protocol_error", "'max_attempts'"};
    default: m.max_attempts = 0; m.pri = common::priority::high; return {m, "zero attempts", "", ""};
  }
}

std::string run_submit_probe(const std::string& endpoint, const submit_probe& p) {
  raw_peer peer(endpoint, nullptr, nullptr);
  peer.send(common::role::client, p.m, p.payload);
  auto answer = peer.receive(15s);
  if (!answer) return fmt::format("{}: no answer within 15 s", p.m.id);
  if (auto second = peer.receive(300ms))
    return fmt::format("{}: a second answer, {}", p.m.id, common::command_name(common::command_of(second->content)));
  return judge(p, *answer);
}

}  // namespace argon::test
