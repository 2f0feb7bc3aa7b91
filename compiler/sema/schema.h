#pragma once
/// What may be written where: the attributes and blocks of each declaration kind,
/// their types and their documentation (shown by the language server).
#include <string>
#include <string_view>
#include <vector>

namespace gops::sema {

enum class Ty {
  String, Int, Bool, Duration, Percent, Size, Cpu, Cidr, StringList,
  Image, Expose, Secret, Schedule, Rollout, Deploy, Nat, GateList, NameList,
  Account, Region, Repository,
};

/// "a duration", "a size", ... for messages.
std::string_view describe(Ty t);
/// An example of a value of this type, for help lines.
std::string_view example(Ty t);

struct AttrSpec {
  std::string_view name;
  Ty type;
  std::string_view doc;
  bool serviceOnly = false;  ///< in a unit body: only for services
  bool jobOnly = false;      ///< in a unit body: only for jobs
};

struct BlockSpec {
  std::string_view name;
  std::string_view doc;
  std::vector<AttrSpec> attrs;
  bool map = false;  ///< any key allowed (env, secrets); values of mapType
  Ty mapType = Ty::String;
  bool serviceOnly = false;
};

enum class Scope { App, Environment, Unit, Promote, Rolling, BlueGreen, Canary, Linear };

struct Schema {
  std::vector<AttrSpec> attrs;
  std::vector<BlockSpec> blocks;
  const AttrSpec* attr(std::string_view name) const;
  const BlockSpec* block(std::string_view name) const;
  std::vector<std::string> names() const;
};

const Schema& schemaFor(Scope s);

/// Enum-like bare names and constructors, with their documentation.
struct ValueDoc {
  std::string_view name;
  std::string_view signature;
  std::string_view doc;
};
const std::vector<ValueDoc>& valueDocs();
const ValueDoc* findValueDoc(std::string_view name);

}  // namespace gops::sema
