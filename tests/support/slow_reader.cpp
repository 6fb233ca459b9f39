// slow_reader: a raw client that pauses its reads and resubmits after a broker restart.
#include "slow_reader.hpp"

#include <fmt/format.h>

#include "outcome_rule.hpp"

namespace argon::test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

int between(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

std::string letters(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, 'a');
  for (auto& c : s) c = static_cast<char>('a' + between(rng, 0, 25));
  return s;
}

}  // namespace

slow_reader::slow_reader(const std::string& endpoint, std::uint64_t seed, slow_reader_options opts)
    : opts_(opts), rng_(seed),
      peer_(endpoint, nullptr, nullptr, {.rcvhwm = opts.receive_hwm, .routing_id = "c-slow-reader"}) {
  thread_ = std::thread([this] { run(); });
}

slow_reader::~slow_reader() { join(); }

void slow_reader::join() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

slow_reader_report slow_reader::report() const {
  slow_reader_report r = seen_;
  r.ids = tasks_.size();
  for (const auto& [id, t] : tasks_)
    if (t.outcomes == 0) r.unanswered.push_back(fmt::format("{} (sent {} times)", id, t.sends));
  return r;
}

void slow_reader::run() {
  try {
    auto next_ping = steady::now();
    while (!stop_) {
      const auto now = steady::now();
      if (now >= next_ping) {
        peer_.send(common::role::client, common::ping_msg{});
        next_ping = now + 200ms;
      }
      if (feeding_ && !instance_.empty())  // the first SUBMIT waits for first contact
        while (open_ < opts_.window) add_task();
      send_due(now);
      if (reading(now)) {
        for (auto m = peer_.receive(20ms); m; m = peer_.receive(0ms)) handle(*m);
      } else {
        std::this_thread::sleep_for(20ms);
      }
      if (!feeding_ && open_ == 0) drained_ = true;
    }
  } catch (const std::exception& e) {
    seen_.defects.push_back(fmt::format("the slow reader stopped: {}", e.what()));
  }
}

// Alternates reading and not reading while it feeds; always reads after.
bool slow_reader::reading(steady::time_point now) {
  if (!feeding_) return true;
  if (now < phase_end_) return reading_;
  reading_ = !reading_;
  if (!reading_) ++seen_.pauses;
  phase_end_ = now + std::chrono::milliseconds(reading_ ? between(rng_, 300, 1500) : between(rng_, 500, 3000));
  return reading_;
}

void slow_reader::add_task() {
  const std::string id = fmt::format("slow-{}", tasks_.size() + 1);
  sent_task& t = tasks_[id];
  t.payload = letters(rng_, static_cast<std::size_t>(between(rng_, 1, static_cast<int>(opts_.largest_payload))));
  ++open_;
  send(id, t);
}

void slow_reader::send(const std::string& id, sent_task& t) {
  t.retry_at.reset();
  ++t.sends;
  peer_.send(common::role::client, common::submit_msg{id, "echo", common::priority::normal, 0, opts_.max_attempts, {}},
             t.payload);
}

void slow_reader::send_due(steady::time_point now) {
  for (auto& [id, t] : tasks_)
    if (t.retry_at && *t.retry_at <= now) send(id, t);
}

// A new broker instance knows none of the ids: each unanswered one goes again
// (those waiting after BUSY go at their time).
void slow_reader::send_unanswered() {
  for (auto& [id, t] : tasks_)
    if (t.outcomes == 0 && !t.retry_at) {
      send(id, t);
      ++seen_.resent;
    }
}

void slow_reader::handle(common::message& m) {
  if (auto* r = std::get_if<common::result_msg>(&m.content)) return on_outcome(r->id, true, m.payload.to_string(), "", "");
  if (auto* f = std::get_if<common::failed_msg>(&m.content)) return on_outcome(f->id, false, "", f->kind, f->message);
  if (auto* b = std::get_if<common::busy_msg>(&m.content)) {
    ++seen_.busy;
    auto it = tasks_.find(b->id);
    if (it != tasks_.end() && it->second.outcomes == 0)
      it->second.retry_at = steady::now() + std::chrono::milliseconds(std::max<std::uint32_t>(b->retry_after_ms, 10));
    return;
  }
  if (auto* p = std::get_if<common::pong_msg>(&m.content)) {
    if (p->broker == instance_) return;
    ++seen_.instances;
    if (!instance_.empty()) send_unanswered();
    instance_ = p->broker;
    return;
  }
  seen_.defects.push_back(fmt::format("unexpected {}", common::command_name(common::command_of(m.content))));
}

void slow_reader::on_outcome(const std::string& id, bool ok, const std::string& value, const std::string& kind,
                             const std::string& message) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return seen_.defects.push_back(fmt::format("an outcome for id '{}', never sent", id));
  sent_task& t = it->second;
  const std::string text = ok ? fmt::format("RESULT {}", value) : fmt::format("FAILED {} {}", kind, message);
  if (t.outcomes++ > 0) {
    ++seen_.second_outcomes;
    if (t.sends < 2) seen_.defects.push_back(fmt::format("{}: sent once, answered {} times", id, t.outcomes));
    else if (text != t.first) seen_.defects.push_back(fmt::format("{}: a second outcome differs from the first", id));
    return;
  }
  --open_;
  t.first = text;
  ++seen_.kinds[ok ? "done" : kind];
  if (std::string bad = outcome_problem(id, ok, value, kind, message, t.payload, opts_.max_attempts); !bad.empty())
    seen_.defects.push_back(std::move(bad));
}

}  // namespace argon::test
