#include "syntax/parser.h"

#include <algorithm>
#include <string_view>

#include <antlr4-runtime.h>
#include <fmt/format.h>

#include "GopsLexer.h"
#include "GopsParser.h"
#include "support/text.h"
#include "syntax/lexing.h"
#include "syntax/parse_state.h"

namespace gops::syntax {

using grammar::GopsLexer;
using grammar::GopsParser;

bool FileState::countError() {
  if (errors >= limits.maxErrors) return false;
  ++errors;
  if (errors == limits.maxErrors) {
    diags.report(diag::Code::SyntaxError, {file.id(), static_cast<std::uint32_t>(file.text().size()),
                                           static_cast<std::uint32_t>(file.text().size())},
                 fmt::format("too many syntax errors in `{}`; stopped after {}", file.path(), limits.maxErrors));
    throw TooManyErrors{};
  }
  return true;
}

namespace {

/// Whether an ERROR_CHAR token is a byte that is not UTF-8 (LexedInput turned it into
/// U+FFFD), rather than a character that is not gops.
bool invalidByte(const FileState& st, const antlr4::Token* t) {
  SourceRange r = st.range(t);
  return r.end == r.begin + 1 && static_cast<unsigned char>(st.file.text()[r.begin]) >= 0x80;
}

/// Reports lexical problems and prepares the token list the parser sees: invalid
/// characters and unterminated comments are dropped (after being reported),
/// unterminated strings become strings, comments are kept for the AST.
void screenTokens(FileState& st, std::vector<std::unique_ptr<antlr4::Token>>& tokens, ast::File& out) {
  std::vector<std::unique_ptr<antlr4::Token>> kept;
  kept.reserve(tokens.size());
  FileId fid = st.file.id();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto& t = tokens[i];
    switch (t->getType()) {
      case GopsLexer::ERROR_CHAR: {
        // A byte that is not UTF-8 is covered by the file's E0005; drop it quietly.
        if (invalidByte(st, t.get())) break;
        // One diagnostic for a run of adjacent invalid characters.
        SourceRange r = st.range(t.get());
        std::size_t j = i;
        while (j + 1 < tokens.size() && tokens[j + 1]->getType() == GopsLexer::ERROR_CHAR && !invalidByte(st, tokens[j + 1].get()) &&
               st.range(tokens[j + 1].get()).begin == r.end) {
          ++j;
          r.end = st.range(tokens[j].get()).end;
        }
        std::string_view shown = std::string_view(st.file.text()).substr(r.begin, r.end - r.begin);
        if (st.countError()) {
          bool printable = std::all_of(shown.begin(), shown.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; });
          std::string what;
          if (printable && shown.size() <= 16) {
            what = fmt::format("invalid character{} `{}`", j > i ? "s" : "", shown);
          } else if (shown.size() <= 4) {
            // Control characters: show their codes, not the raw bytes.
            std::vector<std::string> hex;
            for (char c : shown) hex.push_back(fmt::format("0x{:02X}", static_cast<unsigned char>(c)));
            what = fmt::format("invalid byte{} `{}`", shown.size() > 1 ? "s" : "", fmt::join(hex, " "));
          } else {
            what = fmt::format("{} invalid characters", j - i + 1);
          }
          auto b = st.diags.report(diag::Code::InvalidCharacter, r, fmt::format("{} in gops source", what), "not part of the language");
          if (shown == "'") b.help("strings use double quotes: \"...\"");
          else if (shown == ";") b.help("gops needs no `;`: separate attributes with spaces or new lines");
          else if (shown == ":") b.help("attributes are set with `=`, as in `port = 8080`").fix("write `=`", r, "=");
          else if (shown == "#") b.help("comments start with `//`");
        }
        if (shown == ":") {
          // `port: 8080` means `port = 8080`; parse it so, instead of reporting the
          // missing `=` a second time.
          if (auto* ct = dynamic_cast<antlr4::CommonToken*>(tokens[j].get())) {
            ct->setType(GopsLexer::ASSIGN);
            kept.push_back(std::move(tokens[j]));
          }
        } else if (!shown.empty() && shown.front() == '#') {
          // A `#` comment: the rest of its line is not gops either.
          std::size_t line = tokens[j]->getLine();
          while (j + 1 < tokens.size() && tokens[j + 1]->getLine() == line) ++j;
        }
        i = j;
        break;
      }
      case GopsLexer::UNTERMINATED_COMMENT:
        if (st.countError()) {
          SourceRange r = st.range(t.get());
          st.diags.report(diag::Code::UnterminatedComment, {fid, r.begin, r.begin + 2}, "unterminated block comment: `/*` without `*/`",
                          "comment starts here")
              .help("close the comment with `*/`");
        }
        break;
      case GopsLexer::UNTERMINATED_STRING: {
        if (st.countError()) {
          SourceRange r = st.range(t.get());
          auto b = st.diags.report(diag::Code::UnterminatedString, r, "unterminated string: the line ends before the closing `\"`",
                                   "string starts here");
          b.help("add `\"` at the end of the string; strings cannot span lines (write `\\n` for a line break)");
          if (t->getText().find('}') != std::string::npos) {
            // The `}` is inside the string now; the block it closes would be reported
            // as unclosed at the end of the file, far from the real mistake.
            st.stringAteBrace = true;
            b.note("the `}` after the quote is part of the string, so the block it should close is still open");
          }
        }
        auto* ct = dynamic_cast<antlr4::CommonToken*>(t.get());
        if (ct) ct->setType(GopsLexer::STRING);
        kept.push_back(std::move(t));
        break;
      }
      case GopsLexer::LINE_COMMENT:
      case GopsLexer::DOC_COMMENT:
      case GopsLexer::BLOCK_COMMENT:
        out.comments.push_back({st.range(t.get()), t->getText(), t->getType() == GopsLexer::BLOCK_COMMENT});
        kept.push_back(std::move(t));
        break;
      default:
        kept.push_back(std::move(t));
    }
  }
  tokens = std::move(kept);
}

