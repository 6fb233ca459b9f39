// Reading a user-named file or stdin with read(2), so every failure has its errno.
#include "user_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.hpp"

namespace argon::common {
namespace {

// Reads fd to its end; false with errno set when a read fails.
bool read_all(int fd, std::string& out) {
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0) return true;
    else if (errno != EINTR) return false;
  }
}

// Closes a descriptor when the read is over, whichever way it ends.
struct fd_closer {
  int fd;  // the open file
  ~fd_closer() { ::close(fd); }
};

}  // namespace

std::string read_user_file(const std::string& path, std::string_view what) {
  const std::string prefix = "cannot read " + std::string(what) + " '" + path + "': ";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw config_error(prefix + std::strerror(errno));
  fd_closer closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) throw config_error(prefix + "it is a directory");
  std::string bytes;
  if (!read_all(fd, bytes)) throw config_error(prefix + std::strerror(errno));
  return bytes;
}

std::string read_stdin(std::string_view what) {
  std::string bytes;
  if (!read_all(STDIN_FILENO, bytes)) throw config_error("cannot read " + std::string(what) + ": " + std::strerror(errno));
  return bytes;
}

}  // namespace argon::common
