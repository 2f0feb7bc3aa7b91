#pragma once
/// What may be written where: the attributes and blocks of each body, with their
/// types, defaults and documentation. Everything here comes from the one table of
/// attributes, sema/attributes.def; this header gives it the shapes its users need
/// (the checker's shape checks, the language server's hover and completion, `gops
/// explain ATTRIBUTE`, the docs tables).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gops::sema {

/// The type of an attribute's value, which decides how it is evaluated (sema/eval.h).
enum class Ty {
  String, Int, Bool, Duration, Percent, Size, Cpu, Cidr, StringList,
  Image, Expose, Secret, Schedule, Rollout, Deploy, Nat, GateList, NameList,
  Account, Region, Repository, Engine,
  Platform, Capacity, Task, Existing, Topic, LogRouter, StringMap,
};

/// "a duration", "a size", ... for messages.
std::string_view describe(Ty t);
/// An example of a value of this type, for help lines.
std::string_view example(Ty t);

/// The bodies attributes are written in.
enum class Scope { App, Environment, Unit, Promote, Rolling, BlueGreen, Canary, Linear, Task, Capacity };
std::string_view toString(Scope s);

/// In a Unit body (services, jobs, templates): which declarations take an attribute.
enum class Applies { Any, Service, Job };

/// Every attribute of attributes.def, in its order.
enum class AttrId : std::uint16_t {
#define GOPS_ATTR(Id, ...) Id,
#include "sema/attributes.def"
};
/// Every block (named fields or any key) of attributes.def, in its order.
enum class BlockId : std::uint8_t {
#define GOPS_BLOCK(Id, ...) Id,
#define GOPS_MAP(Id, ...) Id,
#define GOPS_NAMED(Id, ...) Id,
#define GOPS_CLAUSES(Id, ...) Id,
#include "sema/attributes.def"
};

inline constexpr std::size_t kAttrCount = 0
#define GOPS_ATTR(...) +1
#include "sema/attributes.def"
    ;
inline constexpr std::size_t kBlockCount = 0
#define GOPS_BLOCK(...) +1
#define GOPS_MAP(...) +1
#define GOPS_NAMED(...) +1
#define GOPS_CLAUSES(...) +1
#include "sema/attributes.def"
    ;

/// One line of attributes.def.
struct AttrSpec {
  AttrId id;
  Scope scope;
  std::string_view block;        ///< "" for the body itself, else the block's name
  std::string_view name;
  Ty type;
  std::string_view unit;         ///< the unit of the model's field ("" when none)
  Applies applies;
  std::string_view defaultText;  ///< a gops value, "required", "" (none) or "(prose)"
  std::string_view doc;
  std::string_view rules;
  bool hasModelField;            ///< filled by the generic build; else by hand (sema/build_*.cpp)

  bool serviceOnly() const { return applies == Applies::Service; }
  bool jobOnly() const { return applies == Applies::Job; }
  bool required() const { return defaultText == "required"; }
  /// `health.path`, or the name for a body attribute.
  std::string path() const;
};

struct BlockSpec {
  enum class Kind {
    Fields,   ///< `health { path = ... }`: the fields in `attrs`
    Map,      ///< `env { ANY = ... }`: any key, values of `mapType`
    Named,    ///< `sidecar NAME { ... }`: any number, each with a name, the fields in `attrs`
    Clauses,  ///< `permissions { allow [...] on [...] }`: lines `verb [list] word [list]`
  };
  BlockId id;
  Scope scope;
  std::string_view name;
  Applies applies;
  std::string_view doc;
  std::string_view rules;
  Kind kind = Kind::Fields;
  bool map = false;         ///< kind == Map
  Ty mapType = Ty::String;
  std::string_view verb;    ///< Clauses: `allow`
  std::string_view word;    ///< Clauses: `on`
  std::vector<const AttrSpec*> attrs;  ///< Fields and Named

  bool serviceOnly() const { return applies == Applies::Service; }
  bool named() const { return kind == Kind::Named; }
  bool clauses() const { return kind == Kind::Clauses; }
  const AttrSpec* attr(std::string_view name) const;
};

/// What one body takes.
struct Schema {
  std::vector<const AttrSpec*> attrs;
  std::vector<const BlockSpec*> blocks;
  const AttrSpec* attr(std::string_view name) const;
  const BlockSpec* block(std::string_view name) const;
  std::vector<std::string> names() const;
};

const Schema& schemaFor(Scope s);
const AttrSpec& attrSpec(AttrId id);
const BlockSpec& blockSpec(BlockId id);
/// Every attribute, in the table's order.
const std::vector<AttrSpec>& allAttrs();
const std::vector<BlockSpec>& allBlocks();
/// The attribute `name` of `block` ("" for the body) in `scope`, or nullptr.
const AttrSpec* findAttr(Scope scope, std::string_view block, std::string_view name);

/// "`0.25 vcpu`", "required", "none", "the app's": the default as the docs show it.
std::string describeDefault(const AttrSpec& a);
/// The documentation of an attribute for hovers and completion: its doc line, then
/// its default and rules ("Default: `1` · within `[autoscale.min, autoscale.max]`").
std::string attrDocMarkdown(const AttrSpec& a);

/// Enum-like bare names and constructors, with their documentation.
struct ValueDoc {
  std::string_view name;
  std::string_view signature;
  std::string_view doc;
};
const std::vector<ValueDoc>& valueDocs();
const ValueDoc* findValueDoc(std::string_view name);

}  // namespace gops::sema
