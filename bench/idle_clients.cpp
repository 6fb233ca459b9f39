// idle_clients: N Argon clients that are connected and idle, as load for
// bench/scale.sh.
//
// Each one is what an idle argon::client is to the broker (see
// client/broker_link.cpp and client/keepalive.*): a DEALER with a routing id
// of its own ("c-" and 12 hex digits) and the library's socket options, that
// PINGs as it opens and then once every heartbeat until its first PONG, and
// then sends nothing, as an idle client in contact does (with
// --ping-when-idle it goes on PINGing every heartbeat: what a client that
// heartbeats while idle would cost), and reads what comes back
// as it comes, from a libuv loop through common/zmq_watch as the library
// does. Frames go through the common codec, so they are the real protocol.
// The N heartbeats are spread over the interval in ten batches, as the
// timers of clients started at different times would be. Unlike the
// library, a client that hears nothing for liveness (3) heartbeats is
// reported, not reconnected: this program only makes load, and a silent
// broker is a finding. Plaintext only (a broker run with --insecure).
//
// The clients open at --connect-rate a second (5,000 by default) rather
// than in one instant: a burst of thousands of connects overflows the
// broker's listen backlog (ZeroMQ's ZMQ_BACKLOG, 100), and the dropped ones
// wait for the kernel's SYN retries, seconds apart.
//
// All N sockets share one context, one loop thread and ZeroMQ's one I/O
// thread. ZMQ_MAX_SOCKETS is raised to fit them, and the soft RLIMIT_NOFILE
// to 2N + 64, since each socket holds its TCP connection and its mailbox's
// eventfd. When the hard limit is lower it exits 2 saying so; the caller
// then runs several processes instead.
//
// It prints "idle_clients: N of N connected and answered PING" once every
// client has had its first PONG (or exits 4 after --ready-timeout), then
// keeps the heartbeats. While it runs it says on stderr when the number of
// clients that have heard nothing for 3 heartbeats changes; on SIGTERM or
// SIGINT it prints the longest silence any client saw and exits 0.
//
//   idle_clients --broker tcp://127.0.0.1:5555 --clients 5000
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

#include "cli_parse.hpp"
#include "clock.hpp"
#include "codec.hpp"
#include "keys.hpp"
#include "terminal_text.hpp"
#include "zmq_watch.hpp"

namespace {

using namespace argon;
using namespace argon::common;

// Batches the heartbeat interval is split into; each is pinged in its own tenth.
constexpr long batches = 10;

// How often the next clients are opened, while some are left to open.
constexpr millis open_interval{10};

// Heartbeats without a word from the broker before a client counts as silent, as the library's liveness.
constexpr int liveness = 3;

struct flags {
  std::string broker;             // --broker
  std::size_t clients = 0;        // --clients
  long heartbeat_ms = 1000;       // --heartbeat-ms, the library's default
  double ready_timeout = 60;      // --ready-timeout, seconds
  std::size_t connect_rate = 5000;  // --connect-rate, clients opened per second
  bool ping_when_idle = false;    // --ping-when-idle: PING every heartbeat after the first PONG too
};

// One idle client: its socket, its watch, and when it last heard from the broker.
struct idle_client {
  zmq::socket_t socket;                 // DEALER connected to the broker
  std::unique_ptr<zmq_watch> watch;     // reads it from the loop; declared after the socket, so closed first
  time_point heard{};                   // when anything last came (or when it opened)
  bool answered = false;                // a PONG has come
};

// Raises the soft open-file limit to what n sockets need, or says why it cannot.
void raise_fd_limit(std::size_t n) {
  const rlim_t need = 2 * static_cast<rlim_t>(n) + 64;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) throw system_error("cannot read RLIMIT_NOFILE");
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur >= need) return;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need)
    throw config_error(fmt::format("{} clients need about {} open files (a TCP connection and a mailbox each), "
                                   "but the hard limit (ulimit -Hn) is {}; raise it, or run several processes "
                                   "with fewer clients each", n, need, lim.rlim_max));
  lim.rlim_cur = need;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) throw system_error(fmt::format("cannot raise the open-file limit to {}", need));
}

