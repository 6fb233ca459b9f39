// printable(): one pass over the bytes, decoding UTF-8 strictly, so a byte
// is either copied, part of a kept character, or spelled out.
#include "terminal_text.hpp"

#include <cstdint>
#include <optional>

namespace argon::common {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, const char* prefix, std::uint32_t value, int digits) {
  out += prefix;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += hex_digits[(value >> shift) & 0xfu];
}

// A decoded character and how many bytes it took.
struct utf8_char {
  std::uint32_t code = 0;  // the code point
  std::size_t size = 0;    // 2, 3 or 4
};

// The multi-byte character starting at text[at], when it is valid UTF-8:
// the shortest form, not a surrogate, at most U+10FFFF.
std::optional<utf8_char> decode(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  if (size == 0 || lead >= 0xf8 || at + size > text.size()) return std::nullopt;
  std::uint32_t code = lead & (0x7fu >> size);
  for (std::size_t i = 1; i < size; ++i) {
    const auto c = static_cast<unsigned char>(text[at + i]);
    if ((c & 0xc0) != 0x80) return std::nullopt;
    code = (code << 6) | (c & 0x3fu);
  }
  static constexpr std::uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < shortest[size] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return std::nullopt;
  return utf8_char{code, size};
}

// Characters outside ASCII that steer a terminal instead of being shown.
bool is_unicode_control(std::uint32_t code) {
  return (code >= 0x80 && code <= 0x9f) || code == 0x061c || code == 0x200e || code == 0x200f ||
         (code >= 0x2028 && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

void append_ascii(std::string& out, char c) {
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte == 0x7f) append_hex(out, "\\x", byte, 2);
  else out += c;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      append_ascii(out, text[at++]);
      continue;
    }
    const auto ch = decode(text, at);
    if (!ch) append_hex(out, "\\x", static_cast<unsigned char>(text[at]), 2);
    else if (is_unicode_control(ch->code)) append_hex(out, "\\u", ch->code, 4);
    else out.append(text.substr(at, ch->size));
    at += ch ? ch->size : 1;
  }
  return out;
}

}  // namespace argon::common
