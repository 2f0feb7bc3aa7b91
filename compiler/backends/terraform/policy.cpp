#include "backends/terraform/policy.h"

#include <map>
#include <optional>
#include <set>

#include "support/json_writer.h"

namespace gops::backend::terraform {

namespace {

void stringOrList(JsonWriter& w, const std::vector<std::string>& v) {
  if (v.size() == 1) {
    w.value(v.front());
    return;
  }
  w.beginArray();
  for (const auto& s : v) w.value(s);
  w.endArray();
}

}  // namespace

std::string policyDocument(const std::vector<Statement>& statements) {
  std::string out;
  JsonWriter w(out, /*pretty=*/false);
  w.beginObject().member("Version", "2012-10-17").key("Statement").beginArray();
  for (const auto& s : statements) {
    w.beginObject();
    if (!s.sid.empty()) w.member("Sid", s.sid);
    w.member("Effect", s.deny ? "Deny" : "Allow");
    if (!s.principalKind.empty()) {
      w.key("Principal").beginObject().key(s.principalKind);
      stringOrList(w, s.principals);
      w.endObject();
    }
    w.key("Action");
    stringOrList(w, s.actions);
    if (!s.resources.empty()) {
      w.key("Resource");
      stringOrList(w, s.resources);
    }
    if (!s.conditions.empty()) {
      std::map<std::string, std::vector<const Condition*>> byTest;
      for (const auto& c : s.conditions) byTest[c.test].push_back(&c);
      w.key("Condition").beginObject();
      for (const auto& [test, conditions] : byTest) {
        w.key(test).beginObject();
        for (const Condition* c : conditions) {
          w.key(c->variable);
          stringOrList(w, c->values);
        }
        w.endObject();
      }
      w.endObject();
    }
    w.endObject();
  }
  w.endArray().endObject();
  return out;
}

namespace {

/// `arn` with its name a segment shorter (`a/b/c` -> `a/b/*`, `a/b/*` -> `a/*`), or
/// nullopt when the name keeps only its first segment (or has no `/`).
std::optional<std::string> coarser(const std::string& arn) {
  // arn:partition:service:region:account:<type><delimiter><name>
  std::size_t colons = 0, resource = 0;
  for (std::size_t i = 0; i < arn.size() && colons < 5; ++i) {
    if (arn[i] == ':' && ++colons == 5) resource = i + 1;
  }
  if (colons < 5) return std::nullopt;
  const std::size_t delimiter = arn.find_first_of("/:", resource);
  if (delimiter == std::string::npos) return std::nullopt;
  const std::size_t name = delimiter + 1;
  std::string s = arn;
  if (s.size() >= name + 2 && s.compare(s.size() - 2, 2, "/*") == 0) s.resize(s.size() - 2);
  const std::size_t last = s.rfind('/');
  if (last == std::string::npos || last < name) return std::nullopt;
  return s.substr(0, last) + "/*";
}

}  // namespace

std::vector<std::string> groupedArns(const std::vector<std::string>& arns, std::size_t limit) {
  std::set<std::string> current(arns.begin(), arns.end());
  while (current.size() > limit) {
    // The ARNs a segment shorter name would merge, merged; an ARN nothing merges with
    // keeps its name.
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& a : current) {
      if (auto c = coarser(a)) groups[*c].push_back(a);
    }
    std::set<std::string> next = current;
    for (const auto& [group, members] : groups) {
      if (members.size() + current.count(group) < 2) continue;
      for (const auto& m : members) next.erase(m);
      next.insert(group);
    }
    if (next == current) {
      // Nothing merges a segment up: every name a segment shorter, so that the next
      // round may merge them; done when no name can be shorter.
      next.clear();
      for (const auto& a : current) next.insert(coarser(a).value_or(a));
      if (next == current) break;
    }
    current = std::move(next);
  }
  return {current.begin(), current.end()};
}

std::string serviceTrustPolicy(const std::string& service, const std::string& account) {
  Statement s;
  s.principalKind = "Service";
  s.principals = {service};
  s.actions = {"sts:AssumeRole"};
  s.conditions = {{"StringEquals", "aws:SourceAccount", {account}}};
  return policyDocument({s});
}

}  // namespace gops::backend::terraform
