// The live view's terminal: raw keys, the alternate screen, and a promise
// to put everything back.
//
// raw_terminal turns off line buffering and echo (signals stay on, so
// Ctrl-C still sends SIGINT), hides the cursor and switches to the
// alternate screen; its destructor restores the saved termios settings and
// the normal screen, so the shell is left as it was on every way out that
// unwinds. draw() replaces the screen with a frame in one write; its lines
// pass through common::printable() once more, so no text in a frame can
// move the cursor, clear the screen or retitle the terminal, only the
// view's own escapes can.
#pragma once

#include <termios.h>

#include <optional>
#include <string>
#include <vector>

namespace argon::tools {

class raw_terminal {
 public:
  // Takes over the terminal on in_fd/out_fd; keys are read only if in_fd is a terminal.
  raw_terminal(int in_fd, int out_fd);
  ~raw_terminal();
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

  // A key waiting on the input, if any (never blocks).
  [[nodiscard]] std::optional<char> read_key();
  // Draws a whole frame of lines, each cut to the terminal's width.
  void draw(const std::vector<std::string>& lines);
  // Columns and rows now (80 x 24 when unknown).
  [[nodiscard]] std::pair<int, int> size() const;
  [[nodiscard]] int input_fd() const { return keys_ ? in_fd_ : -1; }

 private:
  void write_all(const std::string& s);

  int in_fd_;                     // keys come from here
  int out_fd_;                    // frames go here
  bool keys_ = false;             // in_fd_ is a terminal in raw mode
  std::optional<termios> saved_;  // settings to restore
};

// Cuts a line to at most width columns, counting UTF-8 characters as one column.
[[nodiscard]] std::string fit(const std::string& line, int width);

}  // namespace argon::tools
