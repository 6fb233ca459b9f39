#include "session.hpp"

#include <sodium.h>

#include "codec.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace argon {

using namespace argon::common;

namespace {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return fmt::format("{:g} s", static_cast<double>(ms.count()) / 1000.0);
}

}  // namespace

client::session::session(client_options opts)
    : opts_(std::move(opts)), socket_(ctx_, zmq::socket_type::dealer) {
  if (opts_.broker.empty()) throw config_error("give the broker's endpoint, tcp://host:port");
  if (!opts_.insecure && !opts_.keyfile) throw config_error("give a keyfile, or choose insecure to run without encryption");
  if (sodium_init() < 0) throw config_error("libsodium could not be initialised");
  endpoint_ = normalize_endpoint(opts_.broker);
  if (opts_.keyfile) keys_ = load_keys(*opts_.keyfile);
  id_prefix_ = random_hex(4);
  rng_.seed(randombytes_random());
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::routing_id, "c-" + random_hex(6));  // stable for this client object
  socket_.set(zmq::sockopt::sndhwm, 100000);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  if (keys_) apply_curve_client(socket_, keys_->client, keys_->broker);
  try {
    socket_.connect(endpoint_);
  } catch (const zmq::error_t& e) {
    throw config_error("cannot use broker endpoint '" + endpoint_ + "': " + e.what());
  }
  watch_ = std::make_unique<zmq_watch>(loop_.get(), socket_, [this] { read_one(); });
  wake_ = std::make_unique<async_wake>(loop_.get(), [this] { take_inbox(); });
  connect_timer_ = std::make_unique<timer>(loop_.get(), [this] { check_connection(); });
  send_ping();
  io_ = std::thread([this] { loop_.run(); });
}

client::session::~session() {
  post([this] { shut_down(); });
  io_.join();
  connect_timer_.reset();
  wake_.reset();
  watch_.reset();
}

void client::session::post(std::function<void()> fn) {
  if (on_io_thread()) return fn();
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(fn));
  }
  wake_->send();
}

void client::session::take_inbox() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(inbox_mutex_);
    work.swap(inbox_);
  }
  for (auto& fn : work) fn();
}

std::string client::session::next_id() { return id_prefix_ + "-" + std::to_string(++id_counter_); }

void client::session::start_task(std::unique_ptr<pending_task> t) {
  t->id = next_id();
  if (closing_) return t->on_done(result::failure(t->id, "cancelled", "the client is shutting down"));
  if (t->payload.size() > opts_.max_payload)
    return t->on_done(result::failure(t->id, "payload_too_large",
                                      fmt::format("payload of {} bytes is over the limit of {} bytes", t->payload.size(), opts_.max_payload)));
  t->first_sent = clock_.now();
  if (t->opts.timeout.count() > 0) {
    std::string id = t->id;
    auto limit = t->opts.timeout;
    t->timeout_timer = std::make_unique<timer>(loop_.get(), [this, id, limit] {
      zmq::message_t none;
      (void)send(socket_, socket_kind::dealer, nullptr, role::client, cancel_msg{id}, &none);
      watch_->drain();
      resolve(id, result::failure(id, "timeout", "no result within " + seconds_text(limit)));
    });
    t->timeout_timer->start(limit);
  }
  pending_task& ref = *t;
  tasks_.emplace(t->id, std::move(t));
  send_submit(ref);
}

void client::session::send_submit(pending_task& t) {
  zmq::message_t payload;
  payload.copy(t.payload);  // shares the buffer; the original stays for retries
  submit_msg m{t.id, t.name, t.opts.pri, static_cast<std::uint32_t>(t.opts.timeout.count()), t.opts.max_attempts};
  const bool sent = send(socket_, socket_kind::dealer, nullptr, role::client, m, &payload) == send_status::sent;
  watch_->drain();
  if (!sent)
    resolve(t.id, result::failure(t.id, "unreachable",
                                  "the outgoing queue to the broker at " + endpoint_ + " is full: the broker is not reading"));
}

void client::session::send_ping() {
  last_ping_ = clock_.now();
  (void)send(socket_, socket_kind::dealer, nullptr, role::client, ping_msg{});
  connect_timer_->start(opts_.connect_timeout);
  watch_->drain();
}