// Unique among this process's clients and, by the pid, among other such processes'.
std::string routing_id(std::size_t i) {
  return fmt::format("c-{:06x}{:06x}", static_cast<unsigned>(getpid()) & 0xffffffu, i);
}

// The clients, their heartbeat ticker and the counts it reports.
class idle_fleet {
 public:
  idle_fleet(zmq::context_t& ctx, uv_loop_t* loop, const flags& f)
      : ctx_(ctx), endpoint_(normalize_endpoint(f.broker)), total_(f.clients),
        per_open_(std::max<std::size_t>(1, f.connect_rate * open_interval.count() / 1000)), heartbeat_(f.heartbeat_ms), ping_when_idle_(f.ping_when_idle),
        loop_(loop), opener_(loop, [this] { open_some(); }), ticker_(loop, [this] { tick(); }),
        ready_timer_(loop, [this] { give_up(); }) {
    clients_.reserve(total_);  // never reallocated: the watches watch these very sockets
    opener_.start(open_interval, open_interval);
    open_some();
    ticker_.start(heartbeat_ / batches, heartbeat_ / batches);
    ready_timer_.start(millis(static_cast<long>(f.ready_timeout * 1000)));
  }

  [[nodiscard]] int exit_code() const { return exit_code_; }

  // The longest any client went without a word from the broker, on stderr.
  void report() const {
    std::fprintf(stderr, "idle_clients: longest silence from the broker: %lld ms; %zu of %zu clients were ever silent "
                 "for %d heartbeats\n", static_cast<long long>(longest_.count()), ever_silent_, total_, liveness);
  }

 private:
  void open_some() {
    for (std::size_t n = 0; n < per_open_ && clients_.size() < total_; ++n) open(clients_.size());
    if (clients_.size() == total_) opener_.stop();
  }

