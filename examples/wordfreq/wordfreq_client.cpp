// Counts the words of every file in a directory on Argon workers, in
// parallel, and prints the N most frequent words of all of them.
//
//   argon-wordfreq --broker tcp://127.0.0.1:5555 --key argon.key --top 10 /usr/share/common-licenses
//
// Every regular file becomes one "wordfreq" task (see
// wordfreq_worker.cpp), all submitted at once: the client library keeps the
// backlog and backs off while the broker is busy. Each result is a JSON
// object of counts; the client adds them up. A file whose task fails is
// reported and left out; the exit status is then 1.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "argon/client.hpp"

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Prints the n largest counts, ties in word order.
void print_top(const std::unordered_map<std::string, std::uint64_t>& totals, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(totals.begin(), totals.end());
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  for (std::size_t i = 0; i < std::min(n, sorted.size()); ++i) std::cout << sorted[i].second << " " << sorted[i].first << "\n";
}

// Submits every regular file of dir, adds up the counts and prints the top
// words; returns 1 if any file could not be counted, else 0.
int count_words(const argon::client_options& opts, const std::string& dir, std::size_t top) {
  argon::client c(opts);
  std::vector<std::pair<fs::path, std::future<argon::result>>> tasks;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) tasks.emplace_back(entry.path(), c.submit("wordfreq", read_whole(entry.path())));
  std::unordered_map<std::string, std::uint64_t> totals;
  int failures = 0;
  for (auto& [path, future] : tasks) {
    argon::result r = future.get();
    if (!r.ok()) {
      ++failures;
      std::cerr << "argon-wordfreq: " << path.string() << ": " << r.error_kind() << ": " << r.error_message() << "\n";
      continue;
    }
    const auto counts = nlohmann::json::parse(r.value(), nullptr, false);
    if (!counts.is_object()) {
      ++failures;
      std::cerr << "argon-wordfreq: " << path.string() << ": the worker's answer is not a JSON object\n";
      continue;
    }
    for (auto& [word, count] : counts.items())
      if (count.is_number_unsigned()) totals[word] += count.get<std::uint64_t>();
  }
  std::cerr << "argon-wordfreq: " << tasks.size() - static_cast<std::size_t>(failures) << " of " << tasks.size()
            << " files counted, " << totals.size() << " distinct words\n";
  print_top(totals, top);
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"argon-wordfreq: count words of every file in a directory on Argon workers"};
  argon::client_options opts;
  std::string key, dir;
  std::size_t top = 10;
  app.add_option("--broker", opts.broker, "Broker endpoint")->required();
  app.add_option("--key", key, "Keyfile shared with the broker");
  app.add_flag("--insecure", opts.insecure, "Plaintext broker")->excludes("--key");
  app.add_option("--top", top, "How many words to print (default 10)");
  app.add_option("DIR", dir, "Directory whose files to count")->required()->check(CLI::ExistingDirectory);
  try {
    app.parse(argc, argv);
    if (!key.empty()) opts.keyfile = key;
    return count_words(opts, dir, top);
  } catch (const CLI::ParseError& e) {  // --help exits 0; a bad flag 2, as Argon's own programs do
    return app.exit(e) == 0 ? 0 : argon::exit_usage;
  } catch (const fs::filesystem_error& e) {  // the directory could not be read
    std::cerr << "argon-wordfreq: error: " << e.what() << "\n";
    return argon::exit_usage;
  } catch (const std::exception& e) {  // exit codes as Argon's own programs give them
    std::cerr << "argon-wordfreq: error: " << e.what() << "\n";
    return argon::exit_code_of(e);
  }
}
