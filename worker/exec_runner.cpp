// The runner keeps its libuv handles as members of one object on the calling
// thread's stack: they are closed, and the private loop run until their close
// callbacks are done, before the object (and so their memory) goes.
#include "exec_runner.hpp"

#include <uv.h>

#include <csignal>
#include <cstring>
#include <mutex>
#include <set>

#include <fmt/format.h>

namespace argon::worker {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t stderr_tail_bytes = 4096;            // kept for the error text
constexpr auto tick_interval = std::chrono::milliseconds(20);  // cancel and deadline polling
constexpr auto pipe_drain_limit = std::chrono::milliseconds(500);  // after exit, for an escaped holder of stdout

// The process groups of programs running now, for kill_running_programs().
std::mutex running_mutex;
std::set<pid_t> running_groups;

void note_running(pid_t pgid, bool running) {
  std::lock_guard lock(running_mutex);
  if (running) running_groups.insert(pgid);
  else running_groups.erase(pgid);
}

// Writing to a program that has exited must give EPIPE, not kill the worker.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

class program_run {
 public:
  program_run(const exec_request& rq, const exec_limits& lim) : rq_(rq), lim_(lim) {
    uv_loop_init(&loop_);
    for (uv_pipe_t* p : {&in_, &out_, &err_}) {
      uv_pipe_init(&loop_, p, 0);
      p->data = this;
    }
    uv_timer_init(&loop_, &tick_);
    tick_.data = this;
    process_.data = this;
  }
  ~program_run() { uv_loop_close(&loop_); }
  program_run(const program_run&) = delete;
  program_run& operator=(const program_run&) = delete;

  exec_result run();

 private:
  bool spawn();
  void start_io();
  void on_tick();
  void on_exit(std::int64_t status, int signal);
  void on_read(uv_pipe_t& pipe, ssize_t n, const uv_buf_t* buf);
  void stop(exec_status why);
  void kill_group(int sig) const;
  void close_pipe(uv_pipe_t& p);
  void close_all();
  void finish_if_done();
  [[nodiscard]] std::string program() const { return rq_.argv.empty() ? std::string() : rq_.argv[0]; }
  [[nodiscard]] std::string stderr_part() const;
  [[nodiscard]] exec_result outcome();

  const exec_request& rq_;              // what to run
  const exec_limits& lim_;              // bounds
  uv_loop_t loop_{};                    // private to this run
  uv_process_t process_{};              // the program
  uv_pipe_t in_{};                      // its stdin
  uv_pipe_t out_{};                     // its stdout
  uv_pipe_t err_{};                     // its stderr
  uv_timer_t tick_{};                   // polls cancel, deadline, kill and drain times
  uv_write_t write_{};                  // the one write of the input
  bool started_ = false;                // uv_spawn succeeded
  bool exited_ = false;                 // the exit callback ran
  std::int64_t exit_status_ = 0;        // its exit status
  int term_signal_ = 0;                 // the signal that ended it, or 0
  exec_status stop_reason_ = exec_status::ok;  // why we stopped it, if we did
  std::optional<steady::time_point> kill_at_;  // when SIGKILL follows SIGTERM
  steady::time_point exited_at_;        // for the pipe drain limit
  std::string output_;                  // stdout so far
  std::string stderr_;                  // the latest stderr bytes
  std::string spawn_error_;             // why uv_spawn failed
  char buffer_[64 * 1024];              // read buffer, one read at a time
};

program_run& run_of(void* handle) { return *static_cast<program_run*>(static_cast<uv_handle_t*>(handle)->data); }

bool program_run::spawn() {
  std::vector<char*> args, env;
  for (auto& a : rq_.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : rq_.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0] = {static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE), {reinterpret_cast<uv_stream_t*>(&in_)}};
  stdio[1] = {static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE), {reinterpret_cast<uv_stream_t*>(&out_)}};
  stdio[2] = {static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE), {reinterpret_cast<uv_stream_t*>(&err_)}};
  uv_process_options_t o{};
  o.file = args[0];
  o.args = args.data();
  o.env = env.data();
  o.flags = UV_PROCESS_DETACHED;  // setsid(): the program leads a new process group
  o.stdio_count = 3;
  o.stdio = stdio;
  o.exit_cb = [](uv_process_t* p, std::int64_t status, int sig) { run_of(p).on_exit(status, sig); };
  const int rc = uv_spawn(&loop_, &process_, &o);
  if (rc < 0) {
    spawn_error_ = fmt::format("cannot start {}: {}", program(), uv_strerror(rc));
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), nullptr);
    return false;
  }
  started_ = true;
  note_running(process_.pid, true);
  return true;
}

