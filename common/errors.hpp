// The exceptions Argon throws across components, by their component names.
//
// The types live in the public header argon/error.hpp, under the one root
// argon::error; this header gives them their argon::common names, so
// common::protocol_error and argon::protocol_error are the same type.
// protocol_error: a peer sent something that is not valid protocol; the
// receiver logs it and answers ERROR or drops the message, never crashes.
// config_error: a user's flag, file or key is wrong; programs print it and
// exit 2. system_error: libuv, ZeroMQ or the OS refused a resource at setup;
// programs print it and exit 5 (common/exit_code.hpp).
#pragma once

#include "argon/error.hpp"

namespace argon::common {

using argon::config_error;
using argon::protocol_error;
using argon::system_error;

}  // namespace argon::common
