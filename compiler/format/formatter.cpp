#include "format/formatter.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/text.h"

namespace gops::format {

namespace {

// How formatting works: the AST is printed into a list of output lines (a Doc), in
// source order. Comments are not part of the tree, so one cursor walks
// `File::comments` alongside: every comment is taken exactly once, by the first
// construct that reaches past it, and printed either
//   - on the line of the code it follows (a trailing comment: code before it and
//     nothing but comments after it on its source line),
//   - on lines of its own above the next statement or declaration (leading comments,
//     end-of-block and end-of-file comments), or
//   - hoisted above the statement it sits inside (`a = /* x */ 1`), the rare case.
// Because the cursor only moves forward and the end of the file takes whatever is
// left, no comment is lost or printed twice.

/// One output line. Indentation, alignment padding and the trailing comment's column
/// are applied when the Doc is turned into text, so lines can still be edited.
struct Line {
  explicit Line(unsigned level, std::string text = {}) : indent(level), code(std::move(text)) {}

  unsigned indent = 0;   ///< nesting level, 2 spaces each
  std::string code;      ///< the text after the indentation; never ends in a space
  std::string comment;   ///< trailing comment(s), joined by one space; empty if none
  std::uint32_t commentColumn = 0;  ///< 1-based column the trailing comment had in the source
  bool blankBefore = false;         ///< print one empty line before this one
};
using Doc = std::vector<Line>;

/// What alignment may do with a statement's first line.
enum class Align { None, Attr, Block };

/// A statement or declaration printed on its own, before it is placed in its body.
struct Rendered {
  std::vector<std::string> lead;  ///< comments found inside it, printed on lines above it
  Doc lines;                      ///< the code; lines[0] starts with the name
  std::size_t nameLen = 0;        ///< bytes of the name alignment pads (names are ASCII)
  Align align = Align::None;
};

/// Where the previous element of a body ended, to keep (collapsed) blank lines.
struct Spacing {
  bool first = true;           ///< nothing printed in this body yet: never a blank line
  std::uint32_t lastLine = 0;  ///< source line the previous element ended on
};

/// A statement of a multi-line body, for alignment.
struct Entry {
  std::size_t firstLine;  ///< index of the statement's first code line in the body's Doc
  std::size_t lineCount;
  std::size_t nameLen;
  Align align;
  bool breakBefore;  ///< a blank line or a comment-only line precedes it
};

/// Units printed after a space whichever way they were written (`512MiB` -> `512 MiB`).
/// All of them are UNIT tokens, so the spaced form lexes to the same number.
bool alwaysSpacedUnit(std::string_view u) {
  return u == "KiB" || u == "MiB" || u == "GiB" || u == "TiB" || u == "vcpu";
}

/// A comment's text without trailing blanks on any of its lines and without CRs.
std::string commentText(const ast::Comment& c) {
  std::string out;
  out.reserve(c.text.size());
  auto trimTail = [&] {
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t' || out.back() == '\r' || out.back() == '\f')) out.pop_back();
  };
  for (char ch : c.text) {
    if (ch == '\n') trimTail();
    if (ch != '\r') out += ch;
  }
  trimTail();
  return out;
}

class Formatter {
 public:
  Formatter(const SourceFile& file, const ast::File& tree) : src_(file), text_(file.text()), comments_(tree.comments), tree_(tree) {
    lineStarts_.push_back(0);
    for (std::uint32_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') lineStarts_.push_back(i + 1);
    }
    computeCodeAfter();
  }

  std::string run() {
    Doc doc;
    sequence(tree_.decls, std::numeric_limits<std::uint32_t>::max(), 0, doc, false,
             [&](const ast::Decl& d) { return decl(d); });
    return render(doc);
  }

 private:
  // --- Positions and comments -------------------------------------------------

  std::uint32_t lineOf(std::uint32_t offset) const {
    auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
    return static_cast<std::uint32_t>(it - lineStarts_.begin());
  }
  std::uint32_t endLineOf(SourceRange r) const { return lineOf(r.end > r.begin ? r.end - 1 : r.begin); }

  /// codeAfter_[i]: code (not just comments) follows comment i on the line it ends on.
  void computeCodeAfter() {
    codeAfter_.assign(comments_.size(), false);
    for (std::size_t i = comments_.size(); i-- > 0;) {
      std::uint32_t p = comments_[i].range.end;
      while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\r' || text_[p] == '\f')) ++p;
      if (p >= text_.size() || text_[p] == '\n') continue;
      if (i + 1 < comments_.size() && comments_[i + 1].range.begin == p) {
        codeAfter_[i] = codeAfter_[i + 1];
      } else {
        codeAfter_[i] = true;
      }
    }
  }

