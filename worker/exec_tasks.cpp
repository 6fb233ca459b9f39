#include "exec_tasks.hpp"

#include "log.hpp"
#include "protocol.hpp"

namespace argon::worker {

namespace {

std::string run_for_task(std::vector<std::string> argv, std::string_view payload, task_context& ctx,
                         const exec_settings& s) {
  exec_request rq;
  rq.argv = std::move(argv);
  rq.env = s.env;
  rq.input = payload;
  if (ctx.deadline())
    rq.deadline = std::chrono::steady_clock::now() + (*ctx.deadline() - std::chrono::system_clock::now());
  rq.cancelled = [&ctx] { return ctx.cancelled(); };
  exec_result r = run_program(rq, s.limits);
  common::log::debug("task {}: program {} (pid {}) ended: {}", ctx.id(), rq.argv[0], r.pid,
                     r.status == exec_status::ok ? "ok" : kind_of(r.status));
  if (r.status != exec_status::ok) throw task_error(kind_of(r.status), r.error);
  return std::move(r.output);
}

}  // namespace

context_handler make_command_handler(std::vector<std::string> argv, const exec_settings& settings) {
  return [argv = std::move(argv), &settings](std::string_view payload, task_context& ctx) {
    return run_for_task(argv, payload, ctx, settings);
  };
}

context_handler make_exec_handler(const exec_settings& settings) {
  return [&settings](std::string_view payload, task_context& ctx) {
    const auto& argv = ctx.argv();
    if (argv.empty())
      throw task_error("protocol_error", std::string("task ") + common::exec_task + " came without argv: nothing to run");
    if (!settings.policy.allows(argv[0])) {
      common::log::info("task {}: refused to run {} (not allowed by --allow-exec)", ctx.id(), argv[0].substr(0, 256));
      throw task_error("not_allowed", settings.policy.refusal(argv[0]));
    }
    return run_for_task(argv, payload, ctx, settings);
  };
}

}  // namespace argon::worker