// No PONG yet: tasks sent more than connect_timeout ago fail as unreachable, and we ask again.
void client::session::check_connection() {
  if (connected_ || closing_) return;
  const auto cutoff = clock_.now() - opts_.connect_timeout;
  std::vector<std::string> stale;
  for (auto& [id, t] : tasks_)
    if (t->first_sent <= cutoff) stale.push_back(id);
  const std::string why = fmt::format(
      "the broker at {} did not answer within {}; it may not be running, or the key may be wrong",
      endpoint_, seconds_text(opts_.connect_timeout));
  if (!stale.empty()) log::info("{}", why);  // the result carries the message to the caller
  for (auto& id : stale) resolve(id, result::failure(id, "unreachable", why));
  send_ping();
}

void client::session::ask_status(status_waiter w) {
  if (closing_) return w->set_exception(std::make_exception_ptr(task_failed("cancelled", "the client is shutting down")));
  status_waiters_.push_back(std::move(w));
  (void)send(socket_, socket_kind::dealer, nullptr, role::client, status_msg{});
  watch_->drain();
}

void client::session::read_one() {
  auto f = read_frames(socket_, socket_kind::dealer);
  if (!f) return;
  try {
    message m = decode(*f);
    on_message(m);
  } catch (const protocol_error& e) {
    log::warn("malformed message from the broker: {}", e.what());
  }
}

void client::session::on_message(message& m) {
  if (auto* r = std::get_if<result_msg>(&m.content)) return resolve(r->id, result::success(r->id, m.payload.to_string()));
  if (auto* f = std::get_if<failed_msg>(&m.content)) return resolve(f->id, result::failure(f->id, f->kind, f->message));
  if (auto* b = std::get_if<busy_msg>(&m.content)) return on_busy(*b);
  if (auto* s = std::get_if<status_reply_msg>(&m.content)) {
    if (status_waiters_.empty()) return;
    status_waiters_.front()->set_value(*s);
    status_waiters_.pop_front();
    return;
  }
  if (std::holds_alternative<pong_msg>(m.content)) {
    if (!connected_) log::info("broker at {} answered", endpoint_);
    connected_ = true;
    connect_timer_->stop();
    return;
  }
  if (auto* e = std::get_if<error_msg>(&m.content)) return log::warn("broker reported {}: {}", e->kind, e->message);
  log::warn("unexpected {} from the broker", command_name(command_of(m.content)));
}

void client::session::on_busy(const busy_msg& b) {
  auto it = tasks_.find(b.id);
  if (it == tasks_.end()) return;
  pending_task& t = *it->second;
  const retry_policy& p = opts_.retry;
  const bool retry = t.opts.retry.value_or(p.enabled);
  const bool in_time = p.deadline.count() == 0 || clock_.now() - t.first_sent < p.deadline;
  busy_info info{b.depth, b.limit, b.capacity, millis(b.retry_after_ms), b.reason};
  if (!retry || t.busy_tries >= p.max_attempts || !in_time) return resolve(b.id, result::refused(b.id, info));
  ++t.busy_tries;
  auto delay = busy_backoff(p, t.busy_tries, info.retry_after, std::uniform_real_distribution<double>(0, 1)(rng_));
  log::debug("task {} busy ({}), retry {} in {} ms", t.id, b.reason, t.busy_tries, delay.count());
  pending_task* target = &t;
  t.retry_timer = std::make_unique<timer>(loop_.get(), [this, target] { send_submit(*target); });
  t.retry_timer->start(delay);
}

void client::session::resolve(const std::string& id, result r) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) {
    log::debug("no task {} is waiting (already finished or timed out)", id);
    return;
  }
  std::unique_ptr<pending_task> t = std::move(it->second);
  tasks_.erase(it);
  t->on_done(std::move(r));
}

void client::session::shut_down() {
  closing_ = true;
  std::vector<std::string> ids;
  for (auto& [id, t] : tasks_) ids.push_back(id);
  for (auto& id : ids) resolve(id, result::failure(id, "cancelled", "the client was destroyed before the task finished"));
  for (auto& w : status_waiters_) w->set_exception(std::make_exception_ptr(task_failed("cancelled", "the client was destroyed")));
  status_waiters_.clear();
  connect_timer_->stop();
  loop_.stop();
}

}  // namespace argon
