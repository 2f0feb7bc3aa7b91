#pragma once
/// IAM policy documents, serialised compactly for `policy` and
/// `assume_role_policy` arguments. Statements keep the order they are given in;
/// inside a statement the keys come in IAM's usual order (Sid, Effect, Principal,
/// Action, Resource, Condition), and a one-element list is written as a string.
#include <cstddef>
#include <string>
#include <vector>

namespace gops::backend::terraform {

struct Condition {
  std::string test;      ///< "StringEquals", "ArnLike", ...
  std::string variable;  ///< "token.actions.githubusercontent.com:sub"
  std::vector<std::string> values;
};

struct Statement {
  std::string sid;
  bool deny = false;
  std::vector<std::string> actions;
  std::vector<std::string> resources;  ///< empty in trust policies
  std::vector<Condition> conditions;   ///< grouped by test when written
  std::string principalKind;           ///< trust policies: "Service", "Federated" or "AWS"
  std::vector<std::string> principals;
};

/// {"Version":"2012-10-17","Statement":[...]}.
std::string policyDocument(const std::vector<Statement>& statements);

/// `arns` as the resources of a statement, sorted, each once, and at most `limit` of
/// them when grouping can get there (IAM limits the size of a role's policies): past
/// `limit`, the ARNs whose names share everything before their last `/` become one
/// `<that>/*`, a segment shorter each round (ARNs that merge with no other keep their
/// names while others merge), never shorter than the name's first segment
/// (`parameter/shop/prod/db` -> `parameter/shop/prod/*` -> `parameter/shop/*`;
/// `secret:shop/prod/stripe-??????` likewise). The name is what follows the resource
/// type (`parameter/`, `secret:`); names without a `/` stay as they are.
std::vector<std::string> groupedArns(const std::vector<std::string>& arns, std::size_t limit = 20);

/// A trust policy letting `service` ("ecs-tasks.amazonaws.com") assume the role,
/// only on behalf of `account` (aws:SourceAccount), against the confused deputy.
std::string serviceTrustPolicy(const std::string& service, const std::string& account);

}  // namespace gops::backend::terraform
