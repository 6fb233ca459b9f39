// A worker process's control channel: one DEALER beside its REQ slots.
//
// A REQ slot cannot speak while its task runs, so a worker busy on long
// tasks would look dead; this channel says HELLO and then HEARTBEAT every
// interval from the loop thread, which never runs handlers, so a worker
// whose slots are all busy stays alive to the broker.
//
// It is also how the worker follows the broker. Each broker HEARTBEAT names
// the broker's instance; when that name changes the broker has restarted,
// so the channel says HELLO again and tells the worker to re-announce its
// slots. When the broker has been silent for liveness × interval, the
// channel recreates its DEALER (same routing id), says HELLO again and
// tells the worker to reconnect its slots, retrying with backoff (see
// broker_liveness) while the silence lasts. A CANCEL from the broker is
// passed on to the worker, and so are its LIMITS (the largest result it takes).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "broker_liveness.hpp"
#include "codec.hpp"
#include "task_slot.hpp"
#include "uv_handles.hpp"

namespace argon::worker {

// How the channel talks to the worker; every call is on the loop thread.
struct control_events {
  std::function<void()> broker_restarted;                // a new broker instance: re-announce idle slots
  std::function<void()> broker_lost;                     // the channel reconnected: the slots must too
  std::function<void(const std::string& task_id)> cancel;  // the broker cancelled a task
  std::function<void(std::uint64_t max_result)> limits;   // the broker's LIMITS arrived
};

// The channel's timing and what HELLO says.
struct control_settings {
  unsigned capacity = 1;                     // slots announced in HELLO
  common::millis interval{1000};             // heartbeat interval
  unsigned liveness = 3;                     // silent intervals before the broker counts as lost
  std::uint64_t incarnation = 0;             // said in HELLO: new at each process start
};

class control_channel {
 public:
  control_channel(const slot_env& env, const control_settings& settings, control_events events);
  control_channel(const control_channel&) = delete;
  control_channel& operator=(const control_channel&) = delete;

  // Tells the broker this worker is stopping (heartbeats go on until it exits).
  void say_bye();
  // Sends a running task's progress to the broker.
  void send_progress(const common::progress_msg& p);
  // Asks the broker to take back the READY of the slot with this routing id (WITHDRAW).
  void withdraw(const std::string& slot_routing_id);
  // The broker has been silent for liveness x interval.
  [[nodiscard]] bool lost() const { return broker_.silent_for() >= settings_.interval * settings_.liveness; }

 private:
  void open_socket();
  void announce();
  void reconnect();
  bool read_one();
  void handle(const common::message& m);
  void on_heartbeat(const common::heartbeat_msg& h);
  void on_forgotten();
  void beat();
  void send(const common::body& b);

  const slot_env& env_;                       // shared worker settings
  control_settings settings_;                 // capacity and timing
  control_events events_;                     // calls back into the worker
  zmq::socket_t socket_;                      // the DEALER
  std::unique_ptr<common::zmq_watch> watch_;  // loop watch on socket_
  common::timer timer_;                       // heartbeat tick
  common::steady_clock clock_;                // for the broker's silence
  broker_liveness broker_;                    // the broker's silence and instance
  bool leaving_ = false;                      // said BYE; a new broker hears it too
  bool forgotten_ = false;                    // the broker said unknown_worker; announce at its next HEARTBEAT
};

}  // namespace argon::worker
