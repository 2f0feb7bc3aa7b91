#pragma once
/// Private to sema's build pass: filling model fields from evaluated values through
/// the member pointers of attributes.def. `fill(obj, scope, block, valueOf)` sets
/// every field of `obj` that an attribute of `scope` (and `block`) declares and that
/// has a value: `valueOf(AttrId)` returns the attribute's evaluated value (a pointer or
/// an optional), or null when it is unset. Fields the table leaves to the build pass
/// (nullptr) and fields of other model types are skipped at compile time.
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "model/model.h"
#include "sema/eval.h"
#include "sema/schema.h"

namespace gops::sema::detail {

inline void set(std::string& f, const Val& v) { f = v.s; }
inline void set(int& f, const Val& v) { f = static_cast<int>(v.n); }
inline void set(double& f, const Val& v) { f = v.n; }
inline void set(std::optional<int>& f, const Val& v) { f = static_cast<int>(v.n); }
inline void set(std::optional<double>& f, const Val& v) { f = v.n; }
inline void set(std::vector<std::string>& f, const Val& v) { f = v.list; }
inline void set(model::Image& f, const Val& v) { f = v.image; }
inline void set(model::Expose& f, const Val& v) { f = v.expose; }
inline void set(model::Schedule& f, const Val& v) { f = v.schedule; }
inline void set(std::optional<model::Schedule>& f, const Val& v) { f = v.schedule; }
inline void set(model::Deploy& f, const Val& v) { f = v.deploy; }
inline void set(model::Rollout& f, const Val& v) { f = v.rollout; }
inline void set(model::Network::Nat& f, const Val& v) { f = v.nat; }
inline void set(model::Rollout::Engine& f, const Val& v) { f = v.engine; }
inline void set(bool& f, const Val& v) { f = v.n != 0; }
inline void set(model::Workload::Platform& f, const Val& v) { f = v.platform; }
inline void set(model::Capacity& f, const Val& v) { f = v.capacity; }
inline void set(std::optional<model::Task>& f, const Val& v) { f = v.task; }
inline void set(std::map<std::string, std::string>& f, const Val& v) { f = v.map; }
inline void set(std::vector<model::Gate>& f, const Val& v) { f = v.gates; }

template <class Obj, class V>
void fillOne(Obj&, std::nullptr_t, const V&) {}

/// `v` is a `const Val*` or a `std::optional<Val>`.
template <class Obj, class C, class M, class V>
void fillOne(Obj& obj, M C::*field, const V& v) {
  if constexpr (std::is_base_of_v<C, Obj>) {
    if (v && v->ok) set(obj.*field, *v);
  }
}

template <class Obj, class ValueOf>
void fill(Obj& obj, Scope scope, std::string_view block, ValueOf&& valueOf) {
#define GOPS_ATTR(Id, Sc, Blk, Name, Type, Unit, Ap, Default, Field, Doc, Rules) \
  if (Scope::Sc == scope && std::string_view(Blk) == block) fillOne(obj, Field, valueOf(AttrId::Id));
#include "sema/attributes.def"
}

/// Sets the field attribute `id` declares, if it declares one of `obj`'s.
template <class Obj>
void fillAttr(Obj& obj, AttrId id, const Val& v) {
  switch (id) {
#define GOPS_ATTR(Id, Sc, Blk, Name, Type, Unit, Ap, Default, Field, Doc, Rules) \
  case AttrId::Id: fillOne(obj, Field, &v); break;
#include "sema/attributes.def"
  }
}

}  // namespace gops::sema::detail
