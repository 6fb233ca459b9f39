#include "terminal.hpp"

#include <sys/ioctl.h>
#include <cerrno>
#include <unistd.h>

#include "terminal_text.hpp"

namespace argon::tools {

raw_terminal::raw_terminal(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {
  termios t{};
  if (isatty(in_fd_) && tcgetattr(in_fd_, &t) == 0) {
    saved_ = t;
    t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    keys_ = tcsetattr(in_fd_, TCSANOW, &t) == 0;
  }
  write_all("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
}

raw_terminal::~raw_terminal() {
  write_all("\x1b[?25h\x1b[?1049l");
  if (saved_) tcsetattr(in_fd_, TCSANOW, &*saved_);
}

std::optional<char> raw_terminal::read_key() {
  if (!keys_) return std::nullopt;
  char c = 0;
  if (::read(in_fd_, &c, 1) == 1) return c;
  return std::nullopt;
}

std::pair<int, int> raw_terminal::size() const {
  winsize w{};
  if (ioctl(out_fd_, TIOCGWINSZ, &w) == 0 && w.ws_col > 0 && w.ws_row > 0) return {w.ws_col, w.ws_row};
  return {80, 24};
}

void raw_terminal::draw(const std::vector<std::string>& lines) {
  const auto [cols, rows] = size();
  std::string frame = "\x1b[H";
  for (int i = 0; i < static_cast<int>(lines.size()) && i < rows; ++i) {
    frame += fit(common::printable(lines[static_cast<std::size_t>(i)]), cols);
    frame += "\x1b[K";
    if (i + 1 < rows) frame += "\r\n";
  }
  frame += "\x1b[J";
  write_all(frame);
}

void raw_terminal::write_all(const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(out_fd_, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal is gone; nothing more to show
    done += static_cast<std::size_t>(n);
  }
}

std::string fit(const std::string& line, int width) {
  int cols = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte takes no column
    if (cols == width) return line.substr(0, i);
    ++cols;
  }
  return line;
}

}  // namespace argon::tools
