// Reading the files a user names on a command line (a keyfile, a task's
// input) and standard input. Any way one cannot be read (missing, a
// directory, no permission, an I/O error midway) is the user's to fix, so
// each is one config_error that names the file and the reason, and the
// programs exit 2 for it (docs/operations.md). Nothing is read partially
// and passed on as if it were whole.
#pragma once

#include <string>
#include <string_view>

namespace argon::common {

// The whole file at path. what names it in errors: "cannot read WHAT 'PATH': REASON".
[[nodiscard]] std::string read_user_file(const std::string& path, std::string_view what);

// All of standard input, in binary. what names it in errors: "cannot read WHAT: REASON".
[[nodiscard]] std::string read_stdin(std::string_view what);

}  // namespace argon::common
