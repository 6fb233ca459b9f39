// Test fixture: start the real Argon executables and always clean them up.
//
// A child_process is killed (SIGKILL) and reaped when it goes out of scope,
// so a failing test never leaves a broker or worker behind. run() starts a
// command, feeds its stdin, and collects exit code and output with a time
// limit. Paths to the executables come from the environment that meson's
// test() sets (ARGON_BROKER_PROGRAM, ARGON_WORKER, ARGON_CLI). rss_kib() reads a
// process's resident memory, for the tests that bound the broker's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace argon::test {

// A started process that is killed and reaped on destruction.
class child_process {
 public:
  // Starts argv; its stderr (and stdout) go to log_path when given, else /dev/null.
  explicit child_process(std::vector<std::string> argv, const std::string& log_path = "");
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  // Sends a signal (e.g. SIGSTOP) without waiting.
  void signal(int sig) const;
  // Sends sig and waits up to limit; returns the exit status, or -1 if it had to be killed.
  int stop(int sig, std::chrono::milliseconds limit);
  // Whether the process is still running.
  [[nodiscard]] bool running();
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;    // the child's pid; -1 once reaped
  int status_ = 0;    // wait status once reaped
};

// What a finished command returned.
struct outcome {
  int exit_code = -1;   // exit status; -1 if killed at the time limit
  std::string out;      // everything written to stdout
  std::string err;      // everything written to stderr
};

// Runs argv to completion (killing it after limit), with input on stdin.
outcome run(const std::vector<std::string>& argv, const std::string& input, std::chrono::milliseconds limit);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// The path of an executable named by an environment variable; fails the test if unset.
std::string exe(const char* env_name);

// A fresh temporary directory, removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;  // absolute path of the directory
};

// Reads a whole file ("" if missing).
std::string read_file(const std::string& path);

// VmRSS of a process in KiB, from /proc; -1 if it cannot be read.
long rss_kib(pid_t pid);

// Under AddressSanitizer freed memory waits in a quarantine of up to 256 MiB,
// which would count as the broker's own; processes started after this call
// get a quarantine of 16 MiB, so their VmRSS measures them. Without ASan the
// variable is read by nobody.
void shrink_sanitizer_quarantine();

}  // namespace argon::test
