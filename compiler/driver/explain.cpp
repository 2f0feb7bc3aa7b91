// `gops explain`: a diagnostic code's explanation, or an attribute's documentation
// from the table of attributes (compiler/sema/attributes.def), and that table as the
// Markdown of docs/language.md.
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "diagnostics/diagnostic.h"
#include "diagnostics/render.h"
#include "driver/commands.h"
#include "sema/schema.h"
#include "support/text.h"

namespace gops::driver {

namespace {

using sema::Applies;
using sema::AttrSpec;
using sema::BlockSpec;
using sema::Scope;

/// The bodies as a user names them: a Unit body is a service's, a job's or a template's.
struct Body {
  std::string_view name;
  Scope scope;
  bool services = true;  ///< Unit: takes what applies to services
  bool jobs = true;      ///< Unit: takes what applies to jobs
  std::string_view title;
};
const std::vector<Body>& bodies() {
  static const std::vector<Body> k = {
      {"app", Scope::App, true, true, "the `app` block"},
      {"environment", Scope::Environment, true, true, "environments"},
      {"service", Scope::Unit, true, false, "services"},
      {"job", Scope::Unit, false, true, "jobs"},
      {"template", Scope::Unit, true, true, "templates"},
      {"promote", Scope::Promote, true, true, "promotions"},
      {"rolling", Scope::Rolling, true, true, "`rolling { }` rollouts"},
      {"blue_green", Scope::BlueGreen, true, true, "`blue_green { }` rollouts"},
      {"canary", Scope::Canary, true, true, "`canary { }` rollouts"},
      {"linear", Scope::Linear, true, true, "`linear { }` rollouts"},
      {"task", Scope::Task, true, true, "`before_deploy = task { }`"},
      {"capacity", Scope::Capacity, true, true, "`capacity = { }`"},
  };
  return k;
}

bool takes(const Body& b, Applies a) {
  return a == Applies::Any || (a == Applies::Service && b.services) || (a == Applies::Job && b.jobs);
}

std::string withoutArticle(std::string_view s) {
  if (s.rfind("a ", 0) == 0) return std::string(s.substr(2));
  if (s.rfind("an ", 0) == 0) return std::string(s.substr(3));
  return std::string(s);
}

std::string typeText(const AttrSpec& a) {
  std::string t = withoutArticle(sema::describe(a.type));
  return a.unit.empty() || a.type == sema::Ty::Percent ? t : fmt::format("{} (in {})", t, a.unit);
}

/// Where an attribute may be written, for people.
std::string whereText(const AttrSpec& a) {
  if (a.scope != Scope::Unit) {
    for (const auto& b : bodies()) {
      if (b.scope == a.scope) return std::string(b.title);
    }
  }
  switch (a.applies) {
    case Applies::Service: return "services and templates";
    case Applies::Job: return "jobs and templates";
    case Applies::Any: break;
  }
  return "services, jobs and templates";
}

std::string markdownCell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

/// The reference table of one body, as docs/language.md holds it.
std::string markdownTable(const Body& body) {
  std::string out = "| attribute | type | default | meaning | rules |\n|---|---|---|---|---|\n";
  const sema::Schema& schema = sema::schemaFor(body.scope);
  auto row = [&](const AttrSpec& a) {
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", a.path(), markdownCell(typeText(a)), markdownCell(sema::describeDefault(a)),
                       markdownCell(a.doc), markdownCell(a.rules));
  };
  for (const AttrSpec* a : schema.attrs) {
    if (takes(body, a->applies)) row(*a);
  }
  for (const BlockSpec* b : schema.blocks) {
    if (!takes(body, b->applies)) continue;
    std::string type = b->map ? fmt::format("any names, each {}", sema::describe(b->mapType)) : "block";
    out += fmt::format("| `{} {{ ... }}` | {} | none | {} | {} |\n", b->name, markdownCell(type), markdownCell(b->doc), markdownCell(b->rules));
    for (const AttrSpec* a : b->attrs) row(*a);
  }
  return out;
}

void printAttribute(const AttrSpec& a) {
  std::cout << fmt::format("{} ({})\n  {}\n\n", a.path(), whereText(a), a.doc);
  std::cout << fmt::format("  type:     {}\n", typeText(a));
  std::cout << fmt::format("  default:  {}\n", sema::describeDefault(a));
  if (!a.rules.empty()) std::cout << fmt::format("  rules:    {}\n", a.rules);
  if (a.block.empty()) std::cout << fmt::format("  example:  {} = {}\n", a.name, sema::example(a.type));
  else std::cout << fmt::format("  example:  {} {{ {} = {} }}\n", a.block, a.name, sema::example(a.type));
}

void printBlock(const BlockSpec& b) {
  const char* where = b.scope == Scope::Environment ? "environments" : b.serviceOnly() ? "services and templates" : "services, jobs and templates";
  std::cout << fmt::format("{} {{ ... }} ({})\n  {}\n", b.name, where, b.doc);
  if (!b.rules.empty()) std::cout << fmt::format("\n  rules:    {}\n", b.rules);
  if (b.map) {
    std::cout << fmt::format("\n  any names, each {}: {} {{ NAME = {} }}\n", sema::describe(b.mapType), b.name, sema::example(b.mapType));
    return;
  }
  std::cout << "\n";
  for (const AttrSpec* a : b.attrs) std::cout << fmt::format("  {:<20} {}\n", a->name, a->doc);
}

/// The attributes and blocks `topic` names: `cpu`, `health.interval`, `health`,
/// `environment.region`, `service.rollout`. A bare name may match in several bodies
/// and blocks (`cpu`: a unit's and `autoscale.cpu`).
struct Found {
  std::vector<const AttrSpec*> attrs;
  std::vector<const BlockSpec*> blocks;
  bool empty() const { return attrs.empty() && blocks.empty(); }
};
Found lookup(std::string_view topic) {
  Found f;
  const Body* body = nullptr;
  if (auto dot = topic.find('.'); dot != std::string_view::npos) {
    for (const auto& b : bodies()) {
      if (b.name == topic.substr(0, dot)) body = &b;
    }
    if (body) topic.remove_prefix(dot + 1);
  }
  std::string_view block, name = topic;
  if (auto dot = topic.find('.'); dot != std::string_view::npos) {
    block = topic.substr(0, dot);
    name = topic.substr(dot + 1);
  }
  for (const AttrSpec& a : sema::allAttrs()) {
    if (body && (body->scope != a.scope || !takes(*body, a.applies))) continue;
    // A bare name finds the fields of blocks too: `zones` is `network.zones`.
    if (a.name == name && (a.block == block || block.empty())) f.attrs.push_back(&a);
  }
  if (block.empty()) {
    for (const BlockSpec& b : sema::allBlocks()) {
      if (body && (body->scope != b.scope || !takes(*body, b.applies))) continue;
      if (b.name == name) f.blocks.push_back(&b);
    }
  }
  return f;
}

std::vector<std::string> topics() {
  std::vector<std::string> out;
  for (const AttrSpec& a : sema::allAttrs()) out.push_back(a.path());
  for (const BlockSpec& b : sema::allBlocks()) out.emplace_back(b.name);
  return out;
}

bool looksLikeCode(std::string_view s) {
  return s.size() >= 2 && (s[0] == 'E' || s[0] == 'W' || s[0] == 'e' || s[0] == 'w') && s[1] >= '0' && s[1] <= '9';
}

int explainCode(const std::string& code) {
  auto c = diag::codeFromText(code);
  if (!c) {
    std::vector<std::string> codes;
    for (const auto& i : diag::allCodes()) codes.emplace_back(i.text);
    std::cerr << fmt::format("gops: error: `{}` is not a gops diagnostic code", code);
    if (auto m = closestMatch(toUpper(code), codes)) std::cerr << fmt::format("; did you mean `{}`?", *m);
    std::cerr << "\n  `gops explain --list` lists them all\n";
    return 2;
  }
  std::string_view text = diag::explanation(*c);
  if (text.empty()) {
    const auto& i = diag::info(*c);
    std::cout << fmt::format("{}: {}\n", i.text, i.summary);
    return 0;
  }
  std::cout << text;
  if (text.back() != '\n') std::cout << "\n";
  return 0;
}

}  // namespace

