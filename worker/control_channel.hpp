// A worker process's control channel: one DEALER beside its REQ slots.
//
// A REQ slot cannot speak while its task runs, so a worker busy on long
// tasks would look dead; this channel says HELLO once and HEARTBEAT every
// interval from the loop thread, which never runs handlers, so a worker
// whose slots are all busy stays alive to the broker. It also notes when
// the broker itself has been silent for longer than the liveness limit.
#pragma once

#include <memory>

#include <zmq.hpp>

#include "task_slot.hpp"
#include "uv_handles.hpp"

namespace argon::worker {

class control_channel {
 public:
  control_channel(const slot_env& env, unsigned capacity, common::millis interval, unsigned liveness);
  control_channel(const control_channel&) = delete;
  control_channel& operator=(const control_channel&) = delete;

  // Tells the broker this worker is stopping (heartbeats go on until it exits).
  void say_bye();

 private:
  void read_one();
  void beat();
  void send(const common::body& b);

  const slot_env& env_;                       // shared worker settings
  common::millis interval_;                   // heartbeat interval
  unsigned liveness_;                         // missed beats before the broker counts as silent
  zmq::socket_t socket_;                      // the DEALER
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on socket_
  common::timer timer_;                       // heartbeat tick
  common::steady_clock clock_;                // for the broker's silence
  common::time_point last_heard_;             // last message from the broker
  bool reported_silence_ = false;             // silence already logged
};

}  // namespace argon::worker
