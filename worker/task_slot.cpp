#include "task_slot.hpp"

#include "codec.hpp"
#include "log.hpp"

namespace argon::worker {

using namespace argon::common;

namespace {
constexpr millis done_linger{2000};  // a last DONE still leaves when the worker stops
constexpr std::size_t max_error_bytes = 16 * 1024;  // an error text is cut here, so DONE's header stays small

// The task as its handler sees it.
task_info info_of(const task_msg& t) {
  task_info i{t.id, t.task, t.attempt, std::nullopt, t.argv};
  if (t.deadline_ms != 0) i.deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(t.deadline_ms));
  return i;
}

std::string cut_error(std::string text) {
  if (text.size() > max_error_bytes) {
    text.resize(max_error_bytes);
    text += " [cut]";
  }
  return text;
}
}  // namespace

task_slot::task_slot(const slot_env& env, unsigned index, std::function<void()> on_closed)
    : env_(env), routing_id_("s" + env.worker_id + "." + std::to_string(index)), on_closed_(std::move(on_closed)),
      leave_timer_(env.loop, [this] { close(); }), runner_(*env.completions), progress_(env.loop, *env.completions, env.progress) {
  open_socket();
  if (env_.take_offer && !env_.take_offer()) parked_ = true;
  else send_ready();
}

bool task_slot::offer() {
  if (!parked_ || closing_ || state_ != state::ready) return false;
  parked_ = false;
  send_ready();
  return true;
}

void task_slot::open_socket() {
  socket_ = open_broker_socket(env_.broker, zmq::socket_type::req, routing_id_, done_linger);
  awaiting_reply_ = false;  // a new REQ socket sends first
  watch_ = std::make_unique<zmq_watch>(env_.loop, socket_, [this] { return read_one(); });
}

// The watch goes first: its uv_poll must stop before libzmq closes the fd it watches.
void task_slot::close_socket() {
  watch_.reset();
  socket_.close();
}

// Whatever the old socket still held (a READY, a reply) was meant for a broker that
// no longer has it, so it is dropped rather than lingering.
void task_slot::replace_socket() {
  socket_.set(zmq::sockopt::linger, 0);
  close_socket();
  open_socket();
}

// A restarted broker never knew this slot's last task, so READY is all it needs.
void task_slot::reannounce() {
  if (state_ != state::ready || parked_) return;
  if (parking_) {  // the new broker knows nothing of this slot: it is parked, and its permit is free
    parking_ = false;
    parked_ = true;
    replace_socket();
    if (env_.offer_withdrawn) env_.offer_withdrawn();
    return;
  }
  replace_socket();
  send_ready();
}

// A silent broker may still be waiting for the last DONE, so the new socket repeats
// it; a broker that already has it takes it as "ready" and drops the copy.
void task_slot::reconnect() {
  if (state_ == state::busy) reconnect_before_done_ = true;
  if (state_ != state::ready || parked_) return;
  replace_socket();
  if (!holding_done_) return send_ready();
  send_done();
  watch_->drain();
}

bool task_slot::cancel(std::string_view task_id) {
  if (state_ != state::busy || task_.id != task_id) return false;
  cancelled_.store(true);
  return true;
}

void task_slot::send_ready() {
  holding_done_ = false;
  offered_since_ = common::steady_clock().now();
  awaiting_reply_ = send(socket_, socket_kind::req, nullptr, role::slot, ready_msg{env_.worker_id, env_.caps, env_.lanes}) == send_status::sent;
  if (!awaiting_reply_)
    log::error("slot could not announce READY to {}", env_.broker.endpoint);
  watch_->drain();
}

// A REQ socket may receive only while a request waits for its reply; after a
// TASK it must send first, so the drain stops there.
bool task_slot::read_one() {
  if (!awaiting_reply_) return false;
  auto f = read_frames(socket_, socket_kind::req);
  if (!f) return false;
  awaiting_reply_ = false;
  try {
    message m = decode(*f);
    if (auto* t = std::get_if<task_msg>(&m.content)) {
      parking_ = false;  // a broker that does not know park sent a task: it runs, with the permit it holds
      return start(std::move(*t), std::move(m.payload));
    }
    // The broker's answer to a stopping slot: nothing more comes. The slot closes
    // from the timer, since a watch cannot close its socket from its own callback.
    if (closing_) {
      leave_timer_.start(millis(0));
      return false;
    }
    if (auto* e = std::get_if<error_msg>(&m.content); parking_ || (e && e->kind == "withdrawn")) {
      parking_ = false;
      parked_ = true;  // no READY outstanding: the permit goes back, and the REQ turn stays ours
      if (env_.offer_withdrawn) env_.offer_withdrawn();
      return false;
    }
    if (auto* e = std::get_if<error_msg>(&m.content); e && e->kind == "unknown_slot")
      log::info("the broker did not know this slot; announcing it");
    else if (e)
      log::warn("broker refused this slot's message ({}): {}", e->kind, e->message);
    else
      log::warn("slot got {} from the broker; expected TASK", command_name(command_of(m.content)));
  } catch (const protocol_error& e) {
    log::warn("malformed message from the broker: {}", e.what());
  }
  send_ready();  // the REQ turn is ours again: ask for work anew
  return true;   // the reply may be there already, its edge taken by the send
}