void program_run::start_io() {
  auto alloc = [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
    auto& self = run_of(h);
    *buf = uv_buf_init(self.buffer_, sizeof self.buffer_);
  };
  for (uv_pipe_t* p : {&out_, &err_})
    uv_read_start(reinterpret_cast<uv_stream_t*>(p), alloc, [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
      run_of(s).on_read(*reinterpret_cast<uv_pipe_t*>(s), n, buf);
    });
  if (rq_.input.empty()) {
    close_pipe(in_);
  } else {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(rq_.input.data()), static_cast<unsigned>(rq_.input.size()));
    write_.data = this;
    const int rc = uv_write(&write_, reinterpret_cast<uv_stream_t*>(&in_), &buf, 1,
                            [](uv_write_t* w, int) { static_cast<program_run*>(w->data)->close_pipe(static_cast<program_run*>(w->data)->in_); });
    if (rc < 0) close_pipe(in_);  // the program closed its stdin at once: it simply gets no input
  }
  const auto ms = static_cast<std::uint64_t>(tick_interval.count());
  uv_timer_start(&tick_, [](uv_timer_t* t) { run_of(t).on_tick(); }, ms, ms);
}

void program_run::on_read(uv_pipe_t& pipe, ssize_t n, const uv_buf_t* buf) {
  if (n < 0) return close_pipe(pipe);  // EOF or a read error: nothing more comes
  const auto bytes = static_cast<std::size_t>(n);
  if (&pipe == &err_) {
    stderr_.append(buf->base, bytes);
    if (stderr_.size() > 2 * stderr_tail_bytes) stderr_.erase(0, stderr_.size() - stderr_tail_bytes);
    return;
  }
  if (stop_reason_ == exec_status::result_too_large) return;
  if (output_.size() + bytes > lim_.max_result_bytes) {
    close_pipe(out_);
    return stop(exec_status::result_too_large);
  }
  output_.append(buf->base, bytes);
}

void program_run::on_tick() {
  const auto now = steady::now();
  if (!exited_) {
    if (rq_.cancelled && rq_.cancelled()) stop(exec_status::cancelled);
    if (rq_.deadline && now >= *rq_.deadline) stop(exec_status::timeout);
    if (kill_at_ && now >= *kill_at_) {
      kill_group(SIGKILL);
      kill_at_.reset();
    }
    return;
  }
  // The program is gone but something outside its group still holds stdout or stderr open.
  if (now - exited_at_ >= pipe_drain_limit) {
    close_pipe(out_);
    close_pipe(err_);
  }
}

// The first reason wins; a result that is too large is killed at once, the rest get a grace period.
void program_run::stop(exec_status why) {
  if (stop_reason_ != exec_status::ok || exited_) return;
  stop_reason_ = why;
  if (why == exec_status::result_too_large) return kill_group(SIGKILL);
  kill_group(SIGTERM);
  kill_at_ = steady::now() + lim_.kill_grace;
}

void program_run::kill_group(int sig) const {
  if (process_.pid > 0) ::kill(-process_.pid, sig);  // ESRCH once the whole group is gone
}

void program_run::on_exit(std::int64_t status, int signal) {
  exited_ = true;
  exit_status_ = status;
  term_signal_ = signal;
  exited_at_ = steady::now();
  kill_group(SIGKILL);  // whatever the program left behind in its group
  note_running(process_.pid, false);
  uv_close(reinterpret_cast<uv_handle_t*>(&process_), nullptr);
  finish_if_done();
}

