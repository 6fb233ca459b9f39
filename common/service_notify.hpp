// Tells a service manager how a long-running Argon program stands.
//
// Under systemd (a unit with Type=notify sets $NOTIFY_SOCKET) the broker
// says READY=1 once it listens and the worker once its slots are open, so
// units ordered after them start when they can be used; both say
// STOPPING=1 when a stop signal begins their drain, and STATUS= lines say
// what they do. libsystemd's sd_notify does the sending. Without
// $NOTIFY_SOCKET, or in a build without libsystemd, every call does
// nothing, and a unit uses Type=exec instead (docs/operations.md).
#pragma once

#include <string_view>

namespace argon::common {

// READY=1, with a STATUS= line.
void notify_ready(std::string_view status);
// STOPPING=1, with a STATUS= line.
void notify_stopping(std::string_view status);
// Whether this build can notify at all (it was built with libsystemd).
[[nodiscard]] bool can_notify();

}  // namespace argon::common
