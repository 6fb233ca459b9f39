// Task handlers that run programs: named commands (--exec NAME=COMMAND) and
// the reserved task "exec", whose program the client names in argv.
//
// Both run through run_program() (exec_runner.hpp) with the worker's
// scrubbed environment and limits, stop the program when the task is
// cancelled or passes its deadline, and fail with the runner's kinds
// (task_error, exec_failed, result_too_large, timeout, cancelled). "exec"
// first checks argv[0] against the worker's --allow-exec patterns and,
// when it is not allowed, fails with not_allowed and starts nothing.
#pragma once

#include <string>
#include <vector>

#include "argon/worker.hpp"
#include "exec_policy.hpp"
#include "exec_runner.hpp"

namespace argon::worker {

// What every program task of a worker shares.
struct exec_settings {
  exec_policy policy;             // programs "exec" may run
  std::vector<std::string> env;   // the programs' whole environment
  exec_limits limits;             // result size and kill grace
};

// A handler running this fixed argv (argv[0] absolute) with the payload on stdin.
[[nodiscard]] context_handler make_command_handler(std::vector<std::string> argv, const exec_settings& settings);

// The handler of task "exec": runs ctx.argv() if the policy allows argv[0].
[[nodiscard]] context_handler make_exec_handler(const exec_settings& settings);

}  // namespace argon::worker