void program_run::close_pipe(uv_pipe_t& p) {
  auto* h = reinterpret_cast<uv_handle_t*>(&p);
  if (!uv_is_closing(h)) uv_close(h, nullptr);
  finish_if_done();
}

void program_run::close_all() {
  for (uv_pipe_t* p : {&in_, &out_, &err_})
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(p))) uv_close(reinterpret_cast<uv_handle_t*>(p), nullptr);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick_))) uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
}

// Done once the program is reaped and its output pipes are closed; stdin may still be open.
void program_run::finish_if_done() {
  const bool out_done = uv_is_closing(reinterpret_cast<uv_handle_t*>(&out_));
  const bool err_done = uv_is_closing(reinterpret_cast<uv_handle_t*>(&err_));
  if (exited_ && out_done && err_done) close_all();
}

std::string program_run::stderr_part() const {
  std::string_view tail(stderr_);
  if (tail.size() > stderr_tail_bytes) tail.remove_prefix(tail.size() - stderr_tail_bytes);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.remove_suffix(1);
  return tail.empty() ? std::string() : "; stderr: " + std::string(tail);
}

exec_result program_run::outcome() {
  exec_result r;
  r.pid = started_ ? process_.pid : 0;
  const std::string prog = program();
  switch (stop_reason_) {
    case exec_status::result_too_large:
      r.error = fmt::format("{} wrote more than {} bytes to stdout (--max-result-bytes); its process group was killed",
                            prog, lim_.max_result_bytes);
      break;
    case exec_status::timeout:
    case exec_status::cancelled:
      if (!started_) {
        r.error = fmt::format("{} was not started: {}", prog,
                              stop_reason_ == exec_status::timeout ? "the task's deadline had passed" : "the task was cancelled");
        break;
      }
      r.error = fmt::format("{} {}; its process group was stopped (SIGTERM, then SIGKILL after {} ms){}", prog,
                            stop_reason_ == exec_status::timeout ? "was still running at the task's deadline" : "was cancelled",
                            lim_.kill_grace.count(), stderr_part());
      break;
    default:
      if (!started_) {
        r.status = exec_status::exec_failed;
        r.error = spawn_error_;
      } else if (term_signal_ != 0) {
        r.status = exec_status::task_error;
        r.error = fmt::format("killed by signal {} ({}){}", term_signal_, ::strsignal(term_signal_), stderr_part());
      } else if (exit_status_ != 0) {
        r.status = exec_status::task_error;
        r.error = fmt::format("exit status {}{}", exit_status_, stderr_part());
      } else {
        r.output = std::move(output_);
      }
      return r;
  }
  r.status = stop_reason_;
  return r;
}

exec_result program_run::run() {
  ignore_sigpipe_once();
  if (rq_.cancelled && rq_.cancelled()) stop_reason_ = exec_status::cancelled;
  else if (rq_.deadline && steady::now() >= *rq_.deadline) stop_reason_ = exec_status::timeout;
  if (stop_reason_ == exec_status::ok && spawn()) start_io();
  else close_all();
  uv_run(&loop_, UV_RUN_DEFAULT);
  return outcome();
}

}  // namespace

const char* kind_of(exec_status s) {
  switch (s) {
    case exec_status::ok: return "";
    case exec_status::task_error: return "task_error";
    case exec_status::exec_failed: return "exec_failed";
    case exec_status::result_too_large: return "result_too_large";
    case exec_status::timeout: return "timeout";
    case exec_status::cancelled: return "cancelled";
  }
  return "task_error";
}

std::size_t kill_running_programs() {
  std::lock_guard lock(running_mutex);
  for (pid_t pgid : running_groups) ::kill(-pgid, SIGKILL);
  return running_groups.size();
}

exec_result run_program(const exec_request& request, const exec_limits& limits) {
  if (request.argv.empty()) return {exec_status::exec_failed, {}, "no program to run", 0};
  program_run run(request, limits);
  return run.run();
}

}  // namespace argon::worker
