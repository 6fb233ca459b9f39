#include "printer.hpp"

#include <cstdio>

#include "event_text.hpp"

namespace argon::tools {

bool printer::show(const common::monitor::event& e, std::size_t from) {
  if (!((shown_ >> e.content.index()) & 1u)) return true;
  const std::string* label = from < labels_.size() ? &labels_[from] : nullptr;
  std::string line;
  if (json_) line = json_line(e, label ? *label : "");
  else if (const auto* t = std::get_if<common::monitor::trace>(&e.content)) line = trace_line(e, *t);
  else line = plain_line(e);
  if (label && !json_) line = "[" + *label + "] " + line;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  return !std::ferror(stdout);
}

void printer::tick(std::uint64_t, const std::string& notice) {
  if (notice == last_notice_) return;
  last_notice_ = notice;
  if (!notice.empty()) std::fprintf(stderr, "argon-monitor: %s\n", notice.c_str());
}

}  // namespace argon::tools
