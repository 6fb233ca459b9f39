#include "broker.hpp"

#include <sodium.h>

#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

namespace {

std::string random_instance_id() {
  unsigned char raw[8];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string("b-") + hex;
}

}  // namespace

broker::broker(const config& cfg, common::clock& clk, uv_loop_t* loop)
    : cfg_(cfg), instance_(random_instance_id()), clock_(clk), router_(ctx_, zmq::socket_type::router),
      tasks_(clk, {millis(cfg.result_ttl_ms), cfg.result_bytes_limit}, out_, seen_, stats_), heartbeat_(loop, [this] { tick(); }),
      deadline_timer_(loop, [this] {
        expire_deadlines();
        flush_outbox();
        watch_->drain();
      }),
      retry_timer_(loop, [this] {
        flush_outbox();
        watch_->drain();
      }) {
  stats_.started = last_tick_ = clock_.now();
  if (cfg_.keys) {
    zap_ = std::make_unique<zap_handler>(ctx_, loop, clk, *cfg_.keys, [this](auto& address, auto& mechanism, auto& why) {
      seen_.auth_failed(address, mechanism, why);
    });
    apply_curve_server(router_, cfg_.keys->broker);
  }
  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::router_mandatory, 1);
  router_.set(zmq::sockopt::router_handover, 1);
  router_.set(zmq::sockopt::sndhwm, peer_queue_messages);
  router_.set(zmq::sockopt::rcvhwm, peer_queue_messages);
  // Frames somewhat over a limit get a clear answer from the broker; libzmq drops the
  // connection of a peer whose frame is more than four times over.
  router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(frame_limit()));
  router_.bind(cfg_.bind);
  watch_ = std::make_unique<zmq_watch>(loop, router_, [this] { return read_one(); }, [this] { flush_outbox(); });
  if (!cfg_.monitor.empty())
    seen_.open_feed(ctx_, loop, cfg_.monitor, cfg_.keys ? &*cfg_.keys : nullptr, [this] { return snapshot(); }, tasks_.queue(),
                    workers_);
  // Always: running out of file descriptors must be logged with or without CURVE.
  handshakes_ = std::make_unique<handshake_watch>(ctx_, loop, clk, router_, &seen_, cfg_.keys ? "CURVE" : "NULL");
  heartbeat_.start(millis(cfg_.heartbeat_ms), millis(cfg_.heartbeat_ms));
}

broker::~broker() {
  handshakes_.reset();
  seen_.close_feed();
  watch_.reset();
}

std::string broker::endpoint() const { return router_.get(zmq::sockopt::last_endpoint); }

bool broker::read_one() {
  auto f = read_frames(router_, socket_kind::router);
  if (!f) return false;
  handle(*f);
  dispatch();
  check_drained();
  tasks_.check(workers_);
  return true;
}

void broker::handle(frames& f) {
  peer p{f.routing_id, f.routing_id.to_string_view(), cfg_.keys ? user_id(f) : std::string(), f};
  try {
    message m = decode(f);
    seen_.received(p.id, m);
    route(p, m);
  } catch (const protocol_error& e) {
    ++stats_.protocol_errors;
    if (error_log_.allow(clock_.now())) {
      std::string held = error_log_.suppressed() ? fmt::format(" ({} more not logged)", error_log_.suppressed()) : "";
      log::warn("protocol error from {} ({}): {}{}", peer_address(f), p.user.empty() ? "peer" : p.user, e.what(), held);
    }
    if (auto id = submit_id(f.header.data(), f.header.size())) refuse(p, *id, "protocol_error", e.what());
    else reply_error(p, "protocol_error", e.what());
  }
}

bool broker::allowed(const peer& p, role from, command c) {
  const bool control_cmd = c == command::hello || c == command::heartbeat || c == command::bye || c == command::progress ||
                           c == command::withdraw;
  const bool worker_cmd = c == command::ready || c == command::done || control_cmd;
  const bool client_cmd = c == command::submit || c == command::cancel || c == command::status || c == command::ping;
  if (!worker_cmd && !client_cmd)
    throw protocol_error(std::string(command_name(c)) + " is not a command the broker accepts");
  if (worker_cmd && !control_cmd && from != role::slot)
    throw protocol_error(std::string(command_name(c)) + " must come from a worker slot");
  if (control_cmd && from != role::control)
    throw protocol_error(std::string(command_name(c)) + " must come from a worker control channel");
  if (client_cmd && from != role::client && c != command::ping)
    throw protocol_error(std::string(command_name(c)) + " must come from a client");
  if (worker_cmd && cfg_.keys && p.user != "worker") {
    ++stats_.protocol_errors;
    log::warn("refused {} from a {} key: worker commands need the worker key", command_name(c), p.user);
    reply_error(p, "not_allowed", std::string(command_name(c)) + " needs the worker key; this connection used the " + p.user + " key");
    return false;
  }
  return true;
}

