// argon exec: run one program on a worker that allows it (--allow-exec);
// stdin (or --input FILE) is its stdin, its stdout is printed, and the exit
// code says how it went, as for argon submit (1 also when the worker does
// not allow the program: kind not_allowed).
#include "cli.hpp"
#include "errors.hpp"

namespace argon::cli {
namespace {

struct exec_flags {
  connection_flags conn;             // broker and key
  task_flags task_opts;              // priority, timeout, retry, attempts
  std::optional<std::string> input;  // --input FILE, else stdin
  std::vector<std::string> argv;     // PROGRAM ARG...
} exec_flags_given;

}  // namespace

void add_exec(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "exec", "Run a program on a worker started with --allow-exec: argon exec [flags] -- /abs/path/PROGRAM [ARG...]");
  add_connection_flags(*cmd, exec_flags_given.conn);
  add_task_flags(*cmd, exec_flags_given.task_opts);
  cmd->add_option("--input,-i", exec_flags_given.input, "Read the program's stdin from this file instead of stdin");
  cmd->add_option("PROGRAM", exec_flags_given.argv, "The program's absolute path, then its arguments (put -- before them)")->required();
}

int run_exec(CLI::App&) {
  const std::string& program = exec_flags_given.argv.front();
  if (program.empty() || program[0] != '/')
    throw common::config_error("give the absolute path of the program, not '" + program +
                               "' (find it with: command -v " + program + "); workers do not search PATH for exec");
  client_options o = to_options(exec_flags_given.conn);
  submit_options s = to_submit_options(exec_flags_given.task_opts);
  std::string payload = read_payload(exec_flags_given.input);
  client c(o);
  return report(c.exec(exec_flags_given.argv, std::move(payload), s).get());
}

}  // namespace argon::cli
