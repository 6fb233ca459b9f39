// broker_link: the client's connection to the broker. One DEALER socket,
// kept alive with PINGs, closed and made again while the broker is out of
// contact.
//
// It owns the socket and its zmq_watch, the heartbeat timer and a keepalive
// that decides when to ping and when to make a new socket; it pings every
// heartbeat from the start, so a broker that comes up is heard from within
// about a heartbeat, and once in contact only while its owner has work. Every socket it makes has the same routing id and CURVE
// keys, so the broker (ROUTER_HANDOVER) gives a new socket the old one's
// place and results still find the client. A socket is only closed from a
// timer, never while its watch is reading, and its watch is stopped first,
// so libuv never polls a closed fd. A PONG or a HEARTBEAT names the broker's
// instance; contact with an instance the link was not in contact with
// becomes on_contact, and every other decoded message goes to on_message.
// A socket's messages leave in order, so when the first contact is a PONG
// answering the only PING a socket has sent (its first message), everything
// sent on that socket went to this instance; anything else sent before contact may have
// gone to a broker that is gone, and is to be sent again.
// Loop thread only once constructed.
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
  keepalive_settings keepalive;            // ping interval, liveness, and how long tasks may wait without contact
};

// What the link tells its owner, on the loop thread.
struct link_events {
  std::function<void(common::message&)> on_message;  // anything from the broker but PONG and HEARTBEAT
  std::function<void(std::uint64_t)> on_contact;     // contact with an instance: resend what was sent on a socket older than the argument
  std::function<void()> on_lost;                     // the broker went silent for liveness heartbeats
};

class broker_link {
 public:
  // Connects, sends the first PING and starts the heartbeat; throws common::config_error for an unusable endpoint.
  broker_link(uv_loop_t* loop, link_settings s, link_events e, const common::clock& c);
  ~broker_link();
  broker_link(const broker_link&) = delete;
  broker_link& operator=(const broker_link&) = delete;

  // Sends one message. What the send made readable is read on the next turn
  // of the loop, never inside this call: no on_message runs during a send.
  common::send_status send(const common::body& b, zmq::message_t* payload = nullptr);
  // The owner has nothing outstanding (true) or has work again (false): an idle
  // link in contact sends no PINGs (keepalive.hpp); work resuming pings at once.
  void set_idle(bool idle);
  // Stops pinging and reconnecting (the client is closing).
  void stop();

  [[nodiscard]] bool lost() const { return health_.state() == link_state::lost; }
  [[nodiscard]] const keepalive& health() const { return health_; }
  [[nodiscard]] const std::string& endpoint() const { return settings_.endpoint; }
  // The largest payload the broker said it accepts (its last PONG), bytes; 0 until it says.
  [[nodiscard]] std::uint64_t broker_max_payload() const { return max_payload_; }
  // The current socket's number (1, 2, ...), for remembering what a message went out on.
  [[nodiscard]] std::uint64_t generation() const { return generation_; }

 private:
  void open_socket();
  void close_socket();
  void reconnect();
  bool read_one();
  void on_instance(const std::string& instance, bool answers_ping);
  void ping();
  void tick();

  uv_loop_t* loop_;                              // the client's I/O loop
  link_settings settings_;                       // as given
  link_events events_;                           // the owner's callbacks
  std::uint64_t max_payload_ = 0;                // the broker's --max-payload from its last PONG; 0: not said
  const common::clock& clock_;                   // time for liveness
  keepalive health_;                             // when to ping, when the broker is lost
  zmq::context_t ctx_;                           // owns the sockets
  zmq::socket_t socket_;                         // the current DEALER
  std::unique_ptr<common::zmq_watch> watch_;     // loop watch on socket_; reset before socket_ closes
  std::unique_ptr<common::timer> heartbeat_;     // fires every heartbeat
  std::uint32_t reconnects_ = 0;                 // sockets made since the last contact
  std::uint64_t generation_ = 0;                 // sockets made so far
  std::uint32_t pings_on_socket_ = 0;            // PINGs sent on the current socket
};

}  // namespace argon
