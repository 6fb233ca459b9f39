// broker_link: the client's connection to the broker. One DEALER socket,
// kept alive with PINGs, closed and made again when the broker is lost.
//
// It owns the socket and its zmq_watch, the first-answer watchdog, the
// heartbeat timer and a keepalive that decides when to ping and when to
// reconnect. Every socket it makes has the same routing id and CURVE keys,
// so the broker (ROUTER_HANDOVER) gives a new socket the old one's place and
// results still find the client. A socket is only closed from a timer,
// never while its watch is reading, and its watch is stopped first, so
// libuv never polls a closed fd. Every decoded message except PONG goes to
// on_message; PONGs and silence become the other events. Loop thread only
// once constructed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "codec.hpp"
#include "keepalive.hpp"
#include "keys.hpp"
#include "uv_handles.hpp"
#include "zmq_watch.hpp"

namespace argon {

// Who the link talks to, as whom, and how patiently.
struct link_settings {
  std::string endpoint;                    // normalised broker endpoint
  std::string routing_id;                  // the same for every socket of this client
  std::optional<common::role_keys> keys;   // CURVE keys; empty when insecure
  common::millis connect_timeout{5000};    // before the first PONG: how long to wait for one
  keepalive_settings keepalive;            // after it: ping interval and liveness
};

// What the link tells its owner, on the loop thread.
struct link_events {
  std::function<void(common::message&)> on_message;  // anything from the broker but PONG
  std::function<void()> on_no_answer;                // connect_timeout passed with no first PONG yet
  std::function<void()> on_answer_again;             // the broker restarted or came back: resend what is unfinished
  std::function<void()> on_still_lost;               // each heartbeat while the broker is lost
};

class broker_link {
 public:
  // Connects and sends the first PING; throws common::config_error for an unusable endpoint.
  broker_link(uv_loop_t* loop, link_settings s, link_events e, const common::clock& c);
  ~broker_link();
  broker_link(const broker_link&) = delete;
  broker_link& operator=(const broker_link&) = delete;

  // Sends one message, then reads whatever the send made readable.
  common::send_status send(const common::body& b, zmq::message_t* payload = nullptr);
  // Stops pinging and reconnecting (the client is closing).
  void stop();

  [[nodiscard]] bool lost() const { return health_.state() == link_state::lost; }
  [[nodiscard]] const keepalive& health() const { return health_; }
  [[nodiscard]] const std::string& endpoint() const { return settings_.endpoint; }

 private:
  void open_socket();
  void close_socket();
  void reconnect();
  void read_one();
  void on_pong(const common::pong_msg& p);
  void ping();
  void check_first_answer();
  void tick();

  uv_loop_t* loop_;                              // the client's I/O loop
  link_settings settings_;                       // as given
  link_events events_;                           // the owner's callbacks
  const common::clock& clock_;                   // time for liveness
  keepalive health_;                             // when to ping, when the broker is lost
  zmq::context_t ctx_;                           // owns the sockets
  zmq::socket_t socket_;                         // the current DEALER
  std::unique_ptr<common::zmq_watch> watch_;     // loop watch on socket_; reset before socket_ closes
  std::unique_ptr<common::timer> first_answer_;  // before the first PONG: fires every connect_timeout
  std::unique_ptr<common::timer> heartbeat_;     // after it: fires every heartbeat
  std::uint32_t reconnects_ = 0;                 // sockets made since the broker was lost
};

}  // namespace argon
