#include "plugin_loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "argon/plugin.h"
#include "errors.hpp"
#include "log.hpp"
#include "protocol.hpp"

// The host's side of one running task, opaque to plugins.
struct argon_task {
  argon::worker::task_context* ctx = nullptr;  // the task
  std::uint64_t deadline_ms = 0;               // unix ms, 0 = none
  std::string output;                          // appended by the plugin
  std::size_t max_output = 0;                  // --max-result-bytes
  bool too_large = false;                      // a write went past max_output
  bool failed = false;                         // task_fail was called
  std::string kind;                            // its kind
  std::string message;                         // its message
};

namespace argon::worker {

using common::config_error;

namespace {

// What register_task needs while argon_plugin_register runs.
struct registration {
  std::string label;              // the plugin's file, for messages
  std::size_t max_result_bytes;   // for each task
  std::vector<std::pair<std::string, context_handler>> tasks;  // registered, handed to the worker on success
};

std::string run_plugin_task(argon_task_fn fn, void* user, const std::string& name, std::size_t max,
                            std::string_view payload, task_context& ctx) {
  argon_task t;
  t.ctx = &ctx;
  t.max_output = max;
  if (ctx.deadline())
    t.deadline_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    ctx.deadline()->time_since_epoch()).count());
  int rc = 0;
  try {
    rc = fn(&t, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), user);
  } catch (...) {
    throw task_error("task_error", "plugin task " + name + " let a C++ exception escape");
  }
  if (t.too_large)
    throw task_error("result_too_large", fmt::format("plugin task {} wrote more than {} bytes (--max-result-bytes)", name, max));
  if (t.failed) throw task_error(t.kind, t.message);
  if (rc != 0) throw task_error("task_error", fmt::format("plugin task {} returned {}", name, rc));
  return std::move(t.output);
}

int host_register(void* host, const char* name, argon_task_fn fn, void* user) noexcept {
  auto& r = *static_cast<registration*>(host);
  if (!name || !fn) return -1;
  try {
    std::string task(name);
    if (task.empty() || task.size() > common::max_id_bytes || task == common::exec_task) {
      common::log::error("plugin {}: cannot register task '{}': a name has 1-128 bytes and is not '{}'", r.label,
                         task.substr(0, 200), common::exec_task);
      return -1;
    }
    const std::size_t max = r.max_result_bytes;
    r.tasks.emplace_back(task, [fn, user, task, max](std::string_view payload, task_context& ctx) {
      return run_plugin_task(fn, user, task, max, payload, ctx);
    });
    return 0;
  } catch (const std::exception& e) {
    common::log::error("plugin {}: cannot register task: {}", r.label, e.what());
    return -1;
  }
}

void host_log(void* host, const char* message) noexcept {
  if (message) common::log::note("plugin {}: {}", static_cast<registration*>(host)->label, message);
}

const char* host_task_id(const argon_task* t) noexcept { return t->ctx->id().c_str(); }
std::uint32_t host_task_attempt(const argon_task* t) noexcept { return t->ctx->attempt(); }
std::uint64_t host_task_deadline_ms(const argon_task* t) noexcept { return t->deadline_ms; }
int host_task_cancelled(const argon_task* t) noexcept { return t->ctx->cancelled() ? 1 : 0; }

void host_task_progress(argon_task* t, std::uint32_t percent, const char* message) noexcept {
  try {
    t->ctx->progress(percent, message ? message : "");
  } catch (...) {
  }
}

int host_task_write_output(argon_task* t, const void* data, std::size_t len) noexcept {
  if (len == 0) return 0;
  if (!data || t->too_large || len > t->max_output - t->output.size()) {
    t->too_large = true;
    return -1;
  }
  try {
    t->output.append(static_cast<const char*>(data), len);
    return 0;
  } catch (...) {
    t->too_large = true;
    return -1;
  }
}

void host_task_fail(argon_task* t, const char* kind, const char* message) noexcept {
  try {
    std::string k = kind ? kind : "";
    t->failed = true;
    t->kind = (k.empty() || k.size() > common::max_id_bytes) ? "task_error" : k;
    t->message = message ? message : "plugin task failed";
  } catch (...) {
  }
}

void* open_library(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw config_error("plugin " + path + ": no such file");
  dlerror();
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = dlerror();
    throw config_error("plugin " + path + ": cannot load it: " + (why ? why : "unknown error"));
  }
  return h;
}

}  // namespace

plugin_library::plugin_library(const std::string& path, const task_registrar& add, std::size_t max_result_bytes)
    : path_(path), handle_(open_library(path)) {
  try {
    auto version = reinterpret_cast<std::uint32_t (*)()>(::dlsym(handle_, "argon_plugin_abi_version"));
    auto reg = reinterpret_cast<int (*)(const argon_plugin_host*)>(::dlsym(handle_, "argon_plugin_register"));
    if (!version || !reg)
      throw config_error("plugin " + path + ": it does not export " +
                         (version ? "argon_plugin_register" : "argon_plugin_abi_version") + " (see argon/plugin.h)");
    const std::uint32_t v = version();
    if (v != ARGON_PLUGIN_ABI_VERSION)
      throw config_error(fmt::format("plugin {}: built for plugin ABI version {}, this worker speaks version {}; rebuild it "
                                     "against this worker's argon/plugin.h", path, v, ARGON_PLUGIN_ABI_VERSION));
    registration r{path, max_result_bytes, {}};
    const argon_plugin_host host{ARGON_PLUGIN_ABI_VERSION, &r, host_register, host_log, host_task_id,
                                 host_task_attempt, host_task_deadline_ms, host_task_cancelled, host_task_progress,
                                 host_task_write_output, host_task_fail};
    int rc = 0;
    try {
      rc = reg(&host);
    } catch (...) {
      throw config_error("plugin " + path + ": argon_plugin_register let a C++ exception escape");
    }
    if (rc != 0) throw config_error(fmt::format("plugin {}: argon_plugin_register failed (returned {})", path, rc));
    if (r.tasks.empty()) throw config_error("plugin " + path + ": it registered no tasks");
    for (auto& [name, fn] : r.tasks) {
      add(name, std::move(fn));
      common::log::info("plugin {} serves task {}", path, name);
    }
  } catch (...) {
    ::dlclose(handle_);
    throw;
  }
}

plugin_library::~plugin_library() { ::dlclose(handle_); }

}  // namespace argon::worker
