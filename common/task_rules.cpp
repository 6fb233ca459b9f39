// The task rules, as plain checks on bytes: no locale, no file system.
#include "task_rules.hpp"

#include <algorithm>

#include "protocol.hpp"

namespace argon::common {

std::string task_name_problem(std::string_view name) {
  if (name.empty()) return "a task needs a name";
  if (name.size() > max_id_bytes)
    return "task names are at most " + std::to_string(max_id_bytes) + " bytes; this one has " + std::to_string(name.size());
  if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return "task names cannot hold control characters";
  return "";
}

bool is_clean_absolute_path(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/' || path.find('\0') != std::string_view::npos) return false;
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string exec_argv_problem(const std::vector<std::string>& argv) {
  if (argv.empty()) return "task 'exec' needs a program: argv is empty";
  if (!is_clean_absolute_path(argv[0]))
    return "task 'exec' needs the program's absolute path without '.', '..' or '//', e.g. /usr/bin/tr; got '" +
           std::string(argv[0].substr(0, 256)) + "'";
  if (argv.size() > max_list_items)
    return "task 'exec' takes at most " + std::to_string(max_list_items) + " arguments, got " + std::to_string(argv.size());
  return "";
}

}  // namespace argon::common
