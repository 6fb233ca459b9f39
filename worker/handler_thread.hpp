// Runs a slot's handlers off the loop thread, one thread per slot.
//
// libuv's thread pool keeps one queue behind one mutex for every thread;
// with a handler per task that mutex was contended and each task cost two
// extra wake-ups. Here each slot owns a thread that sleeps on its own
// condition variable, and finished slots are handed back to the loop
// through one shared uv_async, which coalesces many completions into one
// wake-up under load. A slot runs one task at a time, so a thread per slot
// is exactly the pool size the design asks for (the capacity).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "uv_handles.hpp"

namespace argon::worker {

// Finished jobs waiting for the loop thread.
class completion_queue {
 public:
  explicit completion_queue(uv_loop_t* loop);
  // Any thread: queue fn to run on the loop thread.
  void post(std::function<void()> fn);

 private:
  void run_posted();

  std::mutex mutex_;                          // guards posted_
  std::vector<std::function<void()>> posted_; // waiting for the loop
  common::async_wake wake_;                   // wakes the loop
};

class handler_thread {
 public:
  explicit handler_thread(completion_queue& done);
  ~handler_thread();  // waits for a running job to end
  handler_thread(const handler_thread&) = delete;
  handler_thread& operator=(const handler_thread&) = delete;

  // Runs job on this thread, then then_on_loop on the loop thread. One job at a time.
  void run(std::function<void()> job, std::function<void()> then_on_loop);

 private:
  void serve();

  completion_queue& done_;               // where finished jobs report
  std::mutex mutex_;                     // guards the fields below
  std::condition_variable wake_;         // a job arrived, or stop
  std::function<void()> job_;            // the job to run
  std::function<void()> then_;           // its continuation on the loop
  bool stop_ = false;                    // the thread should end
  std::thread thread_;                   // runs serve()
};

}  // namespace argon::worker
