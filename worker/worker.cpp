// The worker process: a libuv loop, a ZeroMQ context, `capacity` slots and
// one control channel, which tells the slots when the broker has restarted
// or been lost, passes on the broker's CANCELs and carries progress. Task
// names and exec patterns are fixed when run() starts and announced in
// every READY.
#include <sodium.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>

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

struct worker::impl {
  options opts;                       // as given
  slot_env env{};                     // what the slots share
  std::unique_ptr<exec_settings> exec;  // policy, environment and limits of program tasks
  std::vector<std::unique_ptr<plugin_library>> plugins;  // loaded plugins; outlive the handlers below
  handler_table handlers;             // task name -> handler
  std::unique_ptr<async_wake> wake;   // stop() from any thread
  bool stopping = false;              // a stop was asked for
  std::size_t open_slots = 0;         // slots not yet closed
  event_loop* loop = nullptr;         // the running loop, while run() runs
  std::vector<std::unique_ptr<task_slot>> slots;  // the running slots
  control_channel* control = nullptr;  // the running control channel

  void begin_stop();
  void open_slots_on(event_loop& loop);
  [[nodiscard]] control_events events();
  void cancel(const std::string& task_id);
  void take_limits(std::uint64_t max_result);
  void announce_capabilities();
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
  if (o.broker.empty()) throw config_error("give the broker's endpoint with --broker tcp://host:port");
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
  impl_->env.broker.endpoint = normalize_endpoint(o.broker);
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
  if (control) control->say_bye();  // the broker stops sending us work at once
  for (auto& s : slots) s->close_when_idle();
}

void worker::impl::open_slots_on(event_loop& loop) {
  open_slots = opts.capacity;
  for (unsigned i = 0; i < opts.capacity; ++i)
    slots.push_back(std::make_unique<task_slot>(env, i, [this, &loop] {
      if (--open_slots == 0) loop.stop();
    }));
}

control_events worker::impl::events() {
  return {
      .broker_restarted = [this] { for (auto& s : slots) s->reannounce(); },
      .broker_lost = [this] { for (auto& s : slots) s->reconnect(); },
      .cancel = [this](const std::string& task_id) { cancel(task_id); },
      .limits = [this](std::uint64_t max_result) { take_limits(max_result); },
  };
}

// Results the broker's socket would drop fail as result_too_large in the slot instead.
void worker::impl::take_limits(std::uint64_t max_result) {
  if (max_result == env.max_result) return;
  env.max_result = max_result;
  if (max_result < opts.max_result_bytes)
    log::info("the broker accepts results of at most {} bytes (less than --max-result-bytes {}); larger ones fail as result_too_large",
              max_result, opts.max_result_bytes);
}

// The slot's flag is set for the handler's context to read (a program task is
// stopped by it); the slot still reports the outcome when the handler returns.
void worker::impl::cancel(const std::string& task_id) {
  for (auto& s : slots)
    if (s->cancel(task_id)) return log::info("the broker cancelled task {}; its handler is told, and its slot reports when it returns", task_id);
  log::debug("ignored CANCEL for task {}: this worker is not running it", task_id);
}

int worker::run() {
  event_loop loop;
  zmq::context_t ctx;
  auto& self = *impl_;
  self.announce_capabilities();
  self.env.loop = loop.get();
  self.env.broker.ctx = &ctx;
  self.loop = &loop;
  self.stopping = false;
  completion_queue completions(loop.get());
  self.env.completions = &completions;
  self.env.leave_wait = millis(self.opts.heartbeat_ms * self.opts.liveness);
  // On any exit, a throw included (a bad endpoint fails at the first connect), the
  // slots and the wake handle close before the loop and the context go.
  struct closer {
    impl& self;  // whose handles to close
    ~closer() {
      self.env.progress = nullptr;
      self.control = nullptr;
      self.slots.clear();
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
  // The control channel goes first, so the broker hears HELLO, and this process's
  // incarnation, before the slots' READY.
  std::uint64_t incarnation = 0;
  while (incarnation == 0) randombytes_buf(&incarnation, sizeof incarnation);
  control_channel control(self.env, {self.opts.capacity, millis(self.opts.heartbeat_ms), self.opts.liveness, incarnation},
                          self.events());
  self.control = &control;
  self.open_slots_on(loop);
  self.env.progress = [&control](const progress_msg& p) { control.send_progress(p); };
  log::info("worker {} serving {} with {} slots ({})", self.opts.worker_id, self.env.broker.endpoint, self.opts.capacity,
            self.env.broker.keys ? "CURVE" : "INSECURE plaintext");
  notify_ready(fmt::format("{} slots for {}", self.opts.capacity, self.env.broker.endpoint));
  loop.run();
  return 0;
}

void worker::stop() {
  if (impl_->wake) impl_->wake->send();
}

}  // namespace argon::worker
