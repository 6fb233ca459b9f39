#include "service_notify.hpp"

#include <string>

#ifdef ARGON_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace argon::common {

namespace {
void notify(std::string_view state, std::string_view status) {
#ifdef ARGON_HAVE_SYSTEMD
  std::string text(state);
  text += "\nSTATUS=";
  text += status;
  (void)sd_notify(0, text.c_str());  // < 0 or 0: no manager listens; nothing to do about it
#else
  (void)state;
  (void)status;
#endif
}
}  // namespace

void notify_ready(std::string_view status) { notify("READY=1", status); }
void notify_stopping(std::string_view status) { notify("STOPPING=1", status); }

bool can_notify() {
#ifdef ARGON_HAVE_SYSTEMD
  return true;
#else
  return false;
#endif
}

}  // namespace argon::common
