#include "exec_path.hpp"

#include <algorithm>

#include "protocol.hpp"

namespace argon::common {

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
