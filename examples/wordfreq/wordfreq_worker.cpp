// A worker with one real task, "wordfreq": count the words of a text.
//
//   argon-wordfreq-worker --broker tcp://127.0.0.1:5555 --key argon.key --capacity 4
//
// The payload is UTF-8 or ASCII text; the result is a JSON object from each
// word (lower-cased ASCII letters, digits and apostrophes; other bytes
// separate words) to its count. The handler reports progress on large
// texts and stops early, failing as cancelled, when its task is cancelled.
#include <CLI/CLI.hpp>

#include <cctype>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "argon/worker.hpp"

namespace {

bool is_word_byte(unsigned char c) { return std::isalnum(c) != 0 || c == '\''; }

std::string count_words(std::string_view text, argon::worker::task_context& ctx) {
  if (text.size() > (64u << 20)) throw argon::worker::task_error("invalid_input", "wordfreq takes at most 64 MiB of text");
  std::map<std::string, std::uint64_t> counts;
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (is_word_byte(c)) {
      word += static_cast<char>(std::tolower(c));
      continue;
    }
    if (!word.empty() && word.find_first_not_of('\'') != std::string::npos) ++counts[word];
    word.clear();
    if (i % (1u << 20) == 0 && i > 0) {
      if (ctx.cancelled()) throw argon::worker::task_error("cancelled", "wordfreq was cancelled");
      ctx.progress(static_cast<unsigned>(i * 100 / text.size()), "counting");
    }
  }
  nlohmann::json out = nlohmann::json::object();  // {} for a text without words, not null
  for (auto& [w, n] : counts) out[w] = n;
  return out.dump();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"argon-wordfreq-worker: serves task 'wordfreq' (text in, JSON word counts out)"};
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
    w.handle("wordfreq", count_words);
    return w.run();
  } catch (const std::exception& e) {  // exit codes as Argon's own programs give them
    std::cerr << "argon-wordfreq-worker: error: " << e.what() << "\n";
    return argon::exit_code_of(e);
  }
}
