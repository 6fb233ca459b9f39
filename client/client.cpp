// The public client: hands work to the session's I/O thread.
#include "session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "task_rules.hpp"

namespace argon {

namespace {

// Why an exec argv cannot be sent; empty when it can: the protocol's rule,
// and a header that fits its size limit.
std::string sendable_argv_problem(const std::vector<std::string>& argv) {
  if (std::string problem = common::exec_argv_problem(argv); !problem.empty()) return problem;
  // The header with the longest task id the session makes must fit the protocol's limit.
  common::submit_msg m{std::string(40, 'x'), common::exec_task, common::priority::normal, 0, 1, argv};
  if (common::encode_header(common::role::client, m).size() > common::max_header_bytes)
    return "exec arguments are too long: the header would be over 64 KiB";
  return {};
}

// Why a task with these options cannot be sent; empty when it can: the limits
// the broker would refuse it for (docs/protocol.md, SUBMIT).
std::string options_problem(const submit_options& opts) {
  if (opts.max_attempts > common::max_attempts_limit)
    return fmt::format("max_attempts is at most {}, got {}", common::max_attempts_limit, opts.max_attempts);
  if (opts.timeout.count() < 0 || opts.timeout.count() > UINT32_MAX)
    return fmt::format("the timeout is 0 to {} ms, got {}", UINT32_MAX, opts.timeout.count());
  return {};
}

// Fails a task before it is sent: the caller hears it from the I/O thread, as any outcome.
void refuse_locally(client::session* s, std::function<void(result)> on_done, std::string problem) {
  auto done = std::make_shared<std::function<void(result)>>(std::move(on_done));
  s->post([done, problem = std::move(problem)] { (*done)(result::failure("", "protocol_error", problem)); });
}

}  // namespace

client::client(client_options opts) : session_(std::make_unique<session>(std::move(opts))) {}

client::~client() = default;

void client::submit(std::string name, std::string payload, submit_options opts, std::function<void(result)> on_done) {
  std::string problem = common::task_name_problem(name);
  if (problem.empty()) problem = options_problem(opts);
  if (!problem.empty()) return refuse_locally(session_.get(), std::move(on_done), std::move(problem));
  auto t = std::make_unique<pending_task>();
  t->name = std::move(name);
  t->payload = zmq::message_t(payload.data(), payload.size());
  t->opts = opts;
  t->on_done = std::move(on_done);
  session* s = session_.get();
  t->submitted_at = s->now();  // the caller starts waiting now, whenever the I/O thread takes the task
  auto owned = std::make_shared<std::unique_ptr<pending_task>>(std::move(t));
  s->post([s, owned] { s->start_task(std::move(*owned)); });
}

std::future<result> client::submit(std::string name, std::string payload, submit_options opts) {
  auto promise = std::make_shared<std::promise<result>>();
  auto future = promise->get_future();
  submit(std::move(name), std::move(payload), opts, [promise](result r) { promise->set_value(std::move(r)); });
  return future;
}

void client::exec(std::vector<std::string> argv, std::string stdin_payload, submit_options opts,
                  std::function<void(result)> on_done) {
  session* s = session_.get();
  std::string problem = sendable_argv_problem(argv);
  if (problem.empty()) problem = options_problem(opts);
  if (!problem.empty()) return refuse_locally(s, std::move(on_done), std::move(problem));
  auto t = std::make_unique<pending_task>();
  t->name = common::exec_task;
  t->argv = std::move(argv);
  t->payload = zmq::message_t(stdin_payload.data(), stdin_payload.size());
  t->opts = opts;
  t->on_done = std::move(on_done);
  t->submitted_at = s->now();
  auto owned = std::make_shared<std::unique_ptr<pending_task>>(std::move(t));
  s->post([s, owned] { s->start_task(std::move(*owned)); });
}

std::future<result> client::exec(std::vector<std::string> argv, std::string stdin_payload, submit_options opts) {
  auto promise = std::make_shared<std::promise<result>>();
  auto future = promise->get_future();
  exec(std::move(argv), std::move(stdin_payload), opts, [promise](result r) { promise->set_value(std::move(r)); });
  return future;
}

// A blocking call from the I/O thread is a bug in the calling program, yet it
// throws rather than asserts: the client is a library, an assertion would
// vanish under NDEBUG and leave the program hung waiting for itself, and the
// caller's own code can catch it and see which call was wrong.
result client::call(std::string name, std::string payload, submit_options opts) {
  if (session_->on_io_thread()) throw usage_error("client::call would block the client's own I/O thread");
  return submit(std::move(name), std::move(payload), opts).get();
}

common::status_reply_msg client::status(bool with_workers) {
  if (session_->on_io_thread()) throw usage_error("client::status would block the client's own I/O thread");
  auto waiter = std::make_shared<std::promise<common::status_reply_msg>>();
  auto reply = waiter->get_future();
  session* s = session_.get();
  s->post([s, waiter, with_workers] { s->ask_status(waiter, with_workers); });
  if (reply.wait_for(s->opts_.connect_timeout) != std::future_status::ready)
    throw task_failed("unreachable", "the broker at " + s->endpoint_ +
                                         " did not answer; it may not be running, or the key may be wrong");
  return reply.get();
}

// Every broker is asked at once; each has connect_timeout from now to answer.
std::vector<client::broker_status> client::status_each(bool with_workers) {
  if (session_->on_io_thread()) throw usage_error("client::status_each would block the client's own I/O thread");
  session* s = session_.get();
  std::vector<std::future<common::status_reply_msg>> replies;
  for (std::size_t b = 0; b < s->endpoints_.size(); ++b) {
    auto waiter = std::make_shared<std::promise<common::status_reply_msg>>();
    replies.push_back(waiter->get_future());
    s->post([s, waiter, with_workers, b] { s->ask_status(waiter, with_workers, b); });
  }
  const auto until = std::chrono::steady_clock::now() + s->opts_.connect_timeout;
  std::vector<broker_status> out;
  for (std::size_t b = 0; b < replies.size(); ++b) {
    broker_status one{s->endpoints_[b], std::nullopt, ""};
    if (replies[b].wait_until(until) == std::future_status::ready) {
      try {
        one.status = replies[b].get();
      } catch (const task_failed& e) {
        one.error = e.what();
      }
    } else {
      one.error = "the broker at " + s->endpoints_[b] + " did not answer; it may not be running, or the key may be wrong";
    }
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace argon
