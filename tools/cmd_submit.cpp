// argon submit: one task; result bytes to stdout, outcome as the exit code.
#include "cli.hpp"

namespace argon::cli {
namespace {

struct submit_flags {
  connection_flags conn;               // broker and key
  task_flags task_opts;                // priority, timeout, retry, attempts
  std::string task;                    // TASK
  std::optional<std::string> payload;  // PAYLOAD, else stdin
} submit_flags_given;

}  // namespace

void add_submit(CLI::App& app) {
  auto* cmd = app.add_subcommand("submit", "Run one task and print its result (payload from stdin when not given)");
  add_connection_flags(*cmd, submit_flags_given.conn);
  add_task_flags(*cmd, submit_flags_given.task_opts);
  cmd->add_option("TASK", submit_flags_given.task, "Task name, e.g. echo")->required();
  cmd->add_option("PAYLOAD", submit_flags_given.payload, "Task input; read from stdin when absent");
}

int run_submit(CLI::App&) {
  client_options o = to_options(submit_flags_given.conn);
  submit_options s = to_submit_options(submit_flags_given.task_opts);
  std::string payload = submit_flags_given.payload ? *submit_flags_given.payload : read_payload(std::nullopt);
  client c(o);
  return report(c.call(submit_flags_given.task, std::move(payload), s));
}

}  // namespace argon::cli
