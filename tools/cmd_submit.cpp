// argon submit: one task; result bytes to stdout, outcome as the exit code.
#include "cli.hpp"

namespace argon::cli {
namespace {

struct submit_flags {
  connection_flags conn;               // broker and key
  task_flags task_opts;                // priority, timeout, retry, attempts
  std::string task;                    // TASK
  std::optional<std::string> payload;  // PAYLOAD, else stdin
} flags;

}  // namespace

void add_submit(CLI::App& app) {
  auto* cmd = app.add_subcommand("submit", "Run one task and print its result (payload from stdin when not given)");
  add_connection_flags(*cmd, flags.conn);
  add_task_flags(*cmd, flags.task_opts);
  cmd->add_option("TASK", flags.task, "Task name, e.g. echo")->required();
  cmd->add_option("PAYLOAD", flags.payload, "Task input; read from stdin when absent");
}

int run_submit(CLI::App&) {
  client_options o = to_options(flags.conn);
  submit_options s = to_submit_options(flags.task_opts);
  std::string payload = flags.payload ? *flags.payload : read_payload(std::nullopt);
  client c(o);
  return report(c.call(flags.task, std::move(payload), s));
}

}  // namespace argon::cli
