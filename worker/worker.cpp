// The worker process: a libuv loop, a ZeroMQ context, and for each broker it
// serves `capacity` slots and one control channel, which tells the slots
// when that broker has restarted or been lost, passes on its CANCELs and
// carries progress. Task names and exec patterns are fixed when run()
// starts and announced in every READY.
//
// Several brokers share the capacity: `capacity` permits, one held by each
// READY outstanding and each task running. At the start the permits go to
// the brokers in turn. A slot keeps its permit at its broker after a task
// (its DONE is its next READY). Once a heartbeat the worker moves capacity
// to where the work is: when a broker in contact has every permit it holds
// running a task, the worker withdraws (WITHDRAW) one READY that has waited
// a heartbeat at another broker, and the permit that comes back goes to a
// parked slot of the busy broker. A broker that is lost keeps its permits
// until it answers again (it may still have sent a TASK to them).
#include <sodium.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <tuple>

#include "codec.hpp"
#include "command_line.hpp"
#include "control_channel.hpp"
#include "exec_tasks.hpp"
#include "handler_thread.hpp"
#include "plugin_loader.hpp"

#include "argon/worker.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "service_notify.hpp"
#include "stop_signals.hpp"
#include "task_slot.hpp"
#include "uv_handles.hpp"

namespace argon::worker {

using namespace argon::common;

// One broker the worker serves: where it is, its control channel and its slots.
struct broker_side {
  slot_env env;                                   // this broker's address, and what its slots share
  std::unique_ptr<control_channel> control;       // HELLO, heartbeats, CANCEL, WITHDRAW
  std::vector<std::unique_ptr<task_slot>> slots;  // capacity of them; parked ones hold no permit
  std::unordered_map<const task_slot*, time_point> withdraw_asked;  // WITHDRAWs sent and not yet answered
  time_point idle_until{};  // a READY of it waited unused until withdrawn: no permit is given to it before this
};

struct worker::impl {
  options opts;                       // as given
  std::vector<std::string> endpoints; // the brokers, normalised
  slot_env env{};                     // what every slot shares; each broker's copy adds its address
  std::unique_ptr<exec_settings> exec;  // policy, environment and limits of program tasks
  std::vector<std::unique_ptr<plugin_library>> plugins;  // loaded plugins; outlive the handlers below
  handler_table handlers;             // task name -> handler
  std::unique_ptr<async_wake> wake;   // stop() from any thread
  bool stopping = false;              // a stop was asked for
  std::size_t open_slots = 0;         // slots not yet closed
  event_loop* loop = nullptr;         // the running loop, while run() runs
  std::vector<std::unique_ptr<broker_side>> sides;  // one per broker, while running
  unsigned free_permits = 0;          // capacity not held by a READY or a running task
  steady_clock clock;                 // for how long READYs have waited

