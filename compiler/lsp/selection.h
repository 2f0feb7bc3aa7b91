#pragma once
/// What is under the cursor: the declaration, the statements around it, the
/// schema that applies there. Shared by hover, completion and inlay hints.
#include <cstdint>
#include <string>
#include <vector>

#include "sema/schema.h"
#include "syntax/ast.h"

namespace gops::lsp {

struct Selection {
  const ast::Decl* decl = nullptr;           ///< the top-level declaration containing the offset
  std::vector<const ast::Stmt*> stmts;       ///< statements containing the offset, outermost first
  const ast::Stmt* nameAt = nullptr;         ///< a statement whose name is under the cursor
  const ast::Value* valueAt = nullptr;       ///< the innermost value containing the offset
  /// The innermost body containing the offset and what may be written in it.
  bool inBody = false;
  const sema::Schema* schema = nullptr;      ///< attributes and blocks allowed in that body
  const sema::BlockSpec* block = nullptr;    ///< set when that body is a block such as `health`
  bool inRolloutStrategy = false;            ///< inside `canary { ... }` / `linear { ... }`
  /// Names of the `Block` statements from the declaration body down to the cursor; a
  /// named block (`sidecar envoy { }`) gives its kind and then its name.
  std::vector<std::string> blockPath;
  /// The environment of an enclosing `in ENV { }`, if any.
  std::string overrideEnv;
};

/// The schema scope of a declaration's body, or nullptr when it has none (imports).
const sema::Schema* declSchema(ast::DeclKind kind);
/// The scope of a strategy object such as `canary { }`, or nullptr.
const sema::Schema* strategySchema(const std::string& name);

Selection select(const ast::File& file, std::uint32_t offset);

/// The attribute spec a statement names inside `sel` (the innermost schema/block).
const sema::AttrSpec* attrSpecAt(const Selection& sel, const std::string& name);

}  // namespace gops::lsp