  /// Whether any comment starts inside [begin, end).
  bool hasCommentIn(std::uint32_t begin, std::uint32_t end) const {
    auto it = std::lower_bound(comments_.begin(), comments_.end(), begin,
                               [](const ast::Comment& c, std::uint32_t b) { return c.range.begin < b; });
    return it != comments_.end() && it->range.begin < end;
  }

  bool pending(std::uint32_t limit) const { return next_ < comments_.size() && comments_[next_].range.begin < limit; }

  /// Takes the next comment and those that start on the line it ends on (before
  /// `limit`), joined by one space: one printed line's worth of comments.
  std::string takeRun(std::uint32_t limit, std::uint32_t& endLine) {
    std::string text = commentText(comments_[next_]);
    endLine = endLineOf(comments_[next_].range);
    ++next_;
    while (pending(limit) && lineOf(comments_[next_].range.begin) == endLine) {
      text += ' ';
      text += commentText(comments_[next_]);
      endLine = endLineOf(comments_[next_].range);
      ++next_;
    }
    return text;
  }

  /// Prints the comments before `limit` on lines of their own. Returns whether there were any.
  bool ownLineComments(std::uint32_t limit, unsigned indent, Doc& out, Spacing& sp, bool keepBlank = true) {
    bool any = false;
    while (pending(limit)) {
      std::uint32_t startLine = lineOf(comments_[next_].range.begin);
      std::uint32_t endLine = 0;
      Line line{indent, takeRun(limit, endLine)};
      line.blankBefore = keepBlank && !sp.first && startLine > sp.lastLine + 1;
      out.push_back(std::move(line));
      sp.first = false;
      sp.lastLine = endLine;
      any = true;
    }
    return any;
  }

  /// Attaches the comments that end the source line of the code ending at `codeEnd`
  /// (and start before `limit`) to `line` as its trailing comment.
  void trailing(std::uint32_t codeEnd, std::uint32_t limit, Line& line, Spacing* sp) {
    if (!pending(limit)) return;
    const ast::Comment& c = comments_[next_];
    if (c.range.begin < codeEnd || lineOf(c.range.begin) != lineOf(codeEnd) || codeAfter_[next_]) return;
    std::uint32_t column = src_.lineCol(c.range.begin).column;
    std::uint32_t endLine = 0;
    std::string text = takeRun(limit, endLine);
    if (line.comment.empty()) {
      line.comment = std::move(text);
      line.commentColumn = column;
    } else {
      line.comment += ' ' + text;
    }
    if (sp) sp->lastLine = std::max(sp->lastLine, endLine);
  }

  /// Moves the comments before `limit` above the statement being printed.
  void hoist(std::uint32_t limit) {
    std::uint32_t endLine = 0;
    while (pending(limit)) hoisted_.push_back(takeRun(limit, endLine));
  }

  // --- Sequences of statements and declarations ---------------------------------

  /// Prints `items` one (or more) lines each at `indent`, with their leading and
  /// trailing comments, blank lines as written (collapsed to one, none first), and
  /// the comments before `close` after them. `align` lines up `=` in groups.
  template <class Item, class RenderFn>
  void sequence(const std::vector<Item>& items, std::uint32_t close, unsigned indent, Doc& out, bool align, RenderFn render) {
    Spacing sp;
    std::vector<Entry> entries;
    entries.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Item& item = items[i];
      std::size_t leadStart = out.size();
      bool commented = ownLineComments(item.range.begin, indent, out, sp);
      bool blank = !sp.first && lineOf(item.range.begin) > sp.lastLine + 1;
      Rendered r = render(item);
      std::size_t start = out.size();
      if constexpr (std::is_same_v<Item, ast::Decl>) {
        // Comments moved out of a declaration go above its `///` doc lines, so that the
        // doc stays attached to the declaration.
        if (!blank && !r.lead.empty()) {
          while (start > leadStart && startsWith(out[start - 1].code, "///") &&
                 (start == out.size() || !out[start].blankBefore)) {
            --start;
          }
        }
      }
      bool blankAtStart = start < out.size() ? out[start].blankBefore : blank;
      if (start < out.size()) out[start].blankBefore = false;
      std::vector<Line> moved;
      for (auto& text : r.lead) moved.push_back(Line{indent, std::move(text)});
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(start), std::make_move_iterator(moved.begin()),
                 std::make_move_iterator(moved.end()));
      entries.push_back({out.size(), r.lines.size(), r.nameLen, r.align, blank || commented || !r.lead.empty()});
      std::size_t first = out.size();
      for (auto& line : r.lines) out.push_back(std::move(line));
      if (start < first) out[start].blankBefore = blankAtStart;
      else out[first].blankBefore = blank;
      sp.first = false;
      sp.lastLine = endLineOf(item.range);
      std::uint32_t limit = i + 1 < items.size() ? items[i + 1].range.begin : close;
      trailing(item.range.end, limit, out.back(), &sp);
    }
    ownLineComments(close, indent, out, sp);
    if (align) alignGroups(entries, out);
  }

