#include "backends/workflows/yaml.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace gops::backend::yaml {

Node& Node::operator[](std::string_view key) {
  for (auto& [k, v] : entries_) {
    if (k == key) return v;
  }
  entries_.emplace_back(std::string(key), Node());
  return entries_.back().second;
}

Node& Node::add(Node item) {
  items_.push_back(std::move(item));
  return items_.back();
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Words some YAML reader resolves to a boolean, null or a special float.
bool reservedWord(std::string_view s) {
  static const std::array<std::string_view, 15> kWords = {"true", "false", "yes", "no", "on", "off", "y", "n",
                                                          "null", "~", ".inf", "-.inf", "+.inf", ".nan", "="};
  std::string l = lower(s);
  return std::find(kWords.begin(), kWords.end(), l) != kWords.end();
}

bool plainChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case ' ': case '_': case '-': case '.': case '/': case '@': case '$': case '{': case '}':
    case '(': case ')': case '\'': case '"': case '=': case ',': case '+': case ':': case '>': case '<':
    case '|': case '&': case '*': case '!': case '%': case ';':
      return true;
    default:
      return false;
  }
}

/// Printable text (no control characters but newline) that a block scalar can hold.
bool blockable(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.front() == '\n') return false;
  for (unsigned char c : s) {
    if (c == '\n') continue;
    if (c < 0x20 && c != '\t') return false;
    if (c == 0x7f) return false;
  }
  // A line of only spaces would be read back as an empty line.
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t nl = s.find('\n', start);
    std::string_view line = s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.find_first_not_of(' ') == std::string_view::npos) return false;
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return true;
}

std::string spaces(int n) { return std::string(static_cast<std::size_t>(n), ' '); }

void emitNode(const Node& n, int indent, std::string& out);

/// A scalar after `key:` or `-`: " value # comment\n", or a block scalar.
void emitScalarAfter(const Node& n, int indent, std::string& out) {
  const std::string& t = n.text();
  if (!n.literal() && t.find('\n') != std::string::npos && blockable(t)) {
    std::size_t trailing = 0;
    while (trailing < t.size() && t[t.size() - 1 - trailing] == '\n') ++trailing;
    out += trailing == 0 ? " |-" : trailing == 1 ? " |" : " |+";
    if (!n.trailingComment().empty()) out += " # " + n.trailingComment();
    out += "\n";
    std::string_view body(t);
    body.remove_suffix(trailing);
    std::size_t start = 0;
    while (true) {
      std::size_t nl = body.find('\n', start);
      std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      if (line.empty()) out += "\n";
      else out += spaces(indent + 2) + std::string(line) + "\n";
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    for (std::size_t i = 1; i < trailing; ++i) out += "\n";
    return;
  }
  out += " ";
  out += n.literal() ? t : scalar(t);
  if (!n.trailingComment().empty()) out += " # " + n.trailingComment();
  out += "\n";
}

void emitEntries(const Node& map, int indent, std::string& out) {
  for (const auto& [key, value] : map.entries()) {
    out += spaces(indent) + scalar(key) + ":";
    switch (value.kind()) {
      case Node::Kind::Scalar: emitScalarAfter(value, indent, out); break;
      case Node::Kind::Map:
        if (value.entries().empty()) {
          out += " {}\n";
        } else {
          out += "\n";
          emitEntries(value, indent + 2, out);
        }
        break;
      case Node::Kind::Seq:
        if (value.items().empty()) {
          out += " []\n";
        } else {
          out += "\n";
          emitNode(value, indent + 2, out);
        }
        break;
    }
  }
}

/// A sequence's items at `indent`.
void emitItems(const Node& seq, int indent, std::string& out) {
  for (const Node& item : seq.items()) {
    switch (item.kind()) {
      case Node::Kind::Scalar:
        out += spaces(indent) + "-";
        emitScalarAfter(item, indent, out);
        break;
      case Node::Kind::Map:
        if (item.entries().empty()) {
          out += spaces(indent) + "- {}\n";
        } else {
          std::string body;
          emitEntries(item, indent + 2, body);
          out += spaces(indent) + "- " + body.substr(static_cast<std::size_t>(indent + 2));
        }
        break;
      case Node::Kind::Seq:
        if (item.items().empty()) {
          out += spaces(indent) + "- []\n";
        } else {
          std::string body;
          emitItems(item, indent + 2, body);
          out += spaces(indent) + "- " + body.substr(static_cast<std::size_t>(indent + 2));
        }
        break;
    }
  }
}

void emitNode(const Node& n, int indent, std::string& out) {
  if (n.kind() == Node::Kind::Map) emitEntries(n, indent, out);
  else if (n.kind() == Node::Kind::Seq) emitItems(n, indent, out);
  else emitScalarAfter(n, indent, out);
}

}  // namespace

bool needsQuotes(std::string_view s) {
  if (s.empty() || reservedWord(s)) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  for (char c : s) {
    if (!plainChar(c)) return true;
  }
  // Indicators that may not start a plain scalar (of the allowed characters).
  const char first = s.front();
  if (std::string_view("-:{}'\",@=>|&*!%").find(first) != std::string_view::npos) return true;
  // Anything that starts like a number, date or time (1.5, 0x1F, 2024-01-01, 12:30, +1, .5).
  if (std::isdigit(static_cast<unsigned char>(first))) return true;
  if ((first == '+' || first == '.') && s.size() > 1 && std::isdigit(static_cast<unsigned char>(s[1]))) return true;
  if (s.find(": ") != std::string_view::npos) return true;
  return false;
}

std::string doubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string scalar(std::string_view s) { return needsQuotes(s) ? doubleQuoted(s) : std::string(s); }

std::string emit(const Node& root, const std::vector<std::string>& header) {
  std::string out;
  for (const auto& line : header) out += line.empty() ? "#\n" : "# " + line + "\n";
  emitNode(root, 0, out);
  return out;
}

}  // namespace gops::backend::yaml