  void begin_stop();
  void open_sides(event_loop& loop, zmq::context_t& ctx, completion_queue& completions, std::uint64_t incarnation);
  [[nodiscard]] control_events events(broker_side& side);
  void cancel(broker_side& side, const std::string& task_id);
  void take_limits(broker_side& side, std::uint64_t max_result);
  void announce_capabilities();
  void place_permits();
  void rebalance();
  [[nodiscard]] bool should_park(const broker_side& side) const;
};

namespace {

std::string random_id() {
  unsigned char bytes[4];
  randombytes_buf(bytes, sizeof bytes);
  char hex[9];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

void check(const options& o) {
  if (o.broker.empty() && o.brokers.empty()) throw config_error("give the broker's endpoint with --broker tcp://host:port");
  if (o.capacity < 1 || o.capacity > 1024) throw config_error("--capacity must be between 1 and 1024");
  if (!o.insecure && !o.keyfile)
    throw config_error("give --key FILE (the keyfile the broker uses) or --insecure to run without encryption");
  if (o.insecure && o.keyfile) throw config_error("--key and --insecure exclude each other");
  if (o.worker_id.size() > 8) throw config_error("a worker id has at most 8 characters");
  if (o.heartbeat_ms < 10 || o.liveness < 1) throw config_error("--heartbeat-ms must be at least 10 and --liveness at least 1");
  if (o.max_result_bytes < 1) throw config_error("--max-result-bytes must be at least 1");
}

// The READY lanes mask for the options' lanes: empty (every lane) when all are taken.
std::optional<std::uint32_t> lanes_mask(const std::vector<priority>& lanes) {
  std::uint32_t mask = 0;
  for (priority p : lanes) mask |= lane_bit(p);
  if (mask == 0 || mask == all_lanes) return std::nullopt;
  return mask;
}

void check_task_name(const std::string& name) {
  if (name.empty() || name.size() > max_id_bytes) throw config_error("a task name has 1 to 128 bytes: '" + name.substr(0, 200) + "'");
  if (name == exec_task)
    throw config_error(std::string("task name '") + exec_task + "' is reserved for client-named programs (--allow-exec)");
}

}  // namespace

std::vector<priority> parse_lanes(const std::string& list) {
  std::vector<priority> lanes;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    priority p{};
    if (!parse_priority(name, p)) throw config_error("--lanes takes high, normal and low, comma-separated; got '" + name.substr(0, 64) + "'");
    if (std::find(lanes.begin(), lanes.end(), p) != lanes.end()) throw config_error("--lanes names '" + name + "' twice");
    lanes.push_back(p);
    if (comma == std::string::npos) return lanes;
    start = comma + 1;
  }
}

worker::worker(options opts) : impl_(std::make_unique<impl>()) {
  check(opts);
  if (sodium_init() < 0) throw config_error("libsodium could not be initialised");
  impl_->opts = std::move(opts);
  auto& o = impl_->opts;
  if (o.worker_id.empty()) o.worker_id = random_id();
  impl_->endpoints = broker_endpoints(o.broker, o.brokers, max_brokers);
  if (o.keyfile) impl_->env.broker.keys = load_keys(*o.keyfile, o.worker_keyfile);
  impl_->env.worker_id = o.worker_id;
  impl_->env.handlers = &impl_->handlers;
  impl_->env.lanes = lanes_mask(o.lanes);
  impl_->exec = std::make_unique<exec_settings>(exec_settings{
      exec_policy(o.allow_exec), build_exec_env(o.exec_env), {o.max_result_bytes, millis(o.kill_grace_ms)}});
  impl_->handlers[exec_task] = make_exec_handler(*impl_->exec);
}

worker::~worker() = default;

void worker::handle(std::string name, handler fn) {
  if (!fn) throw config_error("no handler given for task '" + name + "'");
  handle(std::move(name), context_handler([fn = std::move(fn)](std::string_view payload, task_context&) { return fn(payload); }));
}

void worker::handle(std::string name, context_handler fn) {
  check_task_name(name);
  if (!fn) throw config_error("no handler given for task '" + name + "'");
  impl_->handlers[std::move(name)] = std::move(fn);
}

void worker::handle_quick(std::string name, handler fn) {
  check_task_name(name);
  if (!fn) throw config_error("no handler given for task '" + name + "'");
  auto run = [fn = std::move(fn)](std::string_view payload, task_context&) { return fn(payload); };
  impl_->handlers[std::move(name)] = handler_entry(context_handler(std::move(run)), true);
}

void worker::handle_command(std::string name, const std::string& command) {
  check_task_name(name);
  std::vector<std::string> argv = split_command(command);
  const char* path = std::getenv("PATH");
  argv[0] = resolve_program(argv[0], path ? path : "/usr/local/bin:/usr/bin:/bin");
  log::info("task {} runs {}", name, argv[0]);
  handle(std::move(name), make_command_handler(std::move(argv), *impl_->exec));
}

void worker::load_plugin(const std::string& path) {
  auto add = [this](const std::string& name, context_handler fn) { handle(name, std::move(fn)); };
  impl_->plugins.push_back(std::make_unique<plugin_library>(path, add, impl_->opts.max_result_bytes));
}

// What every READY says: the names with handlers (not "exec") and the exec patterns.
void worker::impl::announce_capabilities() {
  capabilities caps;
  for (auto& [name, fn] : handlers)
    if (name != exec_task) caps.tasks.push_back(name);
  std::sort(caps.tasks.begin(), caps.tasks.end());
  caps.exec = exec->policy.patterns();
  if (caps.tasks.size() > max_list_items || caps.exec.size() > max_list_items ||
      encode_header(role::slot, ready_msg{opts.worker_id, caps, env.lanes}).size() > max_header_bytes)
    throw config_error("too many task names or --allow-exec patterns to announce in one READY (at most 1024 each, 64 KiB in all)");
  env.caps = std::move(caps);
}

const std::string& worker::id() const { return impl_->opts.worker_id; }

void worker::impl::begin_stop() {
  if (stopping) {
    const std::size_t killed = kill_running_programs();  // so no program outlives the worker
    log::warn("second stop request: exiting without waiting for running tasks ({} programs killed)", killed);
    std::_Exit(1);
  }
  stopping = true;
  notify_stopping("stopping: idle slots close now, busy ones after their task");
  log::note("stopping: idle slots close now, busy slots after their task");
  for (auto& side : sides) side->control->say_bye();  // the brokers stop sending us work at once
  for (auto& side : sides)
    for (auto& s : side->slots) s->close_when_idle();
}

// Each broker's control channel goes first, so it hears HELLO, and this
// process's incarnation, before the slots' READY. The slots are made in turn
// across the brokers, so the permits go round: with capacity 4 and two
// brokers, each gets two READYs at the start.
void worker::impl::open_sides(event_loop& loop, zmq::context_t& ctx, completion_queue& completions, std::uint64_t incarnation) {
  const bool shared = endpoints.size() > 1;
  free_permits = opts.capacity;
  for (const auto& endpoint : endpoints) {
    auto side = std::make_unique<broker_side>();
    side->env = env;
    side->env.broker.endpoint = endpoint;
    side->env.broker.ctx = &ctx;
    side->env.completions = &completions;
    if (shared) {
      side->env.take_offer = [this] { return free_permits > 0 ? (--free_permits, true) : false; };
      side->env.offer_withdrawn = [this] { ++free_permits; place_permits(); };
      side->env.park_after_task = [this, s = side.get()] { return should_park(*s); };
    }
    side->control = std::make_unique<control_channel>(
        side->env, control_settings{opts.capacity, millis(opts.heartbeat_ms), opts.liveness, incarnation}, events(*side));
    side->env.progress = [c = side->control.get()](const progress_msg& p) { c->send_progress(p); };
    sides.push_back(std::move(side));
  }
  open_slots = opts.capacity * sides.size();
  for (unsigned i = 0; i < opts.capacity; ++i)
    for (auto& side : sides)
      side->slots.push_back(std::make_unique<task_slot>(side->env, i, [this, &loop] {
        if (--open_slots == 0) loop.stop();
      }));
}

control_events worker::impl::events(broker_side& side) {
  return {
      .broker_restarted = [&side] { for (auto& s : side.slots) s->reannounce(); },
      .broker_lost = [&side] { for (auto& s : side.slots) s->reconnect(); },
      .cancel = [this, &side](const std::string& task_id) { cancel(side, task_id); },
      .limits = [this, &side](std::uint64_t max_result) { take_limits(side, max_result); },
  };
}

// Results the broker's socket would drop fail as result_too_large in the slot instead.
void worker::impl::take_limits(broker_side& side, std::uint64_t max_result) {
  if (max_result == side.env.max_result) return;
  side.env.max_result = max_result;
  if (max_result < opts.max_result_bytes)
    log::info("the broker at {} accepts results of at most {} bytes (less than --max-result-bytes {}); larger ones fail as "
              "result_too_large", side.env.broker.endpoint, max_result, opts.max_result_bytes);
}

// The slot's flag is set for the handler's context to read (a program task is
// stopped by it); the slot still reports the outcome when the handler returns.
void worker::impl::cancel(broker_side& side, const std::string& task_id) {
  for (auto& s : side.slots)
    if (s->cancel(task_id)) return log::info("the broker cancelled task {}; its handler is told, and its slot reports when it returns", task_id);
  log::debug("ignored CANCEL for task {}: this worker is not running it", task_id);
}

// How a broker's slots stand: READYs waiting, tasks running, the first parked slot.
struct side_count {
  std::size_t waiting = 0;      // slots offered (READY outstanding, no task)
  std::size_t running = 0;      // slots running a task
  task_slot* parked = nullptr;  // the first parked slot, if any

