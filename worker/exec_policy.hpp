// Which programs a worker may run, and how their names are checked.
//
// A client names a program for the reserved task "exec" by its absolute,
// lexically normal path (no "." or ".." components, no "//", no trailing
// "/"), and the worker runs it only if one of its --allow-exec patterns
// matches that path under fnmatch(FNM_PATHNAME), where "*" never crosses a
// "/". The check is on the text of the path only: a symbolic link inside an
// allowed directory is allowed, so allow only directories whose contents you
// trust. Patterns must themselves be absolute.
//
// Programs of named exec tasks (--exec NAME=COMMAND) are fixed when the
// worker starts: a bare name is looked up once in PATH, any other relative
// path is made absolute against the working directory, and it must be an
// executable regular file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace argon::worker {

class exec_policy {
 public:
  // Throws common::config_error for a pattern that is empty, relative or too long.
  explicit exec_policy(std::vector<std::string> patterns = {});

  // Whether argv[0] may run here: clean, absolute and matched by a pattern.
  [[nodiscard]] bool allows(std::string_view program) const;
  // The reason a program is refused, for the task's error text.
  [[nodiscard]] std::string refusal(std::string_view program) const;
  // The patterns, as announced in READY.
  [[nodiscard]] const std::vector<std::string>& patterns() const { return patterns_; }
  // Whether any program may run at all (the worker serves "exec").
  [[nodiscard]] bool enabled() const { return !patterns_.empty(); }

 private:
  std::vector<std::string> patterns_;  // --allow-exec globs over absolute paths
};

// The absolute path of a program: PATH lookup for a bare name (using path_var),
// the name itself when absolute. Throws common::config_error if it is not an executable file.
[[nodiscard]] std::string resolve_program(const std::string& name, const std::string& path_var);

// The environment programs get: PATH=/usr/local/bin:/usr/bin:/bin, then each
// --exec-env item, NAME (copied from this process) or NAME=VALUE. Throws
// common::config_error for a bad item or a NAME this process does not have.
[[nodiscard]] std::vector<std::string> build_exec_env(const std::vector<std::string>& items);

}  // namespace argon::worker