  /// Pads names so that `=` (and the `{` of a trailing run of one-line blocks) line up
  /// within each alignment group. A group is a maximal run of statements on
  /// consecutive lines (no blank or comment-only line between) that are attributes or
  /// one-line blocks of the body's trailing run of one-line blocks; an attribute printed
  /// over several lines is the last of its group. Groups without an attribute (only
  /// blocks) are not padded: blocks join the attributes above them, never each other.
  static void alignGroups(const std::vector<Entry>& es, Doc& out) {
    std::size_t n = es.size();
    std::size_t tail = n;  // first statement of the trailing run of one-line blocks
    while (tail > 0 && es[tail - 1].align == Align::Block && es[tail - 1].lineCount == 1) --tail;
    auto alignable = [&](std::size_t i) {
      return es[i].align == Align::Attr || (es[i].align == Align::Block && es[i].lineCount == 1 && i >= tail);
    };
    for (std::size_t i = 0; i < n;) {
      if (!alignable(i)) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (!(es[j].align == Align::Attr && es[j].lineCount > 1) && j + 1 < n && alignable(j + 1) && !es[j + 1].breakBefore) ++j;
      if (es[i].align == Align::Attr) {
        std::size_t width = 0;
        for (std::size_t k = i; k <= j; ++k) width = std::max(width, es[k].nameLen);
        for (std::size_t k = i; k <= j; ++k) out[es[k].firstLine].code.insert(es[k].nameLen, width - es[k].nameLen, ' ');
      }
      i = j + 1;
    }
  }

  // --- Declarations and statements -------------------------------------------

  Rendered decl(const ast::Decl& d) {
    std::vector<std::string> saved = std::exchange(hoisted_, {});
    Rendered r;
    r.lines.push_back(Line{0});
    std::string head = ast::declKeyword(d.kind);
    switch (d.kind) {
      case ast::DeclKind::App:
      case ast::DeclKind::Environment:
      case ast::DeclKind::Service:
      case ast::DeclKind::Job:
      case ast::DeclKind::Template:
        head += ' ' + d.name;
        if (!d.base.empty()) head += " extends " + d.base;
        r.lines.back().code = head;
        if (d.hasBody) {
          r.lines.back().code += ' ';
          hoist(d.bodyRange.begin);
          body(r.lines, d.body, d.bodyRange, d.singleLine);
        }
        break;
      case ast::DeclKind::Rollout:
        r.lines.back().code = head + ' ' + d.name + " = ";
        if (!d.value.empty()) {
          hoist(d.value.front().range.begin);
          value(r.lines, d.value.front());
        }
        break;
      case ast::DeclKind::Promote:
        r.lines.back().code = head + ' ' + d.name + " -> " + d.base;
        if (d.hasBody) {
          r.lines.back().code += ' ';
          hoist(d.bodyRange.begin);
          body(r.lines, d.body, d.bodyRange, d.singleLine);
        }
        break;
      case ast::DeclKind::Import:
        r.lines.back().code = head + ' ' + std::string(sourceText(d.nameRange));
        break;
    }
    hoist(d.range.end);
    r.lead = std::exchange(hoisted_, std::move(saved));
    return r;
  }

