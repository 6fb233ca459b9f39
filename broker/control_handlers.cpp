// Worker control channels and liveness: HELLO registers a worker process,
// any message from it counts as a sign of life, and the heartbeat tick
// declares silent workers dead (oldest first) and gives back their tasks.
// A worker whose application thread hangs still answers ZMTP pings, so
// only these application-level heartbeats can notice it.
#include "broker.hpp"
#include "log.hpp"

namespace argon::broker {

using namespace argon::common;

// A worker id belongs to the control connection that said HELLO for it, and a
// control connection speaks for one worker id: the worker key alone must not
// let one connection retire, replace, or keep alive another's worker. Once its
// worker has said BYE, a connection may say HELLO for a new id.
bool broker::speaks_for(const peer& p, const std::string& worker_id, command c) {
  const worker_record* mine = workers_.by_control(p.id);
  const worker_record* named = workers_.get(worker_id);
  std::string why;
  if (mine && mine->id != worker_id && !(c == command::hello && mine->leaving))
    why = fmt::format("this control connection speaks for worker {}, not {}", mine->id, worker_id);
  else if (!mine && named && named->watched)
    why = fmt::format("worker id {} belongs to another control connection", worker_id);
  if (why.empty()) return true;
  ++stats_.protocol_errors;
  if (error_log_.allow(clock_.now())) log::warn("refused {} from {}: {}", command_name(c), peer_address(p.raw), why);
  reply_error(p, "not_allowed", fmt::format("{} refused: {}", command_name(c), why));
  return false;
}

void broker::on_hello(const peer& p, const hello_msg& m) {
  if (m.worker_id.empty()) throw protocol_error("HELLO needs a worker id");
  if (!speaks_for(p, m.worker_id, command::hello)) return;
  worker_record& w = workers_.hello(m.worker_id, p.id, clock_.now(), m.capacity, peer_address(p.raw));
  w.incarnation = m.incarnation;
  seen_.worker_joined(w);
  log::info("worker {} joined (capacity {}, version {})", m.worker_id, m.capacity, m.version);
  reply(p, heartbeat_msg{instance_});
  reply(p, limits_msg{frame_limit()});  // a larger result would be dropped with its slot's connection
}

void broker::on_heartbeat(const peer& p, const heartbeat_msg& m) {
  if (m.sender.empty()) throw protocol_error("HEARTBEAT needs a worker id");
  if (!speaks_for(p, m.sender, command::heartbeat)) return;
  log::trace("heartbeat from worker {}", m.sender);
  if (!workers_.touch(m.sender, clock_.now())) {  // expired earlier, or the broker restarted
    log::info("worker {} is back; asking it to announce itself and its idle slots again", m.sender);
    seen_.worker_joined(workers_.hello(m.sender, p.id, clock_.now(), 0, peer_address(p.raw)));
    // Its slots were forgotten with it, and an idle slot waits for a TASK without a word:
    // the worker says HELLO again and its idle slots READY, as after a broker restart.
    reply(p, error_msg{"unknown_worker", fmt::format("worker {} was not known here (it expired, or the broker restarted); "
                                                     "say HELLO and announce the idle slots again", m.sender)});
  }
}

void broker::on_bye(const peer& p, const bye_msg& m) {
  if (!speaks_for(p, m.worker_id, command::bye)) return;
  log::info("worker {} is leaving: no more tasks for it; its running tasks will finish", m.worker_id);
  announce_left(m.worker_id, "bye");
  // Each idle slot waits for an answer to its READY; a TASK sent before this
  // BYE was read is ahead of this one on the same connection, and runs.
  for (const std::string& slot_id : workers_.retire(m.worker_id)) out_.send(slot_id, leaving_msg(m.worker_id));
}

// An idle slot of this worker stops waiting for a task here: it is forgotten
// (its next READY announces it again) and hears ERROR withdrawn. A slot that
// is not idle (its TASK is on the way, or it runs one) or not known is left
// alone: the worker asks again later if it still wants to.
void broker::on_withdraw(const peer& p, const withdraw_msg& m) {
  if (!speaks_for(p, m.worker_id, command::withdraw)) return;
  if (!workers_.withdraw(m.worker_id, m.slot)) return log::debug("WITHDRAW of slot {} ignored: it is not waiting for a task", m.slot);
  log::debug("worker {} withdrew slot {}", m.worker_id, m.slot);
  out_.send(m.slot, error_msg{"withdrawn", "this slot's READY is withdrawn, as its worker asked: it gets no task until its next READY"});
}

error_msg broker::leaving_msg(const std::string& worker_id) {
  return {"worker_leaving", fmt::format("worker {} said BYE: this slot gets no more tasks", worker_id)};
}

// Forwards a running task's progress to its client; only the worker running
// the task may report on it.
void broker::on_progress(const peer& p, const progress_msg& m) {
  worker_record* w = workers_.by_control(p.id);
  if (!w) throw protocol_error("PROGRESS from a control channel that has not said HELLO");
  workers_.touch(w->id, clock_.now());
  for (slot* s : w->members) {
    if (!s->running || s->running->id != m.id) continue;
    seen_.task_progress(m.id, m.percent, m.message);
    out_.deliver(s->running->client, m, nullptr, wait_kind::progress);
    return;
  }
  log::debug("dropped progress for task {} from worker {}: it does not run that task (it finished or moved)", m.id, w->id);
}

void broker::tick() {
  expire_workers();
  expire_deadlines();
  std::vector<std::string> gone;
  workers_.each_watched([&](worker_record& w) {
    if (out_.send(w.control_id, heartbeat_msg{instance_}) == send_status::unreachable) gone.push_back(w.id);
  });
  for (auto& id : gone) {
    announce_left(id, "disconnected");
    lose_worker(id, "its control channel disconnected");
  }
  dispatch();
  flush_outbox();
  tasks_.check(workers_);
  watch_->drain();  // these sends can consume the ROUTER's edge: read what came meanwhile
}

// A tick that comes late by more than the liveness limit means the broker itself was
// paused (SIGSTOP, a stalled machine): the heartbeats that came meanwhile are still
// unread, so nobody is expired until they have been.
void broker::expire_workers() {
  const millis limit(cfg_.heartbeat_ms * cfg_.liveness);
  const auto now = clock_.now();
  const auto since = now - last_tick_;
  last_tick_ = now;
  if (since > limit + millis(cfg_.heartbeat_ms)) {
    log::warn("the broker was paused for {} ms; worker expiry waits for the heartbeats sent meanwhile",
              std::chrono::duration_cast<millis>(since).count());
    for (auto& id : workers_.expired(now, limit)) workers_.touch(id, now);
    return;
  }
  for (auto& id : workers_.expired(clock_.now(), limit)) {
    const worker_record* w = workers_.get(id);
    if (w && !w->watched) {
      log::info("forgot the {} slot(s) of worker {}: it never said HELLO within the liveness limit", w->slots, id);
      workers_.remove_worker(id);
      continue;
    }
    announce_left(id, "expired");
    lose_worker(id, "no heartbeat within the liveness limit");
  }
}

// The monitor hears once that a worker left: a worker that said BYE has left already.
void broker::announce_left(const std::string& worker_id, const char* reason) {
  const worker_record* w = workers_.get(worker_id);
  if (w && w->watched && !w->leaving) seen_.worker_left(worker_id, reason);
}

void broker::lose_worker(const std::string& worker_id, const char* why) {
  if (!workers_.known(worker_id)) return;
  const bool said_bye = workers_.leaving(worker_id);
  std::size_t running = 0;
  workers_.each_slot_of(worker_id, [&](const slot& s) { running += s.running != nullptr; });
  if (said_bye && running == 0) log::info("worker {} has left", worker_id);
  else log::warn("worker {} is gone ({}); {} running task(s) go back to the queue or fail", worker_id, why, running);
  workers_.each_slot_of(worker_id, [&](slot& s) { tasks_.release(s, "worker_lost"); });
  workers_.remove_worker(worker_id);
}

}  // namespace argon::broker
