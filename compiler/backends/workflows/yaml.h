#pragma once
/// A small, deterministic YAML writer for the generated GitHub Actions workflows.
/// It writes block style only (maps in insertion order, `- ` sequences, `|` block
/// scalars for multi-line text) and quotes every string scalar that a YAML 1.1 or
/// 1.2 reader could take for something else: booleans (`on`, `yes`, `off`, ...),
/// null, numbers, dates, strings starting with an indicator (`-`, `*`, `&`, `[`,
/// ...), containing `: ` or ` #`, or anything outside a conservative set of plain
/// characters. Quoted strings use double quotes with backslash escapes.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gops::backend::yaml {

class Node {
 public:
  enum class Kind { Scalar, Map, Seq };

  Node() : kind_(Kind::Map) {}
  Node(const char* s) : kind_(Kind::Scalar), text_(s) {}  // NOLINT: implicit on purpose
  Node(std::string s) : kind_(Kind::Scalar), text_(std::move(s)) {}  // NOLINT
  Node(std::string_view s) : kind_(Kind::Scalar), text_(s) {}  // NOLINT
  Node(int n) : kind_(Kind::Scalar), text_(std::to_string(n)), literal_(true) {}  // NOLINT
  Node(bool b) : kind_(Kind::Scalar), text_(b ? "true" : "false"), literal_(true) {}  // NOLINT

  static Node map() { return Node(); }
  static Node seq() {
    Node n;
    n.kind_ = Kind::Seq;
    return n;
  }

  Kind kind() const { return kind_; }
  /// The entry `key` of a map, appended (as an empty map) when missing.
  Node& operator[](std::string_view key);
  /// Appends to a sequence; returns the new item.
  Node& add(Node item);
  /// A comment written after a scalar on its line (`uses: x@sha # v1.2.3`).
  Node& comment(std::string text) {
    comment_ = std::move(text);
    return *this;
  }

  const std::string& text() const { return text_; }
  bool literal() const { return literal_; }
  const std::string& trailingComment() const { return comment_; }
  const std::vector<std::pair<std::string, Node>>& entries() const { return entries_; }
  const std::vector<Node>& items() const { return items_; }

 private:
  Kind kind_;
  std::string text_;      ///< Scalar
  bool literal_ = false;  ///< a number or boolean written as is
  std::string comment_;
  std::vector<std::pair<std::string, Node>> entries_;  ///< Map
  std::vector<Node> items_;                            ///< Seq
};

/// Whether a one-line string must be quoted to be read back as that string.
bool needsQuotes(std::string_view s);
/// `s` as a double-quoted YAML scalar, with escapes.
std::string doubleQuoted(std::string_view s);
/// `s` as a scalar on one line: plain when that is safe, else double-quoted.
std::string scalar(std::string_view s);

/// The document: `header` lines as `# ` comments, then `root` (a map).
std::string emit(const Node& root, const std::vector<std::string>& header = {});

}  // namespace gops::backend::yaml
