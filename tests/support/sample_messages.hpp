// Test fixture: one valid message of every command, for round-trip tests and
// as seeds for the codec fuzzer. edge_messages() adds values at the limits
// docs/protocol.md gives (longest ids, largest counts, empty strings).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol.hpp"

namespace argon::test {

// One of each command, with ordinary field values.
inline std::vector<common::body> one_of_each() {
  using namespace argon::common;
  return {submit_msg{"id-1", "resize", priority::high, 2500, 3, {}},
          submit_msg{"id-1x", exec_task, priority::normal, 0, 1, {"/usr/bin/tr", "a-z", "A-Z"}},
          cancel_msg{"id-2"},
          status_msg{},
          status_msg{true},
          ping_msg{},
          result_msg{"id-3"},
          failed_msg{"id-4", "task_error", "disk full"},
          busy_msg{"id-5", 12, 24, 8, 1500, "queue_full"},
          status_reply_msg{2, 8, 3, 5, 1, 2, 2, 24, 640, 1000, 100, 90, 4, 7, 1, 123456, std::nullopt},
          status_reply_msg{2, 8, 3, 5, 1, 2, 2, 24, 640, 1000, 100, 90, 4, 7, 1, 123456,
                           std::vector<worker_status>{{"w1", "10.0.0.7", 4, 4, 3, 120, 250, false},
                                                      {"w2", "", 0, 1, 0, 0, 0, true}}},
          pong_msg{"b-7f3a"},
          error_msg{"protocol_error", "bad"},
          ready_msg{"w1", std::nullopt},
          ready_msg{"w2", capabilities{{"echo", "upper"}, {"/usr/bin/*"}}},
          task_msg{"id-6", "sleep", 2, 1700000000000, {}},
          task_msg{"id-6x", exec_task, 1, 0, {"/bin/cat"}},
          done_msg{"w1", "id-6", false, "boom", ""},
          done_msg{"w1", "id-6x", false, "program /tmp/x is not allowed", "not_allowed"},
          hello_msg{"w1", 8, "0.1.0"},
          heartbeat_msg{"w1"},
          bye_msg{"w1"},
          progress_msg{"id-6", 40, "page 4 of 10"}};
}

// Valid messages whose fields sit at the documented limits.
inline std::vector<common::body> edge_messages() {
  using namespace argon::common;
  const std::string longest(max_id_bytes, 'i');
  return {submit_msg{longest, longest, priority::low, UINT32_MAX, 1000, {}},
          submit_msg{"id-a", exec_task, priority::low, 0, 1, std::vector<std::string>(max_list_items, "a")},
          ready_msg{"w1", capabilities{{}, {}}},
          progress_msg{"id-8", 100, std::string(max_progress_bytes, 'p')},
          result_msg{""},
          failed_msg{"id-4", "task_error", std::string(300, 'm')},
          busy_msg{"id-5", 12, 24, UINT64_MAX, 1500, "queue_full"},
          done_msg{"w1", "id-7", true, "", ""},
          hello_msg{"w1", 1u << 20, "0.1.0"},
          status_reply_msg{1, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,
                           std::vector<worker_status>(max_listed_workers, worker_status{longest, "[2001:db8::1]", 1u << 20, 1u << 20,
                                                                                          1u << 20, UINT64_MAX, UINT64_MAX, true})}};
}

}  // namespace argon::test
