#include "backends/terraform/policy.h"

#include <map>

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

std::string serviceTrustPolicy(const std::string& service, const std::string& account) {
  Statement s;
  s.principalKind = "Service";
  s.principals = {service};
  s.actions = {"sts:AssumeRole"};
  s.conditions = {{"StringEquals", "aws:SourceAccount", {account}}};
  return policyDocument({s});
}

}  // namespace gops::backend::terraform
