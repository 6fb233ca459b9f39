// A client that submits a batch of tasks at once and prints each outcome.
//
//   argon-example-client --broker tcp://127.0.0.1:5555 --key argon.key            # a built-in batch
//   argon-example-client --broker ... --key ... wordcount "one two" reverse abc  # TASK PAYLOAD pairs
#include <CLI/CLI.hpp>

#include <iostream>
#include <utility>
#include <vector>

#include "argon/client.hpp"

int main(int argc, char** argv) {
  CLI::App app{"argon-example-client: submit a batch of tasks and print the results"};
  argon::client_options opts;
  std::string key;
  std::vector<std::string> pairs;
  app.add_option("--broker", opts.broker, "Broker endpoint")->required();
  app.add_option("--key", key, "Keyfile shared with the broker");
  app.add_flag("--insecure", opts.insecure, "Plaintext broker")->excludes("--key");
  app.add_option("TASK_PAYLOAD", pairs, "TASK PAYLOAD pairs; a built-in batch when none are given");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!key.empty()) opts.keyfile = key;
  if (pairs.empty())
    pairs = {"echo", "hello", "sleep", "300", "sleep", "100", "fail", "on purpose", "echo", "bye"};
  if (pairs.size() % 2) {
    std::cerr << "argon-example-client: error: give TASK PAYLOAD pairs\n";
    return 2;
  }
  try {
    argon::client c(opts);
    std::vector<std::pair<std::string, std::future<argon::result>>> batch;
    for (std::size_t i = 0; i < pairs.size(); i += 2)
      batch.emplace_back(pairs[i] + " " + pairs[i + 1], c.submit(pairs[i], pairs[i + 1]));
    int failures = 0;
    for (auto& [label, future] : batch) {
      argon::result r = future.get();
      if (r.ok()) {
        std::cout << label << " -> " << r.value() << "\n";
      } else {
        ++failures;
        std::cout << label << " -> failed (" << r.error_kind() << "): " << r.error_message() << "\n";
      }
    }
    return failures ? 1 : 0;
  } catch (const std::exception& e) {  // exit codes as Argon's own programs give them
    std::cerr << "argon-example-client: error: " << e.what() << "\n";
    return argon::exit_code_of(e);
  }
}