  explicit side_count(const broker_side& side) {
    for (auto& s : side.slots) {
      waiting += s->offered();
      running += s->busy();
      if (s->parked() && !parked) parked = s.get();
    }
  }
  // Permits it holds: READYs waiting and tasks running.
  [[nodiscard]] std::size_t held() const { return waiting + running; }
  // Every permit it holds runs a task, and it has room for one more: it may have more work.
  [[nodiscard]] bool wants_more() const { return waiting == 0 && parked; }
};

// Free permits go to brokers in contact that have a parked slot: first to
// one that has not lately left a READY unused, then to the one with the
// fewest READYs waiting, then to the one running the most tasks.
void worker::impl::place_permits() {
  const auto now = clock.now();
  while (free_permits > 0 && !stopping) {
    broker_side* best = nullptr;
    task_slot* parked = nullptr;
    std::tuple<bool, std::size_t, std::size_t> best_rank{};  // idle lately, READYs waiting, minus tasks running
    for (auto& side : sides) {
      if (side->control->lost()) continue;
      const side_count c(*side);
      const std::tuple<bool, std::size_t, std::size_t> rank{now < side->idle_until, c.waiting, opts.capacity - c.running};
      if (c.parked && (!best || rank < best_rank)) best = side.get(), parked = c.parked, best_rank = rank;
    }
    if (!best) return;
    --free_permits;
    if (!parked->offer()) return void(++free_permits);
    log::debug("a permit goes to the broker at {}", best->env.broker.endpoint);
  }
}

// As one of side's tasks ends: its permit goes to another broker in contact
// whose permits all run tasks and that holds at least two fewer, so brokers
// that all have work share the capacity evenly. A broker that lately left a
// READY unused is passed over for five heartbeats: it had no work.
bool worker::impl::should_park(const broker_side& side) const {
  const std::size_t mine = side_count(side).held();
  const auto now = clock.now();
  for (auto& other : sides) {
    if (other.get() == &side || other->control->lost() || now < other->idle_until) continue;
    const side_count c(*other);
    if (c.wants_more() && c.held() + 1 < mine) return true;
  }
  return false;
}

// Once a heartbeat, with several brokers: a broker in contact whose permits
// are all running tasks (it may have more work) gets one more permit, taken
// back from a READY that has waited a heartbeat at another broker.
void worker::impl::rebalance() {
  place_permits();
  const auto now = clock.now();
  const millis beat(opts.heartbeat_ms);
  broker_side* busy = nullptr;
  for (auto& side : sides) {
    if (!side->control->lost() && side_count(*side).wants_more()) busy = side.get();
  }
  if (!busy) return;
  for (auto& side : sides) {
    if (side.get() == busy || side->control->lost()) continue;
    std::erase_if(side->withdraw_asked, [&](const auto& e) { return now - e.second > 3 * beat || !e.first->offered(); });
    for (auto& s : side->slots) {
      if (!s->offered() || now - s->offered_since() < beat || side->withdraw_asked.count(s.get())) continue;
      log::debug("withdrawing slot {} from the broker at {} for the broker at {}", s->routing_id(), side->env.broker.endpoint,
                 busy->env.broker.endpoint);
      side->withdraw_asked[s.get()] = now;
      side->idle_until = now + 5 * beat;
      side->control->withdraw(s->routing_id());
      return;  // one a heartbeat
    }
  }
}

int worker::run() {
  event_loop loop;
  zmq::context_t ctx;
  auto& self = *impl_;
  self.announce_capabilities();
  self.env.loop = loop.get();
  self.loop = &loop;
  self.stopping = false;
  completion_queue completions(loop.get());
  self.env.leave_wait = millis(self.opts.heartbeat_ms * self.opts.liveness);
  // On any exit, a throw included (a bad endpoint fails at the first connect), the
  // slots, the control channels and the wake handle close before the loop and the context go.
  struct closer {
    impl& self;  // whose handles to close
    ~closer() {
      for (auto& side : self.sides) side->slots.clear();
      self.sides.clear();
      self.wake.reset();
      self.loop = nullptr;
    }
  } close_on_exit{self};
  self.wake = std::make_unique<async_wake>(loop.get(), [&self] { if (!self.stopping) self.begin_stop(); });
  signal_watch sigint(loop.get(), SIGINT, [&self](int) { self.begin_stop(); });
  signal_watch sigterm(loop.get(), SIGTERM, [&self](int) { self.begin_stop(); });
  signal_watch sighup(loop.get(), SIGHUP, [](int) {
    log::warn("SIGHUP: ignored; the worker reloads nothing (restart it to change its settings)");
  });
  // Before the slots start their handler threads, which run programs: those
  // must not inherit these signals blocked. One that came while starting is handled now.
  release_stop_signals();
  std::uint64_t incarnation = 0;
  while (incarnation == 0) randombytes_buf(&incarnation, sizeof incarnation);
  self.open_sides(loop, ctx, completions, incarnation);
  std::string where = self.endpoints.front();
  for (std::size_t i = 1; i < self.endpoints.size(); ++i) where += ", " + self.endpoints[i];
  std::unique_ptr<timer> rebalance;
  if (self.sides.size() > 1) {
    rebalance = std::make_unique<timer>(loop.get(), [&self] { self.rebalance(); });
    rebalance->start(millis(self.opts.heartbeat_ms), millis(self.opts.heartbeat_ms));
  }
  log::info("worker {} serving {} with {} slots ({})", self.opts.worker_id, where, self.opts.capacity,
            self.env.broker.keys ? "CURVE" : "INSECURE plaintext");
  notify_ready(fmt::format("{} slots for {}", self.opts.capacity, where));
  loop.run();
  return 0;
}

void worker::stop() {
  if (impl_->wake) impl_->wake->send();
}

}  // namespace argon::worker
