// The exceptions Argon throws across components.
//
// protocol_error: a peer sent something that is not valid protocol; the
// receiver logs it and answers ERROR or drops the message, never crashes.
// config_error: a user's flag, file or key is wrong; programs print it and
// exit 2.
#pragma once

#include <stdexcept>
#include <string>

namespace argon::common {

// Malformed, truncated, oversized or out-of-place message.
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration mistake the user can fix (bad flag, unreadable keyfile).
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace argon::common