/// Refuses input nested deeper than the limit before the recursive parser sees it.
bool checkDepth(FileState& st, const std::vector<std::unique_ptr<antlr4::Token>>& tokens) {
  unsigned depth = 0;
  for (const auto& t : tokens) {
    switch (t->getType()) {
      case GopsLexer::LBRACE: case GopsLexer::LBRACK: case GopsLexer::LPAREN:
        if (++depth > st.limits.maxDepth) {
          st.diags.report(diag::Code::NestingTooDeep, st.range(t.get()),
                          fmt::format("nesting deeper than {} levels; the file is not parsed", st.limits.maxDepth),
                          "too deep here")
              .help("a gops spec needs only a few levels of `{ }`, `[ ]` and `( )`");
          return false;
        }
        break;
      case GopsLexer::RBRACE: case GopsLexer::RBRACK: case GopsLexer::RPAREN:
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

void attachDocComments(const SourceFile& file, ast::File& out) {
  // A declaration's doc is the run of `///` comments on the lines right above it.
  std::size_t ci = 0;
  for (auto& d : out.decls) {
    std::vector<const ast::Comment*> run;
    std::uint32_t expectLine = 0;
    while (ci < out.comments.size() && out.comments[ci].range.begin < d.range.begin) {
      const auto& c = out.comments[ci++];
      std::uint32_t line = file.lineCol(c.range.begin).line;
      if (!startsWith(c.text, "///") || (expectLine && line != expectLine)) run.clear();
      if (startsWith(c.text, "///")) run.push_back(&c);
      expectLine = line + 1;
    }
    if (!run.empty() && file.lineCol(d.range.begin).line == expectLine) {
      for (const auto* c : run) {
        std::string_view t(c->text);
        t.remove_prefix(3);
        if (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        if (!d.doc.empty()) d.doc += '\n';
        d.doc += t;
      }
    }
  }
}

/// ANTLR's objects of one parse, in the order they depend on each other (members are
/// destroyed in reverse: the parser and its tree first, the input last).
struct AntlrState {
  explicit AntlrState(std::string_view text) : input(text), lexer(&input.stream()) {}
  LexedInput input;
  GopsLexer lexer;
  TokenArena arena;  ///< the tokens: after everything that holds them, so freed last
  std::unique_ptr<antlr4::ListTokenSource> source;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
  std::unique_ptr<GopsParser> parser;
};

}  // namespace

void ParseResidue::keep(std::shared_ptr<void> part) {
  std::lock_guard<std::mutex> lock(mutex_);
  parts_.push_back(std::move(part));
}

std::size_t ParseResidue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return parts_.size();
}

ast::File parseFile(const SourceFile& file, diag::DiagnosticEngine& diags, const ParseLimits& limits, ParseResidue* residue) {
  ast::File out;
  out.file = file.id();
  std::size_t errorsBefore = diags.errorCount();

  // A NUL byte never occurs in a text file: this is a binary file (or UTF-16 text).
  // Parsing it would only bury this one fact under pages of syntax errors.
  if (auto nul = file.text().find('\0'); nul != std::string::npos) {
    auto off = static_cast<std::uint32_t>(nul);
    diags.report(diag::Code::InvalidUtf8, {file.id(), off, off + 1},
                 fmt::format("`{}` is not a UTF-8 text file: it contains a NUL byte at offset {}", file.path(), off), "NUL byte")
        .help("gops specs are UTF-8 text; if this file is one, save it as UTF-8 (not UTF-16)");
    out.syntaxOk = false;
    return out;
  }

  auto state = std::make_shared<AntlrState>(file.text());
  LexedInput& input = state->input;
  if (auto bad = firstInvalidUtf8(file.text())) {
    auto off = static_cast<std::uint32_t>(*bad);
    diags.report(diag::Code::InvalidUtf8, {file.id(), off, off + 1},
                 fmt::format("`{}` is not valid UTF-8 (first bad byte at offset {})", file.path(), off), "invalid byte")
        .help("save the file as UTF-8");
  }

  FileState st{file, input, diags, limits};
  try {
    GopsLexer& lexer = state->lexer;
    lexer.removeErrorListeners();
    std::vector<std::unique_ptr<antlr4::Token>> tokens = scanTokens(input, &lexer, state->arena);
    screenTokens(st, tokens, out);
    if (!checkDepth(st, tokens)) {
      out.syntaxOk = false;
      return out;
    }
    if (tokens.empty()) {  // an empty file (or only invalid characters): nothing to parse
      out.syntaxOk = diags.errorCount() == errorsBefore;
      return out;
    }
    state->source = std::make_unique<antlr4::ListTokenSource>(std::move(tokens));
    state->tokens = std::make_unique<antlr4::CommonTokenStream>(state->source.get());
    antlr4::CommonTokenStream& tokenStream = *state->tokens;
    tokenStream.fill();
    st.tokens = &tokenStream;

    state->parser = std::make_unique<GopsParser>(&tokenStream);
    GopsParser& parser = *state->parser;
    parser.removeErrorListeners();
    // Two-stage parsing: fast SLL prediction that bails on the first error, then full
    // LL with error recovery only for files that need it.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    GopsParser::FileContext* tree = nullptr;
    try {
      tree = parser.file();
    } catch (const antlr4::ParseCancellationException&) {
      tokenStream.seek(0);
      parser.reset();
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
      parser.setErrorHandler(makeErrorStrategy(st));
      tree = parser.file();
    }
    buildAst(st, tree, out);
    attachDocComments(file, out);
  } catch (const TooManyErrors&) {
    // Already reported; keep what was built.
  }
  out.syntaxOk = diags.errorCount() == errorsBefore;
  if (residue) residue->keep(std::move(state));
  return out;
}

}  // namespace gops::syntax
