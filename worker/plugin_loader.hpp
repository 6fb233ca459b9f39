// Loads one task plugin (argon/plugin.h) and turns its task functions into handlers.
//
// Opening checks, in order: the file exists, dlopen() accepts it, it
// exports argon_plugin_abi_version and argon_plugin_register, the version
// is this worker's ARGON_PLUGIN_ABI_VERSION, and register returns 0 having
// registered at least one task. Any failure is a config_error naming the
// file and the problem, and the library is closed again. Each task
// function is called through a handler that catches anything thrown across
// the boundary and turns the plugin's output or error into the task's.
#pragma once

#include <functional>
#include <string>

#include "argon/worker.hpp"

namespace argon::worker {

// Receives each task the plugin registers; throws config_error for a name it refuses.
using task_registrar = std::function<void(const std::string& name, context_handler fn)>;

class plugin_library {
 public:
  // Loads and registers; throws common::config_error.
  plugin_library(const std::string& path, const task_registrar& add, std::size_t max_result_bytes);
  ~plugin_library();  // dlclose; the handlers must be gone by then
  plugin_library(const plugin_library&) = delete;
  plugin_library& operator=(const plugin_library&) = delete;

 private:
  std::string path_;       // as given, for messages
  void* handle_ = nullptr;  // from dlopen
};

}  // namespace argon::worker
