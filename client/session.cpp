// The client's I/O thread: tasks, their timers, and what the broker says about them.
#include "session.hpp"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "errors.hpp"
#include "log.hpp"

namespace argon {

using namespace argon::common;

namespace {

// How much later than the broker the client's own timeout fires.
constexpr std::chrono::milliseconds timeout_grace{250};

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

// How long from now until at; zero when it has passed.
millis time_until(time_point now, time_point at) {
  return at <= now ? millis(0) : std::chrono::ceil<millis>(at - now);
}

void check_options(const client_options& o) {
  if (o.broker.empty() && o.brokers.empty()) throw config_error("give the broker's endpoint, tcp://host:port");
  if (!o.insecure && !o.keyfile) throw config_error("give a keyfile, or choose insecure to run without encryption");
  if (o.heartbeat.count() <= 0) throw config_error("the heartbeat interval must be at least 1 ms");
  if (o.liveness == 0) throw config_error("liveness must be at least 1 heartbeat");
  if (o.reconnect_timeout.count() < 0) throw config_error("the reconnect timeout cannot be negative");
}

}  // namespace

client::session::session(client_options opts) : opts_(std::move(opts)) {
  check_options(opts_);
  if (sodium_init() < 0) throw config_error("libsodium could not be initialised");
  endpoints_ = broker_endpoints(opts_.broker, opts_.brokers, max_brokers);
  endpoint_ = endpoints_.front();
  id_prefix_ = random_hex(4);
  rng_.seed(randombytes_random());
  wake_ = std::make_unique<async_wake>(loop_.get(), [this] { take_inbox(); });
  const std::string routing_id = "c-" + random_hex(6);  // stable for this client object, across reconnects and brokers
  std::optional<role_keys> keys;
  if (opts_.keyfile) keys = load_keys(*opts_.keyfile);  // once: a passphrase keyfile costs a key derivation
  brokers_.resize(endpoints_.size());
  for (std::size_t b = 0; b < endpoints_.size(); ++b) {
    link_events events{
        [this, b](message& m) { on_message(b, m); },
        [this, b](std::uint64_t older_than) { on_contact(b, older_than); },
        [this, b] { on_lost(b); },
    };
    brokers_[b].link = std::make_unique<broker_link>(loop_.get(), make_link_settings(endpoints_[b], routing_id, keys),
                                                   std::move(events), clock_);
  }
  io_ = std::thread([this] { loop_.run(); });
}

client::session::~session() {
  post([this] { shut_down(); });
  io_.join();
  brokers_.clear();
  wake_.reset();
}

link_settings client::session::make_link_settings(const std::string& endpoint, const std::string& routing_id,
                                                  const std::optional<common::role_keys>& keys) {
  link_settings s;
  s.endpoint = endpoint;
  s.routing_id = routing_id;
  s.keys = keys;
  s.keepalive = keepalive_settings{opts_.heartbeat, opts_.liveness, opts_.connect_timeout, opts_.reconnect_timeout};
  return s;
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
  t->seq = id_counter_;
  if (closing_) return t->on_done(result::failure(t->id, "cancelled", "the client is shutting down"));
  if (std::string over = over_limit(*t); !over.empty()) return t->on_done(result::failure(t->id, "payload_too_large", over));
  arm_timeout(*t);
  arm_give_up(*t);
  pending_task& ref = *t;
  tasks_.emplace(t->id, std::move(t));
  update_idle();
  // While tasks wait for room the broker is full for this client: a new task
  // would only be refused, so it waits behind them (a caller who asked for no
  // retry still hears the broker's BUSY).
  if (!backing_off_.empty() && ref.opts.retry.value_or(opts_.retry.enabled)) {
    const double spread = std::uniform_real_distribution<double>(0, 1)(rng_);
    return wait_for_room(ref, busy_backoff(opts_.retry, 1, last_retry_after_, spread));
  }
  send_submit(ref);
}

// The caller's timeout is enforced by the broker, which also stops the task on
// its worker; this timer is the backstop for a broker that does not answer, so
// it fires a little later: withdraw the task and tell the caller.
void client::session::arm_timeout(pending_task& t) {
  if (t.opts.timeout.count() <= 0) return;
  std::string id = t.id;
  auto limit = t.opts.timeout;
  t.timeout_timer = std::make_unique<timer>(loop_.get(), [this, id, limit] {
    if (auto it = tasks_.find(id); it != tasks_.end() && it->second->placed)
      (void)brokers_[it->second->broker].link->send(cancel_msg{id});
    finish(id, result::failure(id, "timeout", "no result within " + seconds_text(limit)));
  });
  t.timeout_timer->start(time_until(clock_.now(), t.submitted_at + limit + timeout_grace));
}

// Out of contact with the broker, a task fails as unreachable at the deadline
// the link gives for it; in contact, it has none (the broker owes an outcome).
void client::session::arm_give_up(pending_task& t) {
  const std::optional<time_point> at = give_up_at(t);
  if (!at) {
    if (t.give_up_timer) t.give_up_timer->stop();
    return;
  }
  if (!t.give_up_timer) {
    std::string id = t.id;
    t.give_up_timer = std::make_unique<timer>(loop_.get(), [this, id] {
      const auto it = tasks_.find(id);
      const auto due = it == tasks_.end() ? std::nullopt : give_up_at(*it->second);
      if (due) give_up_due(*due);
    });
  }
  t.give_up_timer->start(time_until(clock_.now(), *at));
}

// Sends (or resends) a task under its own id, to the broker pick_broker gives
// unless it is placed already at one that is not lost. While that broker is
// lost the task is held instead: resend_unfinished sends it when a broker
// answers again.
void client::session::send_submit(pending_task& t) {
  if (t.state == pending_state::backing_off) backing_off_.erase(room_order(t));
  t.state = pending_state::awaiting_outcome;
  t.sent_on = 0;
  if (!t.placed || brokers_[t.broker].link->lost()) place(t, pick_broker(t));
  broker_link& link = *brokers_[t.broker].link;
  if (link.lost()) return;
  zmq::message_t payload;
  payload.copy(t.payload);  // shares the buffer; the original stays for retries
  submit_msg m{t.id, t.name, t.opts.pri, remaining_timeout_ms(t), t.opts.max_attempts, t.argv};
  t.sent_on = link.generation();
  if (link.send(m, &payload) != send_status::sent)
    finish(t.id, result::failure(t.id, "unreachable", "the outgoing queue to the broker at " + link.endpoint() +
                                                          " is full: the broker is not reading"));
}

// The broker counts a task's timeout from when it accepts the task; the caller
// counts from submit(), so a resend carries only what is left (at least 1 ms).
std::uint32_t client::session::remaining_timeout_ms(const pending_task& t) const {
  if (t.opts.timeout.count() <= 0) return 0;
  const auto spent = std::chrono::duration_cast<millis>(clock_.now() - t.submitted_at);
  const long long left = (t.opts.timeout - spent).count();
  return static_cast<std::uint32_t>(std::clamp<long long>(left, 1, std::numeric_limits<std::uint32_t>::max()));
}

void client::session::ask_status(status_waiter w, bool with_workers, std::size_t b) {
  if (closing_) return w->set_exception(std::make_exception_ptr(task_failed("cancelled", "the client is shutting down")));
  if (b == npos) {
    const auto contact = std::find_if(brokers_.begin(), brokers_.end(), [](const broker_conn& c) { return c.link->health().in_contact(); });
    b = contact == brokers_.end() ? 0 : static_cast<std::size_t>(contact - brokers_.begin());
  }
  broker_conn& c = brokers_[b];
  if (c.status_waiters.empty()) c.status_workers = false;
  c.status_workers = c.status_workers || with_workers;
  c.status_waiters.push_back(std::move(w));
  update_idle();
  send_status_request(b);
}

// Any STATUS_REPLY is a fresh snapshot, so a resent request can serve any waiter;
// while one waiter wants the worker list, every request asks for it.
void client::session::send_status_request(std::size_t b) {
  broker_conn& c = brokers_[b];
  if (c.link->lost()) return;
  c.status_sent_on = c.link->generation();
  (void)c.link->send(status_msg{c.status_workers});
}

// Every task whose deadline out of contact is at or before `deadline` fails
// as unreachable, at once: tasks submitted together end together, with one
// log line. The deadline is the firing timer's own, so a timer that libuv
// fires a fraction of a millisecond early still ends its task.
void client::session::give_up_due(time_point deadline) {
  if (closing_) return;
  std::vector<std::string> due;
  for (auto& [id, t] : tasks_)
    if (auto at = give_up_at(*t); at && *at <= deadline) due.push_back(id);
  if (due.empty()) return;
  const std::string why = unreachable_reason();
  // Before any contact the result tells the caller; a broker lost after contact is worth a warning.
  const bool never = std::all_of(brokers_.begin(), brokers_.end(),
                                 [](const broker_conn& c) { return c.link->health().state() == link_state::connecting; });
  const auto level = never ? log::level::info : log::level::warn;
  log::at(level, "{}: {} unfinished task{} fail as unreachable", why, due.size(), due.size() == 1 ? "" : "s");
  for (auto& id : due) finish(id, result::failure(id, "unreachable", why));
}

// Why tasks fail as unreachable, naming each broker and how it stands.
std::string client::session::unreachable_reason() const {
  std::string out;
  for (const auto& c : brokers_) {
    const keepalive& h = c.link->health();
    std::string one;
    if (h.state() == link_state::connecting)
      one = fmt::format("the broker at {} did not answer within {}", c.link->endpoint(), seconds_text(opts_.connect_timeout));
    else
      one = fmt::format("the broker at {} has not answered for {} s", c.link->endpoint(),
                        std::lround(std::chrono::duration<double>(clock_.now() - h.last_heard()).count()));
    out += out.empty() ? one : "; " + one;
  }
  const bool never = std::all_of(brokers_.begin(), brokers_.end(),
                                 [](const broker_conn& c) { return c.link->health().state() == link_state::connecting; });
  return never ? out + (brokers_.size() == 1 ? "; it may not be running, or the key may be wrong"
                                             : "; they may not be running, or the key may be wrong")
               : out;
}

// Why a task's payload cannot be sent; "" when it can: over the client's own
// max_payload, or over the limit the broker said in its PONG. A payload far
// over the broker's limit would not even be refused: ZeroMQ drops it with the
// connection, so the client must not send it.
std::string client::session::over_limit(const pending_task& t) const {
  const std::uint64_t size = t.payload.size(), broker = smallest_max_payload();
  if (size > opts_.max_payload)
    return fmt::format("payload of {} bytes is over the limit of {} bytes", size, opts_.max_payload);
  if (broker != 0 && size > broker)
    return fmt::format("payload of {} bytes is over the broker's limit of {} bytes (its --max-payload)", size, broker);
  return "";
}

// Tasks sent before the broker said its limit that are over it fail now: the
// broker refused them, or never saw them.
void client::session::fail_over_limit() {
  std::vector<std::pair<std::string, std::string>> over;
  for (auto& [id, t] : tasks_)
    if (std::string why = over_limit(*t); !why.empty()) over.emplace_back(id, std::move(why));
  for (auto& [id, why] : over) finish(id, result::failure(id, "payload_too_large", why));
}

void client::session::on_message(std::size_t b, message& m) {
  if (auto* r = std::get_if<result_msg>(&m.content)) return on_outcome(b, r->id, result::success(r->id, m.payload.to_string()));
  if (auto* f = std::get_if<failed_msg>(&m.content)) return on_outcome(b, f->id, result::failure(f->id, f->kind, f->message));
  if (auto* bm = std::get_if<busy_msg>(&m.content)) return on_busy(b, *bm);
  if (auto* p = std::get_if<progress_msg>(&m.content)) return on_progress(*p);
  if (auto* s = std::get_if<status_reply_msg>(&m.content)) return on_status_reply(b, *s);
  if (auto* e = std::get_if<error_msg>(&m.content))
    return log::warn("broker at {} reported {}: {}", endpoints_[b], e->kind, e->message);
  log::warn("unexpected {} from the broker at {}", command_name(command_of(m.content)), endpoints_[b]);
}

// The first outcome of a task is the caller's. A copy of it that went to another
// broker (the task moved when b was lost) is cancelled there, so it need not run.
// Either way an outcome means b has room for one more task.
void client::session::on_outcome(std::size_t b, const std::string& id, result r) {
  std::size_t copy_at = npos;
  if (auto it = tasks_.find(id); it != tasks_.end() && it->second->placed && it->second->broker != b) copy_at = it->second->broker;
  finish(id, std::move(r));  // before the CANCEL: the caller's outcome is settled first
  if (copy_at != npos && !brokers_[copy_at].link->lost()) (void)brokers_[copy_at].link->send(cancel_msg{id});
  on_room(b);
}

// Progress is advisory: for a task already finished, or without a callback, it is dropped.
void client::session::on_progress(const progress_msg& p) {
  auto it = tasks_.find(p.id);
  if (it == tasks_.end() || !it->second->opts.on_progress) return;
  try {
    it->second->opts.on_progress(progress_info{p.id, p.percent, p.message});
  } catch (const std::exception& e) {
    log::warn("the progress callback of task {} threw: {}", p.id, e.what());
  }
}

void client::session::on_status_reply(std::size_t b, const status_reply_msg& s) {
  broker_conn& c = brokers_[b];
  if (c.status_waiters.empty()) return;  // an answer to a resent request
  c.status_waiters.front()->set_value(s);
  c.status_waiters.pop_front();
  update_idle();
}

void client::session::on_busy(std::size_t from, const busy_msg& bm) {
  auto it = tasks_.find(bm.id);
  if (it == tasks_.end()) return;
  pending_task& t = *it->second;
  if (t.state == pending_state::backing_off || !t.placed || t.broker != from)
    return log::debug("task {}: BUSY for a copy sent earlier, ignored", t.id);
  const busy_msg& b = bm;
  // Another broker that has not refused it may have room: it goes there first.
  t.refused_by |= 1u << from;
  if (const std::size_t other = pick_broker(t); other != from && !(t.refused_by >> other & 1u) &&
                                                 !brokers_[other].link->lost()) {
    log::debug("task {} busy at {} ({}); trying the broker at {}", t.id, endpoints_[from], b.reason, endpoints_[other]);
    place(t, other);
    return send_submit(t);
  }
  t.refused_by = 0;
  const retry_policy& p = opts_.retry;
  const bool retry = t.opts.retry.value_or(p.enabled);
  const bool in_time = p.deadline.count() == 0 || clock_.now() - t.submitted_at < p.deadline;
  busy_info info{b.depth, b.limit, b.capacity, millis(b.retry_after_ms), b.reason};
  if (!retry || t.busy_tries >= p.max_attempts || !in_time) return finish(b.id, result::refused(b.id, info));
  if (!t.sent_for_room || t.busy_tries == 0) ++t.busy_tries;
  auto delay = busy_backoff(p, t.busy_tries, info.retry_after, std::uniform_real_distribution<double>(0, 1)(rng_));
  log::debug("task {} busy ({}), retry {} in {} ms unless an outcome makes room first", t.id, b.reason, t.busy_tries,
             delay.count());
  last_retry_after_ = info.retry_after;
  wait_for_room(t, delay);
}

// t waits here until an outcome makes room, or its timer fires after delay.
void client::session::wait_for_room(pending_task& t, millis delay) {
  t.state = pending_state::backing_off;
  backing_off_[room_order(t)] = &t;
  pending_task* target = &t;
  if (!t.retry_timer)
    t.retry_timer = std::make_unique<timer>(loop_.get(), [this, target] {
      target->sent_for_room = false;
      unplace(*target);  // the retry goes wherever there is most room now
      send_submit(*target);
    });
  t.retry_timer->start(delay);
}

// An outcome left the broker, so it has room for one task: the first one
// waiting for room (the highest lane, then the oldest) goes now instead of
// when its timer fires.
void client::session::on_room(std::size_t b) {
  if (backing_off_.empty() || brokers_[b].link->lost()) return;
  pending_task& t = *backing_off_.begin()->second;
  t.retry_timer->stop();
  t.sent_for_room = true;
  place(t, b);  // the room is at the broker whose outcome this was
  send_submit(t);
}

void client::session::finish(const std::string& id, result r) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) {
    log::debug("no task {} is waiting (already finished or timed out): outcome ignored", id);
    return;
  }
  std::unique_ptr<pending_task> t = std::move(it->second);
  tasks_.erase(it);
  unplace(*t);
  if (t->state == pending_state::backing_off) backing_off_.erase(room_order(*t));
  t->on_done(std::move(r));
}

void client::session::shut_down() {
  closing_ = true;
  std::vector<std::string> ids;
  for (auto& [id, t] : tasks_) ids.push_back(id);
  for (auto& id : ids) finish(id, result::failure(id, "cancelled", "the client was destroyed before the task finished"));
  for (auto& c : brokers_) {
    for (auto& w : c.status_waiters) w->set_exception(std::make_exception_ptr(task_failed("cancelled", "the client was destroyed")));
    c.status_waiters.clear();
    c.link->stop();
  }
  loop_.stop();
}

}  // namespace argon
