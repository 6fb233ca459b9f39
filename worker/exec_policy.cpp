#include "exec_policy.hpp"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "errors.hpp"
#include "task_rules.hpp"

namespace argon::worker {

using common::config_error;

namespace {

constexpr std::size_t max_pattern_bytes = 1024;  // the codec's limit for an announced pattern
constexpr const char* default_path = "/usr/local/bin:/usr/bin:/bin";

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

}  // namespace

exec_policy::exec_policy(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
  for (auto& p : patterns_) {
    if (p.empty() || p[0] != '/')
      throw config_error("--allow-exec '" + p + "': a pattern must be an absolute path or glob, e.g. '/usr/bin/*'");
    if (p.size() > max_pattern_bytes) throw config_error("--allow-exec pattern is longer than 1024 bytes");
  }
}

bool exec_policy::allows(std::string_view program) const {
  if (!common::is_clean_absolute_path(program)) return false;
  const std::string path(program);
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const std::string& p) { return ::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME) == 0; });
}

std::string exec_policy::refusal(std::string_view program) const {
  const std::string shown(program.substr(0, 256));
  if (!common::is_clean_absolute_path(program))
    return "program '" + shown + "' is not allowed: exec needs an absolute path without '.', '..' or '//'";
  return "program " + shown + " is not allowed on this worker (argon-worker --allow-exec PATTERN)";
}

std::string resolve_program(const std::string& name, const std::string& path_var) {
  if (name.empty()) throw config_error("empty program name");
  if (name.find('/') != std::string::npos) {
    std::string path = name;
    if (name[0] != '/') {
      char cwd[4096];
      if (!::getcwd(cwd, sizeof cwd)) throw config_error("cannot resolve " + name + ": no working directory");
      path = std::string(cwd) + "/" + name;
    }
    if (!is_executable_file(path)) throw config_error("program " + path + " does not exist or is not executable");
    return path;
  }
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/' && is_executable_file(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  throw config_error("program '" + name + "' was not found in PATH (" + path_var + ")");
}

std::vector<std::string> build_exec_env(const std::vector<std::string>& items) {
  std::vector<std::string> env{std::string("PATH=") + default_path};
  for (const auto& item : items) {
    const auto eq = item.find('=');
    const std::string name = item.substr(0, eq);
    if (!valid_env_name(name)) throw config_error("--exec-env '" + item + "': give NAME or NAME=VALUE");
    std::string entry = item;
    if (eq == std::string::npos) {
      const char* value = std::getenv(name.c_str());
      if (!value) throw config_error("--exec-env " + name + ": " + name + " is not set in the worker's environment");
      entry = name + "=" + value;
    }
    auto same = [&](const std::string& e) { return e.compare(0, name.size() + 1, name + "=") == 0; };
    env.erase(std::remove_if(env.begin(), env.end(), same), env.end());
    env.push_back(std::move(entry));
  }
  return env;
}

}  // namespace argon::worker
