// printable(): peer text shown on a terminal has every control spelled
// out, keeps printable UTF-8, and marks each invalid byte.
#include <doctest/doctest.h>

#include <string>

#include "terminal_text.hpp"

using argon::common::printable;
using namespace std::string_literals;

TEST_SUITE("unit") {
TEST_CASE("the escape sequences that set a title and wipe the screen are spelled out") {
  CHECK(printable("x\033]0;pwned\007\033[2J") == R"(x\x1b]0;pwned\x07\x1b[2J)");
  CHECK(printable("\033[31mred\033[0m") == R"(\x1b[31mred\x1b[0m)");  // CSI
  CHECK(printable("\033]52;c;aGk=\033\\") == R"(\x1b]52;c;aGk=\x1b\)");  // OSC ended by ST
  CHECK(printable("\x07") == R"(\x07)");
}

TEST_CASE("every ASCII control and DEL is escaped; newline, return and tab by name") {
  CHECK(printable("a\nb\rc\td") == R"(a\nb\rc\td)");
  CHECK(printable("nul\0end"s) == R"(nul\x00end)");
  CHECK(printable("\x7f") == R"(\x7f)");
  CHECK(printable("\x01\x1f") == R"(\x01\x1f)");
  for (int c = 0; c < 0x20; ++c) {
    const std::string shown = printable(std::string(1, static_cast<char>(c)));
    CHECK(shown.size() >= 2);
    CHECK(shown[0] == '\\');
  }
}

TEST_CASE("C1 controls, bidirectional controls and line separators are shown as \\u") {
  CHECK(printable("\xc2\x80") == R"(\u0080)");
  CHECK(printable("\xc2\x9b" "2J") == R"(\u009b2J)");  // the one-byte CSI as UTF-8
  CHECK(printable("\xc2\x9d" "0;t\xc2\x9c") == R"(\u009d0;t\u009c)");
  CHECK(printable("\xc2\x9f") == R"(\u009f)");
  CHECK(printable("abc\xe2\x80\xae" "fed") == R"(abc\u202efed)");  // right-to-left override
  CHECK(printable("\xe2\x81\xa6" "x\xe2\x81\xa9") == R"(\u2066x\u2069)");
  CHECK(printable("a\xe2\x80\xa8" "b") == R"(a\u2028b)");
}

TEST_CASE("printable UTF-8 and ASCII are kept as they are") {
  CHECK(printable("") == "");
  CHECK(printable("task_error: broken 4") == "task_error: broken 4");
  CHECK(printable(R"(C:\path "quoted" = 'x' ~!@#$%^&*()") == R"(C:\path "quoted" = 'x' ~!@#$%^&*()");
  CHECK(printable("\xc2\xa0") == "\xc2\xa0");              // U+00A0, the first character past C1
  CHECK(printable("caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac") == "caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac");
  CHECK(printable("\xf0\x9f\x99\x82") == "\xf0\x9f\x99\x82");  // U+1F642, four bytes
  CHECK(printable("\xf4\x8f\xbf\xbf") == "\xf4\x8f\xbf\xbf");  // U+10FFFF, the last code point
}

TEST_CASE("each byte that is not valid UTF-8 is shown as \\xNN") {
  CHECK(printable("\xff") == R"(\xff)");
  CHECK(printable("a\x80z") == R"(a\x80z)");                     // a stray continuation byte
  CHECK(printable("\xc3") == R"(\xc3)");                          // cut at the end
  CHECK(printable("\xe2\x86" "x") == R"(\xe2\x86x)");           // cut before an ASCII byte
  CHECK(printable("\xc0\x9b") == R"(\xc0\x9b)");                  // ESC, overlong
  CHECK(printable("\xe0\x80\x9b") == R"(\xe0\x80\x9b)");          // ESC, overlong in three bytes
  CHECK(printable("\xed\xa0\x80") == R"(\xed\xa0\x80)");          // a surrogate
  CHECK(printable("\xf4\x90\x80\x80") == R"(\xf4\x90\x80\x80)");  // past U+10FFFF
  CHECK(printable("\xf8\x88\x80\x80\x80") == R"(\xf8\x88\x80\x80\x80)");
}

TEST_CASE("the result has no control bytes, and printable() of it changes nothing") {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  all += "\xc2\x9b\xe2\x80\xae\xf0\x9f\x99\x82";
  const std::string shown = printable(all);
  for (char c : shown) {
    const auto b = static_cast<unsigned char>(c);
    CHECK((b >= 0x20 && b != 0x7f));
  }
  CHECK(shown.find("\xc2\x9b") == std::string::npos);
  CHECK(printable(shown) == shown);
}
}
