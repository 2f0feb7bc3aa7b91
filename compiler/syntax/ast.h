#pragma once
/// The gops abstract syntax tree: what a file says, with source ranges, before any
/// meaning is checked. Built from ANTLR's parse tree by syntax/ast_builder.cpp; nothing
/// outside the syntax layer sees ANTLR types.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/source.h"

namespace gops::ast {

struct Stmt;

/// One piece of a string literal: literal text or a `${path}` interpolation.
struct StringPart {
  bool interpolation = false;
  std::string text;   ///< decoded text, or the dotted path inside `${...}`
  SourceRange range;  ///< the piece in the source (for an interpolation: `${...}`)
};

enum class ValueKind {
  String,  ///< "text ${env.name}"
  Number,  ///< 42, 0.5, 30s, 10%, 512 MiB, 0.25 vcpu (unit may be empty)
  Dotted,  ///< 10.10.0.0/16 (checked as a CIDR later)
  Bool,    ///< true, false
  List,    ///< [a, b]
  Call,    ///< name(args)
  Object,  ///< name { body } e.g. a rollout strategy; `{ body }` (no name) after `=`
  Ref,     ///< a bare name: internal, manual, canary_safe
  Sum,     ///< a + b: a threshold over the stable version, `stable + 0.5%` (items: [a, b])
  Error,   ///< a value the parser could not read (already reported)
};

struct Value;

struct Arg {
  std::string name;  ///< empty for positional arguments
  SourceRange nameRange;
  std::vector<Value> value;  ///< exactly one element (a vector to allow the recursive type)
};

struct Value {
  ValueKind kind = ValueKind::Error;
  SourceRange range;
  /// String: the raw text between the quotes (escapes kept, for the formatter).
  /// Number: the digits ("0.5"). Dotted: the whole text. Call/Object/Ref: the name.
  std::string text;
  bool boolean = false;
  // Number
  std::string unit;         ///< "s", "%", "MiB", "vcpu", ... or empty
  SourceRange unitRange;
  bool unitSpaced = false;  ///< written as `512 MiB` rather than `512MiB`
  // String
  std::vector<StringPart> parts;
  // List; Sum: [a, b]
  std::vector<Value> items;
  // Call / Object / Ref
  SourceRange nameRange;
  std::vector<Arg> args;
  std::vector<Stmt> body;  ///< Object
  SourceRange bodyRange;   ///< Object: from `{` to `}`
  bool singleLine = false; ///< Object: `{` and `}` on one source line

  /// The decoded string value when it has no interpolation.
  std::string plainString() const;
  bool hasInterpolation() const;
};

enum class StmtKind {
  Attr,      ///< name = value
  Block,     ///< name { ... }, or name label { ... } (a named block: `sidecar envoy { ... }`)
  Override,  ///< in env { ... }
  Step,      ///< step P for D | step P every D
  Rollback,  ///< rollback when METRIC OP VALUE [for D]
  Clause,    ///< name [list] word value ...: `allow ["s3:GetObject"] on ["arn:..."]`
};

struct Stmt {
  StmtKind kind = StmtKind::Attr;
  SourceRange range;
  std::string name;  ///< Attr/Block/Clause name, Override environment, "step"/"rollback"
  SourceRange nameRange;
  std::string label;  ///< Block: the name of a named block (`envoy` in `sidecar envoy { }`); else empty
  SourceRange labelRange;
  std::vector<Value> values;  ///< Attr: [value]; Step: [percent, duration];
                              ///< Rollback: [metric, threshold (Error kind if no comparison), (duration)];
                              ///< Clause: [list, then the value after each word]
  std::vector<std::string> words;       ///< Clause: the words between the values (`on`)
  std::vector<SourceRange> wordRanges;
  std::string op;             ///< Step: "for" | "every"; Rollback: ">" ">=" "<" "<="
  SourceRange opRange;
  std::vector<Stmt> body;  ///< Block / Override
  SourceRange bodyRange;
  bool singleLine = false;  ///< Block / Override written on one line

  const Value& value() const { return values.front(); }
};

enum class DeclKind { App, Environment, Service, Job, Template, Rollout, Promote, Import };

const char* declKeyword(DeclKind k);

struct Decl {
  DeclKind kind = DeclKind::App;
  SourceRange range;
  SourceRange keywordRange;
  std::string name;  ///< Promote: the source environment; Import: the path
  SourceRange nameRange;
  std::string base;  ///< `extends` target; Promote: the target environment
  SourceRange baseRange;
  bool hasBody = false;
  std::vector<Stmt> body;
  SourceRange bodyRange;
  bool singleLine = false;
  std::vector<Value> value;  ///< Rollout: [strategy value]
  std::string doc;           ///< `///` comment lines right above the declaration
};

struct Comment {
  SourceRange range;
  std::string text;  ///< including the `//` or `/* */`
  bool block = false;
};

struct File {
  FileId file = kNoFile;
  std::vector<Decl> decls;
  std::vector<Comment> comments;  ///< in source order
  bool syntaxOk = true;           ///< false if any syntax error was reported
};

}  // namespace gops::ast
