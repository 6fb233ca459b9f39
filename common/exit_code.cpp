// report_fatal: the exception in flight, named on stderr and turned into an exit code.
// Its message may quote a peer (a broker's answer, a worker's text), so it
// is shown through printable().
#include "exit_code.hpp"

#include <cstdio>
#include <exception>

#include <zmq.hpp>

#include "errors.hpp"
#include "terminal_text.hpp"

namespace argon::common {
namespace {

// stdio, not iostreams: this may run after a std::bad_alloc, and must not throw.
int print(std::string_view program, const char* what, int code) noexcept {
  std::string shown;
  const char* text = "(a message that could not be shown)";
  try {
    shown = printable(what);
    text = shown.c_str();
  } catch (...) {  // out of memory: say so without allocating
  }
  std::fprintf(stderr, "%.*s: error: %s\n", static_cast<int>(program.size()), program.data(), text);
  return code;
}

}  // namespace

int report_fatal(std::string_view program) noexcept {
  try {
    throw;
  } catch (const zmq::error_t& e) {
    // ZeroMQ refuses at setup what the user gave it (an endpoint it cannot
    // bind or connect); Argon's programs have always exited 2 for that.
    return print(program, e.what(), exit_usage);
  } catch (const std::exception& e) {
    return print(program, e.what(), exit_code_of(e));
  } catch (...) {
    return print(program, "an exception that is not a std::exception", exit_internal);
  }
}

}  // namespace argon::common
