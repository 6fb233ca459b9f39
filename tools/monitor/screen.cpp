#include "screen.hpp"

#include <fmt/format.h>

#include "event_text.hpp"
#include "terminal_text.hpp"

namespace argon::tools {
namespace {

using common::printable;  // ids, names, addresses and failure texts all come from peers

std::string running_text(const live_state& s, const worker_view& w) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& id : w.running) {
    if (shown++ == 4) return out + fmt::format(" +{} more", w.running.size() - 4);
    const std::string name = s.task_name(id);
    if (!out.empty()) out += ", ";
    out += printable(id);
    if (!name.empty()) out.append(" ").append(printable(name));
  }
  return out;
}

void add_totals(std::vector<std::string>& out, const live_state& s) {
  const auto& st = s.stats();
  out.push_back(fmt::format("workers {}  slots {}  busy {}  queue high {} normal {} low {} (limit {})", st.workers, st.slots,
                            st.busy_slots, st.queue_high, st.queue_normal, st.queue_low, st.queue_limit));
  out.push_back(fmt::format("clients with tasks queued {}{}{}", st.queued_clients, st.top_clients.empty() ? "" : "  top: ",
                            printable(st.top_clients)));
  out.push_back(fmt::format("tasks/s {:.1f}  busy/s {:.1f}  submitted {}  done {}  failed {}  dropped {}", st.tasks_per_s,
                            st.busy_per_s, s.submitted(), s.done(), s.failed(), st.dropped_total));
  out.push_back(fmt::format("latency ms (last {} s)   p50        p95        p99", st.window_s));
  out.push_back(fmt::format("  queue wait      {:10.2f} {:10.2f} {:10.2f}", st.wait_p50_ms, st.wait_p95_ms, st.wait_p99_ms));
  out.push_back(fmt::format("  run time        {:10.2f} {:10.2f} {:10.2f}", st.run_p50_ms, st.run_p95_ms, st.run_p99_ms));
}

void add_workers(std::vector<std::string>& out, const live_state& s, std::size_t room) {
  out.push_back(fmt::format("{:<20} {:<22} {:>4} {:>5} {:>8}  RUNNING", "WORKER", "ADDRESS", "CAP", "BUSY", "DONE"));
  std::size_t shown = 0;
  for (const auto& [id, w] : s.workers()) {
    if (shown++ == room) {
      out.push_back(fmt::format("… {} more workers", s.workers().size() - room));
      break;
    }
    const std::string cap = w.capacity ? std::to_string(w.capacity) : "?";
    out.push_back(fmt::format("{:<20} {:<22} {:>4} {:>5} {:>8}  {}", printable(id), printable(w.address), cap,
                              w.running.size(), w.done, running_text(s, w)));
  }
  if (s.workers().empty()) out.push_back("(no workers yet)");
}

void add_recent(std::vector<std::string>& out, const char* title, const std::deque<recent_line>& lines) {
  out.push_back(title);
  if (lines.empty()) out.push_back("  none");
  for (const auto& l : lines) out.push_back("  " + clock_time(l.time_ms) + "  " + printable(l.text));
}

}  // namespace

std::vector<std::string> render(const live_state& s, const frame_info& info) {
  std::vector<std::string> out;
  out.push_back(fmt::format("argon-monitor  {}  {}  events {}  (q quits)", info.endpoint, clock_time(info.now_ms).substr(0, 8),
                            s.events()));
  if (!info.notice.empty()) out.push_back("! " + info.notice);
  add_totals(out, s);
  out.emplace_back();
  const std::size_t fixed = out.size() + 2 + 2 * (2 + live_state::recent_kept) + 1;
  const std::size_t room = info.rows > static_cast<int>(fixed) + 1 ? static_cast<std::size_t>(info.rows) - fixed : 1;
  add_workers(out, s, room);
  out.emplace_back();
  add_recent(out, "RECENT FAILURES", s.failures());
  add_recent(out, "AUTH FAILURES", s.refusals());
  return out;
}

}  // namespace argon::tools
