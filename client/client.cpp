// The public client: hands work to the session's I/O thread.
#include "session.hpp"

#include <algorithm>
#include <string_view>

namespace argon {

namespace {

// Whether path is absolute with no empty, "." or ".." component.
bool is_clean_absolute(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/' || path.find('\0') != std::string::npos) return false;
  for (std::size_t start = 1; start <= path.size();) {
    std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// Why an exec argv cannot be sent; empty when it can.
std::string exec_argv_problem(const std::vector<std::string>& argv) {
  if (argv.empty()) return "exec needs a program: argv is empty";
  if (!is_clean_absolute(argv[0]))
    return "exec needs the program's absolute path without '.', '..' or '//', e.g. /usr/bin/tr; got '" +
           argv[0].substr(0, 256) + "'";
  if (argv.size() > common::max_list_items)
    return "exec takes at most " + std::to_string(common::max_list_items) + " arguments, got " + std::to_string(argv.size());
  // The header with the longest task id the session makes must fit the protocol's limit.
  common::submit_msg m{std::string(40, 'x'), common::exec_task, common::priority::normal, 0, 1, argv};
  if (common::encode_header(common::role::client, m).size() > common::max_header_bytes)
    return "exec arguments are too long: the header would be over 64 KiB";
  return {};
}

}  // namespace

client::client(client_options opts) : session_(std::make_unique<session>(std::move(opts))) {}

client::~client() = default;

void client::submit(std::string name, std::string payload, submit_options opts, std::function<void(result)> on_done) {
  auto t = std::make_unique<pending_task>();
  t->name = std::move(name);
  t->payload = zmq::message_t(payload.data(), payload.size());
  t->opts = opts;
  t->on_done = std::move(on_done);
  session* s = session_.get();
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
  if (std::string problem = exec_argv_problem(argv); !problem.empty()) {
    auto done = std::make_shared<std::function<void(result)>>(std::move(on_done));
    s->post([done, problem] { (*done)(result::failure("", "protocol_error", problem)); });
    return;
  }
  auto t = std::make_unique<pending_task>();
  t->name = common::exec_task;
  t->argv = std::move(argv);
  t->payload = zmq::message_t(stdin_payload.data(), stdin_payload.size());
  t->opts = opts;
  t->on_done = std::move(on_done);
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

}  // namespace argon