void broker::route(const peer& p, message& m) {
  if (!allowed(p, m.from, command_of(m.content))) return;
  std::visit([&](auto& b) {
    using T = std::decay_t<decltype(b)>;
    if constexpr (std::is_same_v<T, submit_msg>) on_submit(p, b, m.payload);
    else if constexpr (std::is_same_v<T, cancel_msg>) on_cancel(p, b);
    else if constexpr (std::is_same_v<T, status_msg>) on_status(p, b);
    else if constexpr (std::is_same_v<T, ping_msg>) reply(p, pong_msg{instance_, cfg_.max_payload});
    else if constexpr (std::is_same_v<T, ready_msg>) on_ready(p, b);
    else if constexpr (std::is_same_v<T, done_msg>) on_done(p, b, m.payload);
    else if constexpr (std::is_same_v<T, hello_msg>) on_hello(p, b);
    else if constexpr (std::is_same_v<T, heartbeat_msg>) on_heartbeat(p, b);
    else if constexpr (std::is_same_v<T, bye_msg>) on_bye(p, b);
    else if constexpr (std::is_same_v<T, withdraw_msg>) on_withdraw(p, b);
    else if constexpr (std::is_same_v<T, progress_msg>) on_progress(p, b);
  }, m.content);
}

void broker::reply_error(const peer& p, const std::string& kind, const std::string& text) {
  reply(p, error_msg{kind, text});
}

std::uint64_t broker::frame_limit() const { return 4 * (std::uint64_t{cfg_.max_payload} + max_header_bytes); }

std::size_t broker::queue_limit() const {
  return cfg_.queue_limit ? cfg_.queue_limit : 3 * workers_.slot_count();
}

status_reply_msg broker::snapshot() const {
  status_reply_msg s;
  s.workers = workers_.worker_count();
  s.slots = workers_.slot_count();
  s.busy_slots = workers_.busy_count();
  const task_queue& queue = tasks_.queue();
  s.queue_depth = queue.size();
  s.queue_high = queue.size(priority::high);
  s.queue_normal = queue.size(priority::normal);
  s.queue_low = queue.size(priority::low);
  s.queued_clients = queue.clients();
  s.queue_limit = queue_limit();
  s.queue_bytes = queue.bytes();
  s.queue_bytes_limit = cfg_.queue_bytes_limit;
  s.submitted = stats_.submitted;
  s.completed = stats_.completed;
  s.failed = stats_.failed;
  s.busy_replies = stats_.busy_replies;
  s.protocol_errors = stats_.protocol_errors;
  s.uptime_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<millis>(clock_.now() - stats_.started).count());
  return s;
}

void broker::expire_deadlines() {
  tasks_.expire(clock_.now());
  arm_deadline_timer();
}

// Deadlines are also checked on every heartbeat tick; this timer makes them exact.
void broker::arm_deadline_timer() {
  const auto next = tasks_.next_deadline();
  if (!next) return deadline_timer_.stop();
  const auto wait = std::chrono::ceil<millis>(*next - clock_.now());
  deadline_timer_.start(std::max(wait, millis(0)));
}

// Offers what waits for slow clients, and sets the retry timer for the next one due.
void broker::flush_outbox() {
  out_.flush();
  if (const auto next = out_.next_retry())
    retry_timer_.start(std::max(std::chrono::ceil<millis>(*next - clock_.now()), millis(0)));
  else
    retry_timer_.stop();
  check_drained();
}

void broker::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  log::note("draining: new tasks are refused as busy; {} queued and {} running task(s) will finish first",
            tasks_.queue().size(), tasks_.running());
  check_drained();
}

void broker::check_drained() {
  if (!draining_ || !on_drained_ || tasks_.size() != 0 || out_.backlog().peers() != 0) return;
  router_.set(zmq::sockopt::linger, 1000);  // let the last results leave before the socket closes
  auto done = std::move(on_drained_);
  on_drained_ = nullptr;
  done();
}

}  // namespace argon::broker
