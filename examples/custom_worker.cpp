// A worker with handlers of its own, built on argon::worker.
//
//   argon-example-worker --broker tcp://127.0.0.1:5555 --key argon.key --capacity 4
//   argon submit --broker tcp://127.0.0.1:5555 --key argon.key wordcount 'the quick brown fox'   # 4
//   argon submit --broker tcp://127.0.0.1:5555 --key argon.key reverse 'stressed'               # desserts
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>

#include "argon/worker.hpp"

namespace {

// Counts whitespace-separated words.
std::string wordcount(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    bool space = std::isspace(c) != 0;
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return std::to_string(words);
}

// Reverses the payload's bytes; refuses empty input to show how a handler fails.
std::string reverse(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("reverse needs some text");
  return std::string(text.rbegin(), text.rend());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"argon-example-worker: a worker with its own 'wordcount' and 'reverse' tasks"};
  argon::worker::options opts;
  std::string key;
  app.add_option("--broker", opts.broker, "Broker endpoint")->required();
  app.add_option("--key", key, "Keyfile shared with the broker");
  app.add_flag("--insecure", opts.insecure, "Plaintext broker")->excludes("--key");
  app.add_option("--capacity", opts.capacity, "Task slots")->check(CLI::Range(1, 1024));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!key.empty()) opts.keyfile = key;
  try {
    argon::worker::worker w(opts);
    argon::worker::add_builtin_handlers(w);
    w.handle("wordcount", wordcount);
    w.handle("reverse", reverse);
    return w.run();
  } catch (const std::exception& e) {  // exit codes as Argon's own programs give them
    std::cerr << "argon-example-worker: error: " << e.what() << "\n";
    return argon::exit_code_of(e);
  }
}