// Returns true when a quick handler ran here and DONE is sent, so the drain
// goes on to its reply. A stopping slot runs even a quick handler on its
// thread: its finish closes the socket, which the watch's own callback may not.
bool task_slot::start(task_msg&& t, zmq::message_t&& payload) {
  leave_timer_.stop();
  task_ = std::move(t);
  payload_ = std::move(payload);
  holding_done_ = false;
  result_.clear();
  kind_.clear();
  cancelled_.store(false);
  progress_.begin(task_.id);
  set_state(state::busy);
  log::debug("task {} ({}) attempt {} started", task_.id, task_.task, task_.attempt);
  auto it = env_.handlers->find(task_.task);
  if (it != env_.handlers->end() && it->second.quick && !closing_) {
    run_handler();
    end_task();
    return awaiting_reply_;
  }
  runner_.run([this] { run_handler(); }, [this] { finish(); });
  return false;
}

void task_slot::run_handler() {  // on the handler thread
  ok_ = false;
  auto it = env_.handlers->find(task_.task);
  if (it == env_.handlers->end()) {
    result_ = "no handler for task '" + task_.task + "'";
    return;
  }
  try {
    task_context ctx(info_of(task_), cancelled_, [this](unsigned percent, std::string message) {
      progress_.offer(percent, std::move(message));
    });
    result_ = it->second.run(std::string_view(static_cast<const char*>(payload_.data()), payload_.size()), ctx);
    ok_ = true;
  } catch (const task_error& e) {
    kind_ = e.kind().size() <= max_id_bytes ? e.kind() : "task_error";
    result_ = cut_error(e.what());
  } catch (const std::exception& e) {
    result_ = cut_error(e.what());
  } catch (...) {
    result_ = "handler threw something that is not a std::exception";
  }
}

void task_slot::finish() {
  if (reconnect_before_done_) replace_socket();
  reconnect_before_done_ = false;
  end_task();
  if (closing_) return close();
  watch_->drain();
}

void task_slot::end_task() {
  keep_result_limit();
  payload_.rebuild();
  progress_.end();
  log::debug("task {} {}", task_.id, ok_ ? "done" : "failed");
  if (cancelled_.load()) log::info("task {} was cancelled while it ran; its outcome is returned anyway", task_.id);
  if (!ok_) log::debug("task {} failed ({}): {}", task_.id, kind_.empty() ? "task_error" : kind_, result_.substr(0, 200));
  set_state(state::ready);
  holding_done_ = true;
  offered_since_ = common::steady_clock().now();
  parking_ = !closing_ && env_.park_after_task && env_.park_after_task();
  send_done();
}

// The broker's socket drops a frame over its limit together with the connection,
// unseen by either side, so such a result becomes a failure the client can see.
void task_slot::keep_result_limit() {
  if (!ok_ || env_.max_result == 0 || result_.size() <= env_.max_result) return;
  log::warn("task {} returned {} bytes, more than the broker accepts ({} bytes): it fails as result_too_large",
            task_.id, result_.size(), env_.max_result);
  ok_ = false;
  kind_ = "result_too_large";
  result_ = fmt::format("the result has {} bytes; the broker accepts at most {}", result_.size(), env_.max_result);
}

// Sends the kept outcome; the caller drains the socket afterwards.
void task_slot::send_done() {
  zmq::message_t out;
  if (ok_) out.rebuild(result_.data(), result_.size());
  done_msg d{env_.worker_id, task_.id, ok_, ok_ ? std::string() : result_, ok_ ? std::string() : kind_, parking_};
  awaiting_reply_ = send(socket_, socket_kind::req, nullptr, role::slot, d, &out) == send_status::sent;
  if (!awaiting_reply_)
    log::error("could not return the result of task {}", task_.id);
}

// An idle slot's READY is with the broker, which may have sent a TASK before
// it read the worker's BYE: closing now would lose that task unstarted. The
// broker answers BYE with ERROR worker_leaving on every idle slot, behind any
// such TASK, so the slot waits for that answer (read_one), or leave_wait.
void task_slot::close_when_idle() {
  if (closing_) return;
  closing_ = true;
  if (parked_) leave_timer_.start(millis(0));  // nothing outstanding at the broker
  else if (state_ == state::ready) leave_timer_.start(env_.leave_wait);
}

void task_slot::close() {
  if (state_ == state::closed) return;
  set_state(state::closed);
  leave_timer_.stop();
  close_socket();
  on_closed_();
}

}  // namespace argon::worker
