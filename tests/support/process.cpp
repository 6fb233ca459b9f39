#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace argon::test {
namespace {

std::vector<char*> c_args(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

pid_t spawn(std::vector<std::string> argv, posix_spawn_file_actions_t* fa) {
  auto args = c_args(argv);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], fa, nullptr, args.data(), environ) != 0)
    throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

bool wait_exit(pid_t pid, int& status, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void pump(int in_fd, const std::string& input, int out_fd, int err_fd, outcome& o, std::chrono::steady_clock::time_point end) {
  std::size_t written = 0;
  if (input.empty()) { close(in_fd); in_fd = -1; }
  char buf[65536];
  while ((out_fd >= 0 || err_fd >= 0) && std::chrono::steady_clock::now() < end) {
    pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) { close(fds[i].fd); (i == 0 ? out_fd : err_fd) = -1; continue; }
      (i == 0 ? o.out : o.err).append(buf, static_cast<std::size_t>(n));
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR))) {
      ssize_t n = write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n <= 0 || written == input.size()) { close(in_fd); in_fd = -1; }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) if (fd >= 0) close(fd);
}

}  // namespace

child_process::child_process(std::vector<std::string> argv, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const char* target = log_path.empty() ? "/dev/null" : log_path.c_str();
  posix_spawn_file_actions_addopen(&fa, 1, target, O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_ = spawn(std::move(argv), &fa);
  posix_spawn_file_actions_destroy(&fa);
}

child_process::~child_process() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
}

void child_process::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int child_process::stop(int sig, std::chrono::milliseconds limit) {
  if (pid_ <= 0) return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  ::kill(pid_, sig);
  if (!wait_exit(pid_, status_, limit)) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

bool child_process::running() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) { pid_ = -1; return false; }
  return true;
}

outcome run(const std::vector<std::string>& argv, const std::string& input, std::chrono::milliseconds limit) {
  ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid = spawn(argv, &fa);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]); close(out[1]); close(err[1]);
  outcome o;
  auto end = std::chrono::steady_clock::now() + limit;
  pump(in[1], input, out[0], err[0], o, end);
  int status = 0;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  if (!wait_exit(pid, status, std::max(left, std::chrono::milliseconds(100)))) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return o;
  }
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string exe(const char* env_name) {
  const char* v = std::getenv(env_name);
  if (!v || !*v) throw std::runtime_error(std::string(env_name) + " is not set; run the tests through meson test");
  return v;
}

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "argon-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void shrink_sanitizer_quarantine() {
#if defined(__SANITIZE_ADDRESS__)
  const char* given = std::getenv("ASAN_OPTIONS");
  const std::string opts = std::string(given ? given : "") + (given && *given ? ":" : "") + "quarantine_size_mb=16";
  setenv("ASAN_OPTIONS", opts.c_str(), 1);
#endif
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace argon::test
