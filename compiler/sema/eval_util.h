#pragma once
/// Private to sema's evaluator (eval*.cpp): helpers the value kinds share.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "syntax/ast.h"

namespace gops::sema::detail {

/// The number a Number value holds, without its unit.
std::optional<double> number(const ast::Value& v);
/// 10 -> "10", 0.5 -> "0.5".
std::string fmtNumber(double d);
/// Duration units and their length in seconds.
const std::map<std::string, double, std::less<>>& durationUnits();
/// The unit a misspelling such as `sec` or `mins` stands for.
std::optional<std::string> durationUnitFor(std::string_view u);
/// "duration", "size", ... for a unit as written.
std::string_view unitKind(std::string_view u);
/// The i-th positional argument of a call (the caller checked there is one).
const ast::Value* positionalArg(const ast::Value& v, std::size_t i);
const ast::Value* namedArg(const ast::Value& v, std::string_view name);
/// A DNS hostname of two or more labels (a leading `*.` allowed).
bool validDnsName(const std::string& host);
/// Reports an unknown bare name or call among `choices` with a did-you-mean.
void unknownValue(diag::DiagnosticEngine& diags, const ast::Value& v, std::string_view attr, const std::vector<std::string>& choices,
                  std::string_view what);

}  // namespace gops::sema::detail