int runExplain(const GlobalOptions&, const ExplainOptions& o) {
  if (o.attributes) {
    for (const auto& b : bodies()) {
      if (!o.topic.empty() && b.name != o.topic) continue;
      if (b.name == "template") continue;  // services' and jobs' together
      if (o.topic.empty()) std::cout << fmt::format("<!-- gops explain --attributes {} -->\n", b.name);
      std::cout << markdownTable(b);
      if (o.topic.empty()) std::cout << "<!-- end -->\n\n";
      if (!o.topic.empty()) return 0;
    }
    if (o.topic.empty()) return 0;
    std::cerr << fmt::format("gops: error: `{}` names no body; write one of app, environment, service, job, promote, rolling, blue_green, canary, linear, task, capacity\n", o.topic);
    return 2;
  }
  if (o.list || o.topic.empty()) {
    for (const auto& c : diag::allCodes()) std::cout << fmt::format("{}  {}\n", c.text, c.summary);
    return o.topic.empty() && !o.list ? 2 : 0;
  }
  if (looksLikeCode(o.topic)) return explainCode(o.topic);
  Found f = lookup(o.topic);
  if (f.empty()) {
    // `service.schedule`: an attribute, but of another body.
    if (auto dot = o.topic.find('.'); dot != std::string::npos) {
      Found elsewhere = lookup(std::string_view(o.topic).substr(dot + 1));
      if (!elsewhere.attrs.empty()) {
        std::cerr << fmt::format("gops: error: {} take no `{}`; it is an attribute of {}\n", o.topic.substr(0, dot) + "s",
                                 elsewhere.attrs.front()->path(), whereText(*elsewhere.attrs.front()));
        return 2;
      }
    }
    std::cerr << fmt::format("gops: error: `{}` is neither a diagnostic code nor an attribute", o.topic);
    if (auto m = closestMatch(o.topic, topics())) std::cerr << fmt::format("; did you mean `{}`?", *m);
    std::cerr << "\n  `gops explain --list` lists the codes, `gops explain --attributes` the attributes\n";
    return 2;
  }
  bool first = true;
  for (const AttrSpec* a : f.attrs) {
    if (!first) std::cout << "\n";
    first = false;
    printAttribute(*a);
  }
  for (const BlockSpec* b : f.blocks) {
    if (!first) std::cout << "\n";
    first = false;
    printBlock(*b);
  }
  return 0;
}

}  // namespace gops::driver
