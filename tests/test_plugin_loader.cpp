// The plugin loader, on the test plugins built beside this test (their paths
// come in ARGON_TEST_PLUGIN_*): a good plugin registers its tasks (never the
// reserved "exec") and they run with the task's context, progress and the
// plugin's own failure kind; output past max_result_bytes fails as
// result_too_large; and each way a plugin can be refused (no file, not a
// library, missing exports, another ABI version, a failing register) is a
// config_error naming the file and the problem.
#include <doctest/doctest.h>

#include <dlfcn.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <zmq.h>

#include "errors.hpp"
#include "plugin_loader.hpp"

using namespace argon;
using namespace argon::worker;
using argon::common::config_error;

namespace {

std::string plugin(const char* env_name) {
  const char* p = std::getenv(env_name);
  REQUIRE_MESSAGE(p != nullptr, env_name, " is not set: run this test through meson test");
  return p;
}

// The message of the config_error that loading path throws; "" if none is thrown.
std::string refusal(const std::string& path) {
  try {
    plugin_library lib(path, [](const std::string&, context_handler) {}, 1024);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// A plugin loaded with its tasks kept by name; each name may register once.
struct loaded_plugin {
  loaded_plugin(const std::string& path, std::size_t max_result_bytes)
      : lib(path, [this](const std::string& name, context_handler fn) {
          CHECK(tasks.count(name) == 0);
          tasks[name] = std::move(fn);
        }, max_result_bytes) {}
  ~loaded_plugin() { tasks.clear(); }  // the handlers go before the library is closed

  std::map<std::string, context_handler> tasks;  // what the plugin registered; built before lib fills it
  plugin_library lib;                             // the loaded plugin
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs a registered handler as the slot would.
std::string run(const context_handler& fn, std::string_view input, std::vector<std::pair<unsigned, std::string>>* progress = nullptr,
                bool cancelled_flag = false) {
  std::atomic<bool> cancelled{cancelled_flag};
  task_context ctx({"t-42", "describe", 3, std::nullopt, {}}, cancelled, [&](unsigned p, std::string m) {
    if (progress) progress->emplace_back(p, std::move(m));
  });
  return fn(input, ctx);
}

// The task_error that the good plugin's task throws on input, loaded with
// max_result_bytes; the test stops if the task is missing or returns.
task_error good_task_failure(const std::string& task, std::string_view input, std::size_t max_result_bytes) {
  loaded_plugin good(plugin("ARGON_TEST_PLUGIN_GOOD"), max_result_bytes);
  REQUIRE(good.tasks.count(task));
  std::optional<task_error> failure;
  try {
    run(good.tasks[task], input);
  } catch (const task_error& e) {
    failure = e;
  }
  REQUIRE_MESSAGE(failure, task, " returned instead of failing");
  return *failure;
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("a good plugin registers its tasks, and not the reserved exec") {
  loaded_plugin good(plugin("ARGON_TEST_PLUGIN_GOOD"), 1024);  // checks that no name comes twice
  CHECK(good.tasks.size() == 2);
  CHECK(good.tasks.count("describe") == 1);
  CHECK(good.tasks.count("refuse") == 1);
  CHECK(good.tasks.count("exec") == 0);
}

TEST_CASE("a plugin task sees the task's context, reports progress and returns its output") {
  loaded_plugin good(plugin("ARGON_TEST_PLUGIN_GOOD"), 1024);
  REQUIRE(good.tasks.count("describe"));
  std::vector<std::pair<unsigned, std::string>> progress;
  const std::string out = run(good.tasks["describe"], "hello", &progress);
  CHECK(out == "id=t-42 attempt=3 deadline=none cancelled=0 input=hello user=from-register");
  REQUIRE(progress.size() == 1);
  CHECK(progress[0].first == 50);
  CHECK(progress[0].second == "half way");
  CHECK(has(run(good.tasks["describe"], "", nullptr, true), "cancelled=1"));
}

TEST_CASE("a plugin's own failure keeps its kind and message") {
  const task_error e = good_task_failure("refuse", "x", 1024);
  CHECK(e.kind() == "invalid_input");
  CHECK(std::string(e.what()) == "refused on purpose");
}

TEST_CASE("output past max_result_bytes fails the task as result_too_large") {
  const task_error e = good_task_failure("describe", "more than sixteen bytes of output", 16);
  CHECK(e.kind() == "result_too_large");
  CHECK(has(e.what(), "describe"));
  CHECK(has(e.what(), "16 bytes"));
}

TEST_CASE("a plugin built for another ABI version is refused, naming both versions") {
  const std::string path = plugin("ARGON_TEST_PLUGIN_BAD_ABI");
  const std::string why = refusal(path);
  INFO(why);
  CHECK(has(why, path));
  CHECK(has(why, "ABI version 42"));
  CHECK(has(why, "this worker speaks version 1"));
}

TEST_CASE("a plugin whose register call fails is refused with what it returned, and registers nothing") {
  const std::string path = plugin("ARGON_TEST_PLUGIN_FAILING_REGISTER");
  int added = 0;
  std::string why;
  try {
    plugin_library lib(path, [&](const std::string&, context_handler) { ++added; }, 1024);
  } catch (const config_error& e) {
    why = e.what();
  }
  INFO(why);
  CHECK(has(why, path));
  CHECK(has(why, "argon_plugin_register failed (returned 7)"));
  CHECK(added == 0);
}

TEST_CASE("a missing file, a file that is not a library, and a library without the plugin exports are refused") {
  SUBCASE("no such file") {
    const std::string why = refusal("/nonexistent/argon-plugin.so");
    CHECK(why == "plugin /nonexistent/argon-plugin.so: no such file");
  }
  SUBCASE("not a shared object") {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("argon_test_not_a_plugin_" + std::to_string(::getpid()) + ".so")).string();
    { std::ofstream(path) << "this is text, not ELF\n"; }
    const std::string why = refusal(path);
    std::remove(path.c_str());
    INFO(why);
    CHECK(has(why, "plugin " + path + ": cannot load it: "));
  }
  SUBCASE("a real library that is no plugin") {
    Dl_info info{};
    REQUIRE(dladdr(reinterpret_cast<void*>(&zmq_version), &info) != 0);  // libzmq: loaded, and no plugin
    REQUIRE(info.dli_fname != nullptr);
    const std::string why = refusal(info.dli_fname);
    INFO(why);
    CHECK(has(why, info.dli_fname));
    CHECK(has(why, "does not export argon_plugin_abi_version"));
  }
}

TEST_CASE("a registrar that refuses a task name stops the load with its error") {
  const std::string path = plugin("ARGON_TEST_PLUGIN_GOOD");
  std::string why;
  try {
    plugin_library lib(path, [](const std::string& name, context_handler) {
      if (name == "refuse") throw config_error("task refuse is taken");
    }, 1024);
  } catch (const config_error& e) {
    why = e.what();
  }
  CHECK(why == "task refuse is taken");
  // The library was closed cleanly: it loads again.
  int added = 0;
  plugin_library again(path, [&](const std::string&, context_handler) { ++added; }, 1024);
  CHECK(added == 2);
}
}
