#include "zmq_watch.hpp"

#include <string>

#include "errors.hpp"

namespace argon::common {

namespace {
// Drains running on this thread, of any watch: a drain asked for while one
// runs is deferred, so handlers never nest.
thread_local int drains_running = 0;
}  // namespace

zmq_watch::zmq_watch(uv_loop_t* loop, zmq::socket_ref socket, std::function<bool()> read_one,
                     std::function<void()> after_reads)
    : socket_(socket), read_one_(std::move(read_one)), after_reads_(std::move(after_reads)) {
  auto fd = socket_.get(zmq::sockopt::fd);
  auto h = std::make_unique<uv_poll_t>();
  int rc = uv_poll_init(loop, h.get(), fd);
  if (rc < 0) throw system_error(std::string("uv_poll_init: ") + uv_strerror(rc));
  poll_.reset(h.release());
  poll_->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* p, int, int) {
    if (p->data) static_cast<zmq_watch*>(p->data)->drain();
  });
  auto idle = std::make_unique<uv_idle_t>();
  rc = uv_idle_init(loop, idle.get());
  if (rc < 0) throw system_error(std::string("uv_idle_init: ") + uv_strerror(rc));
  soon_.reset(idle.release());
  soon_->data = this;
  drain();  // messages may have arrived before the watch started
}

void zmq_watch::drain_soon() {
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(soon_.get()))) return;
  uv_idle_start(soon_.get(), [](uv_idle_t* h) {
    uv_idle_stop(h);
    if (h->data) static_cast<zmq_watch*>(h->data)->drain();
  });
}

void zmq_watch::drain() {
  if (draining_) return;
  if (drains_running > 0) return drain_soon();
  draining_ = true;
  ++drains_running;
  struct done {
    zmq_watch& w;
    ~done() {
      w.draining_ = false;
      --drains_running;
    }
  } guard{*this};
  for (int batches = 0;; ++batches) {
    if (batches == max_batches_per_turn) return drain_soon();  // the rest on the next turn, after due timers
    int n = 0;
    while (n < max_batch && read_one_()) ++n;
    if (n == 0) break;  // nothing since the last after_reads: what its sends left is read
    if (after_reads_) after_reads_();
  }
}

}  // namespace argon::common
