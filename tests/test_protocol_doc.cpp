// docs/protocol.md agrees with the protocol model in common/protocol.hpp.
//
// The spec's command tables (columns "#", "Command", "Fields") must list
// every command of the model under its wire number, and each row's fields
// (a backquoted name followed by its type: str, int, bool, array or map)
// must be the model's, in wire order, with the same types, and marked
// "optional" exactly where the model lets a header end before them. The
// STATUS_REPLY key tables must list the snapshot's keys and a worker
// entry's keys and types in the model's order, and so must the paragraph
// of docs/operations.md that says what `argon status` prints. The paths
// come from $ARGON_PROTOCOL_DOC and $ARGON_OPERATIONS_DOC (set by
// tests/meson.build).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "model_walk.hpp"
#include "protocol.hpp"

using namespace argon::common;

namespace {

// One field as the spec or the model gives it.
struct doc_field {
  std::string name;       // wire name
  std::string type;       // str, int, bool, array or map
  bool optional = false;  // a header may end before it
  bool operator==(const doc_field&) const = default;
};

// One row of a command table.
struct command_row {
  std::string number;             // the "#" column
  std::vector<doc_field> fields;  // the "Fields" column, parsed
};

// One markdown table: its header cells and its rows' cells.
struct table {
  std::vector<std::string> header;             // column titles
  std::vector<std::vector<std::string>> rows;  // cells of each row
};

std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line.substr(1));
  for (std::string cell; std::getline(in, cell, '|');) {
    const auto first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
    cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  return cells;
}

std::vector<table> tables_of(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::vector<table> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("|", 0) != 0) { inside = false; continue; }
    if (!inside) out.push_back({cells_of(line), {}}), inside = true;
    else if (line.rfind("|---", 0) != 0) out.back().rows.push_back(cells_of(line));
  }
  return out;
}

int column(const table& t, const std::string& title) {
  for (std::size_t i = 0; i < t.header.size(); ++i)
    if (t.header[i] == title) return static_cast<int>(i);
  return -1;
}

// One backquoted name in a text (lower case and '_' only), where it starts and
// ends, and the word right after it ("str" in "`id` str, ...").
struct quoted {
  std::string name;       // between the backquotes
  std::size_t begin = 0;  // offset of the opening backquote
  std::size_t end = 0;    // offset just past the word after it (or the closing backquote)
  std::string next;       // the lower-case word after one space; "" when there is none
};

std::vector<quoted> backquoted(const std::string& text) {
  const auto name_char = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  std::vector<quoted> out;
  for (std::size_t open = text.find('`'); open != std::string::npos; open = text.find('`', open + 1)) {
    const std::size_t close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    const std::string name = text.substr(open + 1, close - open - 1);
    if (name.empty() || !std::all_of(name.begin(), name.end(), name_char)) continue;
    quoted q{name, open, close + 1, ""};
    if (close + 1 < text.size() && text[close + 1] == ' ') {
      std::size_t w = close + 2;
      while (w < text.size() && text[w] >= 'a' && text[w] <= 'z') ++w;
      q.next = text.substr(close + 2, w - close - 2);
      if (!q.next.empty()) q.end = w;
    }
    out.push_back(std::move(q));
    open = close;
  }
  return out;
}

// Fields of a "Fields" cell: `name` type ...; "optional" in the text up to the next field marks it.
std::vector<doc_field> fields_of(const std::string& cell) {
  static const std::vector<std::string> types{"str", "int", "bool", "array", "map"};
  std::vector<quoted> found;
  for (auto& q : backquoted(cell))
    if (std::find(types.begin(), types.end(), q.next) != types.end()) found.push_back(std::move(q));
  std::vector<doc_field> out;
  for (std::size_t k = 0; k < found.size(); ++k) {
    const std::size_t to = k + 1 < found.size() ? found[k + 1].begin : cell.size();
    const bool optional = cell.substr(found[k].end, to - found[k].end).find("optional") != std::string::npos;
    out.push_back({found[k].name, found[k].next, optional});
  }
  return out;
}

// Every row of every command table, by command name.
std::multimap<std::string, command_row> command_rows(const std::vector<table>& tables) {
  std::multimap<std::string, command_row> out;
  for (const table& t : tables) {
    const int num = column(t, "#"), name = column(t, "Command"), fields = column(t, "Fields");
    if (num < 0 || name < 0 || fields < 0) continue;
    for (const auto& row : t.rows) {
      if (static_cast<int>(row.size()) <= fields) continue;
      out.insert({row[name], {row[num], fields_of(row[fields])}});
    }
  }
  return out;
}

// The spec's word for a model value type.
template <class T> std::string type_word() {
  if constexpr (std::is_same_v<T, std::string>) return "str";
  else if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_unsigned_v<T> || std::is_enum_v<T>) return "int";
  else return "array";
}

// A message's header fields as the spec lists them; groups (READY's capabilities) are flattened.
template <class T> std::vector<doc_field> model_fields() {
  std::vector<doc_field> out;
  each_header_field<T>([&out](const field& f, const auto& v, bool may_be_absent) {
    using V = std::remove_cvref_t<decltype(v)>;
    if constexpr (map_ref<V>) out.push_back({f.name, "map", may_be_absent});
    else out.push_back({f.name, type_word<V>(), may_be_absent});
  });
  return out;
}