  void open(std::size_t i) {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::routing_id, routing_id(i));
    s.set(zmq::sockopt::sndhwm, 100000);  // the library's options (client/broker_link.cpp)
    s.set(zmq::sockopt::rcvhwm, 100000);
    s.set(zmq::sockopt::reconnect_ivl_max, 32000);
    s.connect(endpoint_);
    idle_client& c = clients_.emplace_back(idle_client{std::move(s), nullptr, clock_.now()});
    c.watch = std::make_unique<zmq_watch>(loop_, c.socket, [this, i] { return read_one(i); });
    ping(c);  // as the library does when it opens its socket
  }

  void ping(idle_client& c) {
    (void)send(c.socket, socket_kind::dealer, nullptr, role::client, ping_msg{});
    c.watch->drain();  // the send may have consumed the fd's edge
  }

  // Any message is a sign of life, as in the library.
  bool read_one(std::size_t i) {
    idle_client& c = clients_[i];
    auto f = read_frames(c.socket, socket_kind::dealer);
    if (!f) return false;
    const time_point now = clock_.now();
    longest_ = std::max(longest_, std::chrono::duration_cast<millis>(now - c.heard));
    c.heard = now;
    try {
      if (std::holds_alternative<pong_msg>(decode(*f).content) && !c.answered) on_first_pong(c);
    } catch (const protocol_error& e) {
      std::fprintf(stderr, "idle_clients: malformed message from the broker: %s\n", printable(e.what()).c_str());
    }
    return true;
  }

  void on_first_pong(idle_client& c) {
    c.answered = true;
    if (++answered_ < total_) return;
    ready_timer_.stop();
    longest_ = millis(0);  // connecting is not silence
    std::printf("idle_clients: %zu of %zu connected and answered PING\n", answered_, total_);
    std::fflush(stdout);
  }

  void give_up() {
    std::fprintf(stderr, "idle_clients: only %zu of %zu clients had a PONG within --ready-timeout\n", answered_, total_);
    exit_code_ = exit_unreachable;
    uv_stop(loop_);
  }

  // Pings one batch; once a heartbeat, after every client has been answered
  // (connecting 10,000 takes seconds), counts the clients silent for liveness heartbeats.
  void tick() {
    for (std::size_t i = static_cast<std::size_t>(tick_ % batches); i < clients_.size(); i += batches)
      if (ping_when_idle_ || !clients_[i].answered) ping(clients_[i]);
    if (++tick_ % batches != 0 || answered_ < total_ || !ping_when_idle_) return;
    const time_point now = clock_.now();
    std::size_t silent = 0;
    for (auto& c : clients_) silent += now - c.heard > heartbeat_ * liveness;
    if (silent != silent_)
      std::fprintf(stderr, "idle_clients: %zu of %zu clients have heard nothing from the broker for %d heartbeats\n",
                   silent, total_, liveness);
    silent_ = silent;
    ever_silent_ = std::max(ever_silent_, silent);
  }

  zmq::context_t& ctx_;                 // the one context of every socket
  std::string endpoint_;                // the broker's
  std::size_t total_;                   // clients to open
  std::size_t per_open_;                // clients opened every open_interval
  millis heartbeat_;                    // PING interval
  bool ping_when_idle_;                 // --ping-when-idle
  uv_loop_t* loop_;                     // the loop everything runs on
  steady_clock clock_;                  // for silences
  std::vector<idle_client> clients_;    // reserved once: never reallocated
  timer opener_;                        // opens the next per_open_ clients until all are open
  timer ticker_;                        // every tenth of a heartbeat: the next batch's PINGs
  timer ready_timer_;                   // --ready-timeout for the first PONGs
  long tick_ = 0;                       // ticks so far
  std::size_t answered_ = 0;            // clients that have had a PONG
  std::size_t silent_ = 0;              // silent clients at the last count
  std::size_t ever_silent_ = 0;         // most silent clients at any count
  millis longest_{0};                   // longest gap between messages any client saw, since all were answered
  int exit_code_ = exit_ok;             // exit_unreachable when not all were answered in time
};

int run(const flags& f) {
  raise_fd_limit(f.clients);
  zmq::context_t ctx;
  ctx.set(zmq::ctxopt::max_sockets, static_cast<int>(f.clients) + 16);
  if (static_cast<std::size_t>(ctx.get(zmq::ctxopt::max_sockets)) < f.clients)
    throw system_error(fmt::format("ZeroMQ refused room for {} sockets in one context", f.clients));
  event_loop loop;
  idle_fleet fleet(ctx, loop.get(), f);
  auto on_signal = [&](int) { fleet.report(); loop.stop(); };
  signal_watch sigterm(loop.get(), SIGTERM, on_signal);
  signal_watch sigint(loop.get(), SIGINT, on_signal);
  loop.run();
  return fleet.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"idle_clients: N connected Argon clients that only keep their heartbeats, as load for a benchmark"};
  flags f;
  app.add_option("--broker", f.broker, "Broker endpoint (tcp://host:port or host:port); plaintext")->required();
  app.add_option("--clients,-n", f.clients, "How many clients")->required()->check(CLI::Range(1, 60000));
  app.add_flag("--ping-when-idle", f.ping_when_idle, "Go on PINGing every heartbeat after the first PONG (the library stops)");
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "PING interval, in ms (default 1000, as the client library)")->check(CLI::Range(10, 600000));
  app.add_option("--connect-rate", f.connect_rate, "Clients opened per second (default 5000)")->check(CLI::Range(100, 1000000));
  app.add_option("--ready-timeout", f.ready_timeout, "Seconds to wait for every first PONG (default 60)")->check(CLI::Range(1.0, 3600.0));
  if (auto code = parse_or_exit(app, argc, argv, "idle_clients")) return *code;
  try {
    return run(f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idle_clients: error: %s\n", e.what());
    return exit_code_of(e);
  }
}
