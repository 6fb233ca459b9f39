// The public client: hands work to the session's I/O thread.
#include "session.hpp"

namespace argon {

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

result client::call(std::string name, std::string payload, submit_options opts) {
  if (session_->on_io_thread()) throw std::logic_error("client::call would block the client's own I/O thread");
  return submit(std::move(name), std::move(payload), opts).get();
}

common::status_reply_msg client::status(bool with_workers) {
  if (session_->on_io_thread()) throw std::logic_error("client::status would block the client's own I/O thread");
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
