#include "zmq_watch.hpp"

#include <string>

#include "errors.hpp"

namespace argon::common {

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
  drain();  // messages may have arrived before the watch started
}

void zmq_watch::drain() {
  if (draining_) return;
  draining_ = true;
  try {
    for (;;) {
      int n = 0;
      while (n < max_batch && read_one_()) ++n;
      if (n == 0) break;  // nothing since the last after_reads: what its sends left is read
      if (after_reads_) after_reads_();
    }
  } catch (...) {
    draining_ = false;
    throw;
  }
  draining_ = false;
}

}  // namespace argon::common
