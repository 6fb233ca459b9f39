// Test fixture: a loopback TCP relay that records every byte it forwards.
//
// Peers connect to the tap's port instead of the broker's; the tap relays
// each connection to the target port and keeps a copy of the traffic, so a
// test can check what an eavesdropper on the wire would see.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace argon::test {

class tcp_tap {
 public:
  explicit tcp_tap(int target_port);
  ~tcp_tap();
  tcp_tap(const tcp_tap&) = delete;
  tcp_tap& operator=(const tcp_tap&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // Everything relayed so far, both directions, in arrival order.
  [[nodiscard]] std::string captured();

 private:
  void serve();
  void relay(int a, int b);

  int target_port_;            // where connections are relayed to
  int listen_fd_ = -1;         // the tap's listening socket
  int port_ = 0;               // its port
  std::atomic<bool> stop_{false};  // tells the threads to finish
  std::mutex mutex_;           // guards captured_
  std::string captured_;       // recorded bytes
  std::thread server_;         // accept-and-relay thread
};

}  // namespace argon::test