// A map struct's keys (the STATUS_REPLY snapshot, one worker's entry) as the spec lists them.
template <class S> std::vector<doc_field> model_keys() {
  std::vector<doc_field> out;
  S s{};
  S::each_key(s, [&out](const field& f, const auto& v) {
    out.push_back({f.name, type_word<std::remove_cvref_t<decltype(v)>>(), f.when != presence::required});
  });
  return out;
}

std::string describe(const std::vector<doc_field>& fields) {
  std::string out;
  for (const auto& f : fields) out += "`" + f.name + "` " + f.type + (f.optional ? " (optional)" : "") + ", ";
  return out;
}

template <class T> void check_command(const std::multimap<std::string, command_row>& rows) {
  const std::string name = T::wire_name;
  CAPTURE(name);
  const auto [first, last] = rows.equal_range(name);
  CHECK_MESSAGE(first != last, "docs/protocol.md has no table row for " << name);
  const auto want = model_fields<T>();
  for (auto it = first; it != last; ++it) {
    CHECK(it->second.number == std::to_string(static_cast<unsigned>(T::wire_command)));
    CHECK_MESSAGE(it->second.fields == want, "documented: " << describe(it->second.fields) << "\nmodel:      " << describe(want));
  }
}

template <std::size_t... I> void check_commands(const std::multimap<std::string, command_row>& rows, std::index_sequence<I...>) {
  (check_command<std::variant_alternative_t<I, body>>(rows), ...);
}

// Keys in the first column of the table with these column titles, with the type column if it has one.
std::vector<doc_field> keys_of(const std::vector<table>& tables, const std::vector<std::string>& header) {
  for (const table& t : tables) {
    if (t.header != header) continue;
    std::vector<doc_field> out;
    for (const auto& row : t.rows)
      for (const auto& q : backquoted(row[0])) out.push_back({q.name, header.size() == 3 ? row[1] : "", false});
    return out;
  }
  FAIL("docs/protocol.md has no table with these columns");
  return {};
}

std::vector<table> spec() {
  const char* path = std::getenv("ARGON_PROTOCOL_DOC");
  REQUIRE_MESSAGE(path != nullptr, "set ARGON_PROTOCOL_DOC to the path of docs/protocol.md");
  return tables_of(path);
}

// The backquoted names in docs/operations.md's paragraph on `argon status`,
// split where it turns to --workers: {snapshot keys, worker keys}.
std::pair<std::vector<std::string>, std::vector<std::string>> status_paragraph() {
  const char* path = std::getenv("ARGON_OPERATIONS_DOC");
  REQUIRE_MESSAGE(path != nullptr, "set ARGON_OPERATIONS_DOC to the path of docs/operations.md");
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::string line, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.starts_with("`status` prints one JSON object:")) inside = true;
    if (inside && line.empty()) break;
    if (inside) text += line + " ";
  }
  REQUIRE_MESSAGE(!text.empty(), "docs/operations.md has no paragraph starting \"`status` prints one JSON object:\"");
  const auto turn = text.find("With `--workers`");
  REQUIRE(turn != std::string::npos);
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  for (const auto& q : backquoted(text)) {
    if (q.name == "status" || q.name == "worker_list") continue;
    (q.begin < turn ? out.first : out.second).push_back(q.name);
  }
  return out;
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("every command of the model is documented with its number and its fields, in wire order") {
  const auto rows = command_rows(spec());
  check_commands(rows, std::make_index_sequence<std::variant_size_v<body>>{});
  for (const auto& [name, row] : rows) {
    const auto number = std::stoull(row.number);
    const bool known = body_index(number) < std::variant_size_v<body> && name == command_name(static_cast<command>(number));
    CHECK_MESSAGE(known, "docs/protocol.md documents " << name << " (#" << row.number << "), which the model does not have");
  }
}

TEST_CASE("the STATUS_REPLY snapshot and worker keys are documented in the model's order") {
  const auto tables = spec();
  std::vector<std::string> snapshot, documented;
  for (const auto& f : model_keys<status_reply_msg>()) snapshot.push_back(f.name);
  for (const auto& f : keys_of(tables, {"Key", "Meaning"})) documented.push_back(f.name);
  CHECK(documented == snapshot);
  auto workers = model_keys<worker_status>();
  for (auto& f : workers) f.optional = false;
  const auto listed = keys_of(tables, {"Key", "Type", "Meaning"});
  CHECK_MESSAGE(listed == workers, "documented: " << describe(listed) << "\nmodel:      " << describe(workers));
}

TEST_CASE("docs/operations.md names the keys argon status prints, in the model's order") {
  const auto [snapshot, workers] = status_paragraph();
  std::vector<std::string> model_snapshot, model_workers;
  for (const auto& f : model_keys<status_reply_msg>()) model_snapshot.push_back(f.name);
  for (const auto& f : model_keys<worker_status>()) model_workers.push_back(f.name);
  CHECK(snapshot == model_snapshot);
  CHECK(workers == model_workers);
}

TEST_CASE("the parser reads a fields cell the way the spec writes one") {
  const auto f = fields_of("`id` str, `n` int (0–100; 0 is read as 1), `argv` array of str (optional; task `exec` only)");
  CHECK(f == std::vector<doc_field>{{"id", "str", false}, {"n", "int", false}, {"argv", "array", true}});
}
}
