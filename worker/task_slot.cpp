#include "task_slot.hpp"

#include "codec.hpp"
#include "log.hpp"

namespace argon::worker {

using namespace argon::common;

task_slot::task_slot(const slot_env& env, unsigned index, std::function<void()> on_closed)
    : env_(env), on_closed_(std::move(on_closed)), socket_(*env.ctx, zmq::socket_type::req), runner_(*env.completions) {
  socket_.set(zmq::sockopt::linger, 2000);  // a last DONE still leaves when the worker stops
  socket_.set(zmq::sockopt::routing_id, "s" + env.worker_id + "." + std::to_string(index));
  if (env.keys) apply_curve_client(socket_, env.keys->worker, env.keys->broker);
  socket_.connect(env.endpoint);
  watch_ = std::make_unique<zmq_watch>(env.loop, socket_, [this] { read_one(); });
  send_ready();
}

void task_slot::send_ready() {
  if (send(socket_, socket_kind::req, nullptr, role::slot, ready_msg{env_.worker_id}) != send_status::sent)
    log::error("slot could not announce READY to {}", env_.endpoint);
  watch_->drain();
}

void task_slot::read_one() {
  auto f = read_frames(socket_, socket_kind::req);
  if (!f) return;
  try {
    message m = decode(*f);
    if (auto* t = std::get_if<task_msg>(&m.content)) return start(std::move(*t), std::move(m.payload));
    if (auto* e = std::get_if<error_msg>(&m.content))
      log::warn("broker refused this slot's message ({}): {}", e->kind, e->message);
    else
      log::warn("slot got {} from the broker; expected TASK", command_name(command_of(m.content)));
  } catch (const protocol_error& e) {
    log::warn("malformed message from the broker: {}", e.what());
  }
  send_ready();  // the REQ turn is ours again: ask for work anew
}

void task_slot::start(task_msg&& t, zmq::message_t&& payload) {
  task_ = std::move(t);
  payload_ = std::move(payload);
  set_state(state::busy);
  log::debug("task {} ({}) attempt {} started", task_.id, task_.task, task_.attempt);
  runner_.run([this] { run_handler(); }, [this] { finish(); });
}

void task_slot::run_handler() {  // on the handler thread
  auto it = env_.handlers->find(task_.task);
  if (it == env_.handlers->end()) {
    ok_ = false;
    result_ = "no handler for task '" + task_.task + "'";
    return;
  }
  try {
    result_ = it->second(std::string_view(static_cast<const char*>(payload_.data()), payload_.size()));
    ok_ = true;
  } catch (const std::exception& e) {
    ok_ = false;
    result_ = e.what();
  } catch (...) {
    ok_ = false;
    result_ = "handler threw something that is not a std::exception";
  }
}

void task_slot::finish() {
  zmq::message_t out;
  if (ok_) out.rebuild(result_.data(), result_.size());
  done_msg d{env_.worker_id, task_.id, ok_, ok_ ? std::string() : result_};
  if (send(socket_, socket_kind::req, nullptr, role::slot, d, &out) != send_status::sent)
    log::error("could not return the result of task {}", task_.id);
  log::debug("task {} {}", task_.id, ok_ ? "done" : "failed");
  result_.clear();
  payload_.rebuild();
  set_state(state::ready);
  if (closing_) return close();
  watch_->drain();
}

void task_slot::close_when_idle() {
  closing_ = true;
  if (state_ == state::ready) close();
}

void task_slot::close() {
  if (state_ == state::closed) return;
  set_state(state::closed);
  watch_.reset();
  socket_.close();
  on_closed_();
}

}  // namespace argon::worker
