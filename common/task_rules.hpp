// The rules a SUBMIT's task must follow (docs/protocol.md), written once and
// checked alike by the client before it sends, by the broker before it
// queues, and (for programs) by the worker before it runs.
//
// A task name is 1 to 128 bytes with no control character. The program a
// task "exec" names is an absolute, lexically normal path, so a pattern such
// as /usr/bin/* cannot be escaped with "..", and what the broker routes by is
// what the worker matches. Nothing here touches the file system.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace argon::common {

// What is wrong with a task name; "" when nothing is.
[[nodiscard]] std::string task_name_problem(std::string_view name);

// Whether path is absolute with no empty, "." or ".." component and no NUL
// byte: "/usr/bin/tr" and "/usr/bin/..x" are; "tr", "/", "/usr/bin/",
// "/usr//bin/tr", "/usr/bin/." and "/usr/bin/../sbin/x" are not.
[[nodiscard]] bool is_clean_absolute_path(std::string_view path);

// Why argv cannot be a task "exec"'s argv; "" when it can. It must hold the
// program's clean absolute path first and at most max_list_items items.
[[nodiscard]] std::string exec_argv_problem(const std::vector<std::string>& argv);

}  // namespace argon::common
