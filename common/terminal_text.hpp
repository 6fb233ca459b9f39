// Text from a peer, made safe to show on a terminal.
//
// Task ids, task names, error kinds and messages, worker ids, addresses
// and progress text all come from other processes over the wire. Written
// to a terminal as they are, their control bytes are commands to it: ESC
// sequences set the title, clear the screen or move the cursor, and a
// newline forges a line of output. Every place that shows such text to a
// person (argon-monitor's live view and lines, the CLI's stderr messages,
// every log line) passes it through printable() first. Output meant for
// programs is not shown this way: a task's result on stdout stays byte for
// byte, and JSON output relies on JSON's own escaping.
#pragma once

#include <string>
#include <string_view>

namespace argon::common {

// The text with everything a terminal would act on spelled out, and
// printable UTF-8 (letters, symbols, emoji, any script) kept as it is:
//   - \n, \r and \t become the two characters "\n", "\r", "\t";
//   - the other ASCII controls (0x00-0x1f) and DEL (0x7f) become \xNN,
//     lowercase hex: ESC is "\x1b", BEL "\x07", NUL "\x00";
//   - the C1 controls U+0080-U+009F (a terminal may take U+009B as CSI),
//     the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
//     U+2066-U+2069) and the separators U+2028 and U+2029 become \uNNNN;
//   - each byte that is not part of valid UTF-8 (a stray continuation byte,
//     a cut or overlong sequence, a surrogate, past U+10FFFF) becomes \xNN.
// The result is valid UTF-8 with no control characters, and printable()
// of it is itself. A backslash is kept as it is, so the form is for
// reading, not for decoding back.
[[nodiscard]] std::string printable(std::string_view text);

}  // namespace argon::common
