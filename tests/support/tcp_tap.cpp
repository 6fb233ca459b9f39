#include "tcp_tap.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace argon::test {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

}  // namespace

tcp_tap::tcp_tap(int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(0);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(listen_fd_, 16);
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  server_ = std::thread([this] { serve(); });
}

tcp_tap::~tcp_tap() {
  stop_ = true;
  server_.join();
  close(listen_fd_);
}

std::string tcp_tap::captured() {
  std::lock_guard lock(mutex_);
  return captured_;
}

void tcp_tap::serve() {
  std::vector<std::thread> relays;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int in = accept(listen_fd_, nullptr, nullptr);
    if (in < 0) continue;
    int out = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(target_port_);
    if (connect(out, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) { close(in); close(out); continue; }
    relays.emplace_back([this, in, out] { relay(in, out); });
  }
  for (auto& t : relays) t.join();
}

void tcp_tap::relay(int a, int b) {
  char buf[65536];
  bool open = true;
  while (open && !stop_) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (poll(p, 2, 50) <= 0) continue;
    for (int i = 0; i < 2 && open; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n <= 0) { open = false; break; }
      { std::lock_guard lock(mutex_); captured_.append(buf, static_cast<std::size_t>(n)); }
      const int to = i == 0 ? b : a;
      for (ssize_t sent = 0; sent < n;) {
        ssize_t w = write(to, buf + sent, static_cast<std::size_t>(n - sent));
        if (w <= 0) { open = false; break; }
        sent += w;
      }
    }
  }
  close(a);
  close(b);
}

}  // namespace argon::test