  Rendered stmt(const ast::Stmt& s, unsigned indent) {
    std::vector<std::string> saved = std::exchange(hoisted_, {});
    Rendered r;
    r.lines.push_back(Line{indent});
    auto code = [&]() -> std::string& { return r.lines.back().code; };
    auto valueAt = [&](std::size_t i) {
      hoist(s.values[i].range.begin);
      value(r.lines, s.values[i]);
    };
    switch (s.kind) {
      case ast::StmtKind::Attr:
        r.align = Align::Attr;
        r.nameLen = s.name.size();
        code() = s.name + " = ";
        if (!s.values.empty()) valueAt(0);
        break;
      case ast::StmtKind::Block:
        // A named block (`sidecar envoy { }`) is not aligned with its neighbours.
        r.align = s.label.empty() ? Align::Block : Align::None;
        r.nameLen = s.name.size();
        code() = s.name + ' ' + (s.label.empty() ? std::string() : s.label + ' ');
        hoist(s.bodyRange.begin);
        body(r.lines, s.body, s.bodyRange, s.singleLine);
        break;
      case ast::StmtKind::Clause:
        // `allow [...] on [...]`: the list, then each word and its value.
        code() = s.name + ' ';
        if (!s.values.empty()) valueAt(0);
        for (std::size_t i = 0; i < s.words.size() && i + 1 < s.values.size(); ++i) {
          code() += ' ' + s.words[i] + ' ';
          valueAt(i + 1);
        }
        break;
      case ast::StmtKind::Override:
        code() = "in " + s.name + ' ';
        hoist(s.bodyRange.begin);
        body(r.lines, s.body, s.bodyRange, s.singleLine);
        break;
      case ast::StmtKind::Step:
        code() = "step ";
        if (s.values.size() > 0) valueAt(0);
        code() += ' ' + s.op + ' ';
        if (s.values.size() > 1) valueAt(1);
        break;
      case ast::StmtKind::Rollback:
        // values: [metric, threshold (Error when there is no comparison), duration?]
        code() = "rollback when ";
        if (!s.values.empty()) valueAt(0);
        if (!s.op.empty() && s.values.size() > 1) {
          code() += ' ' + s.op + ' ';
          valueAt(1);
        }
        if (s.values.size() > 2) {
          code() += " for ";
          valueAt(2);
        }
        break;
    }
    hoist(s.range.end);
    r.lead = std::exchange(hoisted_, std::move(saved));
    return r;
  }

  /// Appends a `{ ... }` body to the last line of `d` (whose indentation is the body's).
  void body(Doc& d, const std::vector<ast::Stmt>& stmts, SourceRange range, bool singleLine) {
    unsigned base = d.back().indent;
    bool commented = hasCommentIn(range.begin, range.end);
    if (!commented && stmts.empty()) {
      d.back().code += "{}";
      return;
    }
    if (!commented && singleLine) {
      d.back().code += "{ ";
      for (std::size_t i = 0; i < stmts.size(); ++i) {
        if (i > 0) d.back().code += "  ";
        Rendered r = stmt(stmts[i], base + 1);
        for (auto& text : r.lead) hoisted_.push_back(std::move(text));  // cannot happen: no comments here
        join(d, std::move(r.lines));
      }
      d.back().code += " }";
      return;
    }
    std::uint32_t close = range.end > range.begin ? range.end - 1 : range.begin;
    d.back().code += '{';
    trailing(range.begin + 1, stmts.empty() ? close : stmts.front().range.begin, d.back(), nullptr);
    sequence(stmts, close, base + 1, d, true, [&](const ast::Stmt& s) { return stmt(s, base + 1); });
    d.push_back(Line{base, "}"});
  }

  /// Appends `src` to `d`: its first line continues d's last line.
  static void join(Doc& d, Doc&& src) {
    if (src.empty()) return;
    d.back().code += src.front().code;
    if (!src.front().comment.empty()) {
      d.back().comment = std::move(src.front().comment);
      d.back().commentColumn = src.front().commentColumn;
    }
    for (std::size_t i = 1; i < src.size(); ++i) d.push_back(std::move(src[i]));
  }

  // --- Values ------------------------------------------------------------------

  std::string_view sourceText(SourceRange r) const {
    if (!r.valid() || r.begin > r.end || r.end > text_.size()) return {};
    return std::string_view(text_).substr(r.begin, r.end - r.begin);
  }

