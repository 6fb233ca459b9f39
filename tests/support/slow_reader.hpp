// Test fixture: a client that reads slowly, speaking the protocol raw.
//
// A raw_peer DEALER with its own routing id and a receive high-water mark
// of a few messages keeps up to `window` echo SUBMITs unanswered, reads for
// 0.3-1.5 s, then does not read for 0.5-3 s, and PINGs every 200 ms
// throughout, on a thread of its own. It does what docs/protocol.md asks of
// a client: it sends a task refused with BUSY again after the broker's
// estimate, and every unanswered task again, under its id, when a PONG names
// a new broker instance. It ignores a second outcome for an id it sent more
// than once (the broker may send a kept outcome again) and reports one for an
// id sent once. Every outcome is held to outcome_problem(). After
// stop_feeding() it sends no new task and reads without pauses until each id
// has its outcome (drained()); join() ends the thread, and report() then
// says what came back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "raw_peer.hpp"

namespace argon::test {

struct slow_reader_options {
  std::size_t window = 100;           // echo SUBMITs kept unanswered
  std::size_t largest_payload = 1024; // payloads are 1 to this many letters
  int receive_hwm = 4;                // ZMQ_RCVHWM of its DEALER
  std::uint32_t max_attempts = 10;    // of every SUBMIT
};

// What the slow reader saw, read after join().
struct slow_reader_report {
  std::size_t ids = 0;                  // task ids sent
  std::vector<std::string> unanswered;  // ids with no outcome, each with how often it was sent
  std::vector<std::string> defects;     // outcomes or messages the protocol does not allow
  std::map<std::string, long> kinds;    // first outcomes by kind ("done" for RESULT)
  long resent = 0;                      // SUBMITs sent again after a broker restart
  long second_outcomes = 0;             // outcomes for an id already answered (sent more than once)
  long busy = 0;                        // BUSY replies
  long pauses = 0;                      // times it stopped reading
  long instances = 0;                   // broker instances its PONGs named
};

class slow_reader {
 public:
  slow_reader(const std::string& endpoint, std::uint64_t seed, slow_reader_options opts);
  ~slow_reader();
  slow_reader(const slow_reader&) = delete;
  slow_reader& operator=(const slow_reader&) = delete;

  void stop_feeding() { feeding_ = false; }
  [[nodiscard]] bool drained() const { return drained_; }
  void join();
  [[nodiscard]] slow_reader_report report() const;

 private:
  struct sent_task {
    std::string payload;                                     // the echo input, and the output expected
    int sends = 0;                                           // SUBMITs sent with this id
    int outcomes = 0;                                        // RESULTs and FAILEDs received
    std::string first;                                       // the first outcome, to compare a second one with
    std::optional<std::chrono::steady_clock::time_point> retry_at;  // after BUSY: when to send it again
  };

  void run();
  bool reading(std::chrono::steady_clock::time_point now);
  void add_task();
  void send(const std::string& id, sent_task& t);
  void send_due(std::chrono::steady_clock::time_point now);
  void send_unanswered();
  void handle(common::message& m);
  void on_outcome(const std::string& id, bool ok, const std::string& value, const std::string& kind,
                  const std::string& message);

  slow_reader_options opts_;                // as given
  std::mt19937_64 rng_;                     // payloads and pauses
  raw_peer peer_;                           // the DEALER
  std::map<std::string, sent_task> tasks_;  // every id sent
  std::size_t open_ = 0;                    // ids without an outcome
  std::string instance_;                    // the broker instance the last PONG named; "" before contact
  bool reading_ = false;                    // in a reading phase
  std::chrono::steady_clock::time_point phase_end_{};  // when the phase ends
  slow_reader_report seen_;                 // counts, kinds and defects so far
  std::atomic<bool> feeding_{true};         // keep the window full and pause reads
  std::atomic<bool> drained_{false};        // fed no more, and every id answered
  std::atomic<bool> stop_{false};           // end the thread
  std::thread thread_;                      // runs run()
};

}  // namespace argon::test
