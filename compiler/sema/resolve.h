#pragma once
/// Resolution: which statement decides each attribute of a service, job or template
/// in one environment, after its templates and `in ENV` blocks, and which statements
/// it overrode. The checker builds the model from it; the language server shows it
/// (a hover's value in every environment).
///
/// Order of application for a unit in environment E, each step overriding the ones
/// before (docs/language.md, "in ENV overrides"): the farthest template's body, then
/// its `in E` block; each nearer template's body, then its `in E` block; the unit's
/// own body, then its `in E` block. Blocks merge field by field.
#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sema/schema.h"
#include "syntax/ast.h"

namespace gops::sema {

/// How one attribute (or block field, or map entry) is set in one environment.
struct Setting {
  const ast::Stmt* stmt = nullptr;   ///< the winning `name = value`; null when unset
  const ast::Decl* layer = nullptr;  ///< the declaration it is written in: the unit or one of its templates
  bool inOverride = false;           ///< written in that layer's `in ENV { }` block
  std::vector<const ast::Stmt*> overrode;  ///< the statements it replaced, the one it replaced last first

  explicit operator bool() const { return stmt != nullptr; }
};

/// One named block (`sidecar envoy { ... }`) after its layers: its fields merged.
struct NamedBlock {
  const ast::Stmt* stmt = nullptr;  ///< the block statement written last
  std::map<AttrId, Setting> fields;
  const Setting* field(AttrId id) const {
    auto it = fields.find(id);
    return it == fields.end() || !it->second ? nullptr : &it->second;
  }
};

/// Every attribute of a unit in one environment. Only names the schema of the Unit
/// scope knows are resolved; the shape check reports the others.
struct Resolution {
  std::array<Setting, kAttrCount> attrs{};                   ///< by AttrId
  std::array<const ast::Stmt*, kBlockCount> blocks{};        ///< the block statement written last, by BlockId
  std::array<std::map<std::string, Setting>, kBlockCount> entries{};  ///< the keys of map blocks (env, secrets)
  std::array<std::map<std::string, NamedBlock>, kBlockCount> named{};  ///< named blocks by name (sidecars, volumes)
  /// The lines of clause blocks (`allow [...] on [...]`): those of every layer and
  /// `in ENV` block add up, in the order of application.
  std::array<std::vector<const ast::Stmt*>, kBlockCount> clauses{};

  const Setting& operator[](AttrId id) const { return attrs[static_cast<std::size_t>(id)]; }
  const ast::Stmt* block(BlockId id) const { return blocks[static_cast<std::size_t>(id)]; }
  const std::map<std::string, Setting>& entriesOf(BlockId id) const { return entries[static_cast<std::size_t>(id)]; }
  const std::map<std::string, NamedBlock>& namedOf(BlockId id) const { return named[static_cast<std::size_t>(id)]; }
  const std::vector<const ast::Stmt*>& clausesOf(BlockId id) const { return clauses[static_cast<std::size_t>(id)]; }
};

/// The layers of a unit, farthest template first, the unit itself last, given the
/// templates by name. Stops at an unknown template or where the chain loops (both are
/// reported by the checker).
std::vector<const ast::Decl*> extendsChain(const ast::Decl& unit, const std::map<std::string, const ast::Decl*>& templates);

/// Resolves the unit whose layers are `layers` in environment `env`.
Resolution resolve(const std::vector<const ast::Decl*>& layers, std::string_view env);

/// The setting of `name` (an attribute, or a field or key of `block`, of the named
/// block `label` when given) in a resolution; null for names the schema does not know.
const Setting* find(const Resolution& r, std::string_view block, std::string_view name, std::string_view label = {});

}  // namespace gops::sema
