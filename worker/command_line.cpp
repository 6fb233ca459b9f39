#include "command_line.hpp"

#include "errors.hpp"

namespace argon::worker {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Reads the quoted part that starts after the opening quote at pos; pos ends after the closing quote.
void read_quoted(std::string_view command, std::size_t& pos, char quote, std::string& word) {
  for (; pos < command.size(); ++pos) {
    const char c = command[pos];
    if (c == quote) {
      ++pos;
      return;
    }
    const bool escape = quote == '"' && c == '\\' && pos + 1 < command.size() &&
                        (command[pos + 1] == '"' || command[pos + 1] == '\\');
    if (escape) ++pos;
    word += command[pos];
  }
  throw common::config_error(std::string("unterminated ") + (quote == '"' ? "double" : "single") +
                             " quote in command: " + std::string(command));
}

}  // namespace

std::vector<std::string> split_command(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has started, even an empty quoted one
  std::size_t pos = 0;
  while (pos < command.size()) {
    const char c = command[pos];
    if (is_space(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++pos;
      continue;
    }
    in_word = true;
    if (c == '\'' || c == '"') {
      ++pos;
      read_quoted(command, pos, c, word);
    } else if (c == '\\') {
      if (pos + 1 >= command.size())
        throw common::config_error("trailing backslash in command: " + std::string(command));
      word += command[pos + 1];
      pos += 2;
    } else {
      word += c;
      ++pos;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) throw common::config_error("empty command: give a program and its arguments");
  return words;
}

}  // namespace argon::worker