  /// Appends a value to the last line of `d`; lists, calls and objects that need more
  /// lines indent relative to that line.
  void value(Doc& d, const ast::Value& v) {
    switch (v.kind) {
      case ast::ValueKind::String:
        d.back().code += '"' + v.text + '"';
        break;
      case ast::ValueKind::Number:
        d.back().code += v.text;
        if (!v.unit.empty()) {
          if (v.unitSpaced || alwaysSpacedUnit(v.unit)) d.back().code += ' ';
          d.back().code += v.unit;
        }
        break;
      case ast::ValueKind::Dotted:
      case ast::ValueKind::Bool:
      case ast::ValueKind::Ref:
        d.back().code += v.text;
        break;
      case ast::ValueKind::List:
        bracketed(
            d, "[", "]", v.range, v.range.begin + 1, v.items, [](const ast::Value& item) { return item.range; },
            [&](Doc& out, const ast::Value& item) { value(out, item); });
        break;
      case ast::ValueKind::Call:
        d.back().code += v.text;
        bracketed(
            d, "(", ")", v.range, v.nameRange.end, v.args,
            [](const ast::Arg& a) {
              SourceRange r = a.value.empty() ? a.nameRange : a.value.front().range;
              if (!a.name.empty()) r.begin = a.nameRange.begin;
              return r;
            },
            [&](Doc& out, const ast::Arg& a) {
              if (!a.name.empty()) out.back().code += a.name + " = ";
              if (!a.value.empty()) value(out, a.value.front());
            });
        break;
      case ast::ValueKind::Object:
        if (!v.text.empty()) d.back().code += v.text + ' ';  // `{ spot = 70% }` has no name
        hoist(v.bodyRange.begin);
        body(d, v.body, v.bodyRange, v.singleLine);
        break;
      case ast::ValueKind::Sum:
        if (v.items.size() == 2) {
          value(d, v.items[0]);
          d.back().code += " + ";
          value(d, v.items[1]);
        }
        break;
      case ast::ValueKind::Error:
        // Only the comparison placeholder of `rollback when alarm(...)`, which is not printed.
        d.back().code += sourceText(v.range);
        break;
    }
  }

  /// A list or call's contents: on one line (`[a, b]`) unless a comment is inside,
  /// then one item per line with trailing commas and the comments kept.
  template <class Item, class RangeFn, class EmitFn>
  void bracketed(Doc& d, std::string_view open, std::string_view close, SourceRange range, std::uint32_t openEnd,
                 const std::vector<Item>& items, RangeFn rangeOf, EmitFn emit) {
    unsigned base = d.back().indent;
    d.back().code += open;
    if (!hasCommentIn(range.begin, range.end)) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) d.back().code += ", ";
        emit(d, items[i]);
      }
      d.back().code += close;
      return;
    }
    std::uint32_t closeAt = range.end > range.begin ? range.end - 1 : range.begin;
    trailing(openEnd, items.empty() ? closeAt : rangeOf(items.front()).begin, d.back(), nullptr);
    Spacing sp;
    for (std::size_t i = 0; i < items.size(); ++i) {
      SourceRange r = rangeOf(items[i]);
      ownLineComments(r.begin, base + 1, d, sp, false);
      d.push_back(Line{base + 1});
      emit(d, items[i]);
      d.back().code += ',';
      trailing(r.end, i + 1 < items.size() ? rangeOf(items[i + 1]).begin : closeAt, d.back(), nullptr);
      // An item that shared its source line with what came before moves to a line of
      // its own, so its comment's source column means nothing there.
      std::uint32_t before = i == 0 ? openEnd : rangeOf(items[i - 1]).end;
      if (lineOf(r.begin) == lineOf(before)) d.back().commentColumn = 0;
    }
    ownLineComments(closeAt, base + 1, d, sp, false);
    d.push_back(Line{base, std::string(close)});
  }

  // --- Output ------------------------------------------------------------------

  /// The text of a Doc: 2 spaces per level, one blank line where asked, a trailing
  /// comment at its source column if the code ends at least 2 columns before it
  /// (else 2 spaces after the code), LF line ends, one newline at the end.
  static std::string render(const Doc& doc) {
    std::string out;
    for (const Line& line : doc) {
      if (line.blankBefore && !out.empty()) out += '\n';
      std::size_t start = out.size();
      out.append(2 * static_cast<std::size_t>(line.indent), ' ');
      out += line.code;
      if (!line.comment.empty()) {
        std::size_t width = utf8Length(std::string_view(out).substr(start));
        std::size_t pad = 2;
        if (line.commentColumn > 0 && line.commentColumn - 1 >= width + 2) pad = line.commentColumn - 1 - width;
        out.append(pad, ' ');
        out += line.comment;
      }
      out += '\n';
    }
    return out;
  }

  const SourceFile& src_;
  const std::string& text_;
  const std::vector<ast::Comment>& comments_;
  const ast::File& tree_;
  std::vector<std::uint32_t> lineStarts_;  ///< byte offset of each line's start
  std::vector<bool> codeAfter_;
  std::size_t next_ = 0;               ///< the first comment not printed yet
  std::vector<std::string> hoisted_;   ///< comments to print above the statement being printed
};

}  // namespace

std::string formatFile(const SourceFile& file, const ast::File& tree) { return Formatter(file, tree).run(); }

}  // namespace gops::format
