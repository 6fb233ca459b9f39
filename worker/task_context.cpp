// task_context and task_error: what a handler sees of its task.
#include "argon/task_context.hpp"

#include <algorithm>

#include "protocol.hpp"

namespace argon::worker {

task_error::task_error(std::string kind, const std::string& message) : error(message), kind_(std::move(kind)) {}

task_context::task_context(task_info info, const std::atomic<bool>& cancelled, progress_sink sink)
    : info_(std::move(info)), cancelled_(cancelled), sink_(std::move(sink)) {}

// Cuts at a UTF-8 character boundary, so a long message stays valid text.
void task_context::progress(unsigned percent, std::string_view message) {
  if (!sink_) return;
  if (message.size() > common::max_progress_bytes) {
    std::size_t cut = common::max_progress_bytes;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
    message = message.substr(0, cut);
  }
  sink_(std::min(percent, 100u), std::string(message));
}

}  // namespace argon::worker
