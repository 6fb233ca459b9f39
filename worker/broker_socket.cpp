#include "broker_socket.hpp"

#include "errors.hpp"

namespace argon::worker {

zmq::socket_t open_broker_socket(const broker_address& broker, zmq::socket_type type, const std::string& routing_id,
                                 common::millis linger) {
  zmq::socket_t s(*broker.ctx, type);
  s.set(zmq::sockopt::linger, static_cast<int>(linger.count()));
  s.set(zmq::sockopt::routing_id, routing_id);
  s.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(common::reconnect_backoff::largest.count()));
  if (broker.keys) common::apply_curve_client(s, broker.keys->worker, broker.keys->broker);
  try {
    s.connect(broker.endpoint);
  } catch (const zmq::error_t& e) {
    // Only the first connect can fail: later ones reuse an endpoint that worked.
    throw common::config_error("cannot connect to the broker endpoint " + broker.endpoint + ": " + e.what());
  }
  return s;
}

}  // namespace argon::worker
