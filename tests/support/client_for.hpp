// Test fixture: client options aimed at a running argon_system, with its
// keyfile, or --insecure when the system runs without one.
#pragma once

#include "argon/client.hpp"
#include "system.hpp"

namespace argon::test {

inline client_options client_options_for(const argon_system& sys) {
  client_options o;
  o.broker = sys.endpoint;
  if (sys.keyfile.empty()) o.insecure = true;
  else o.keyfile = sys.keyfile;
  return o;
}

}  // namespace argon::test
