#include "backends/graph/graph.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gops::backend::graph {

namespace {

using model::Environment;
using model::Rollout;
using model::Service;

std::string percent(double p) { return fmt::format("{}%", p == std::floor(p) ? fmt::format("{}", static_cast<long long>(p)) : fmt::format("{}", p)); }

std::string trigger(const Environment& e) {
  return e.deploy.kind == model::Deploy::Kind::OnPush ? fmt::format("push to {}", e.deploy.branch) : std::string("manual");
}

std::string approval(const Environment& e) {
  if (!e.approval) return {};
  return fmt::format("{} approval{} ({})", e.approval->required, e.approval->required == 1 ? "" : "s",
                     fmt::join(e.approval->reviewers, ", "));
}

std::string rollout(const Rollout& r) {
  std::string s = r.preset.empty() ? std::string(model::toString(r.kind)) : r.preset;
  switch (r.kind) {
    case Rollout::Kind::Rolling: break;
    case Rollout::Kind::BlueGreen:
      s += fmt::format(" {} test, bake {}", percent(r.testTrafficPercent), duration(r.bakeSeconds));
      break;
    case Rollout::Kind::Canary:
    case Rollout::Kind::Linear: {
      std::vector<std::string> steps;
      for (const auto& st : r.steps) steps.push_back(percent(st.weight));
      s += " " + fmt::format("{}", fmt::join(steps, "→")) + "→100%";
      break;
    }
  }
  if (!r.rollback.empty()) s += fmt::format(", {} rollback alarm{}", r.rollback.size(), r.rollback.size() == 1 ? "" : "s");
  return s;
}

std::string gates(const model::Promotion& p) {
  std::vector<std::string> out;
  for (const auto& g : p.gates) {
    switch (g.kind) {
      case model::Gate::Kind::TestsPassed: out.emplace_back("tests passed"); break;
      case model::Gate::Kind::SecurityScan: out.emplace_back("security scan"); break;
      case model::Gate::Kind::Approval: out.emplace_back("approval"); break;
      case model::Gate::Kind::Soak: out.push_back(fmt::format("soak {}", duration(g.soakSeconds))); break;
    }
  }
  return out.empty() ? std::string("promote") : fmt::format("{}", fmt::join(out, " + "));
}

std::string serviceLine(const Service& s) {
  std::string replicas = s.autoscale ? fmt::format("{}-{}", s.autoscale->min, s.autoscale->max) : fmt::format("{}", s.replicas);
  std::string expose;
  if (s.expose.kind == model::Expose::Kind::Public) expose = ", public";
  if (s.expose.kind == model::Expose::Kind::Internal) expose = ", internal";
  std::string line = fmt::format("{} ×{}{} · {}", s.name, replicas, expose, rollout(s.rollout));
  if (s.beforeDeploy) {
    // The one-off task each deploy runs first (a migration): its command, cut when long.
    std::string command;
    for (const auto& arg : s.beforeDeploy->command) command += (command.empty() ? "" : " ") + arg;
    if (command.size() > 40) {
      std::size_t cut = 39;
      while (cut > 0 && (static_cast<unsigned char>(command[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
      command = command.substr(0, cut) + "…";
    }
    line += fmt::format(" · before_deploy: {}", command);
  }
  return line;
}

/// Mermaid labels are double-quoted; `"` is written as an entity.
std::string mq(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"') out += "#quot;";
    else out += c;
  }
  return "\"" + out + "\"";
}

/// DOT strings: `"` and `\` escaped, a newline written as DOT's `\n`.
std::string dq(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return "\"" + out + "\"";
}

std::string envHeader(const Environment& e, const char* newline) {
  std::string h = fmt::format("{}{}account {} · {}", e.name, newline, e.account, trigger(e));
  if (auto a = approval(e); !a.empty()) h += fmt::format("{}{}", newline, a);
  return h;
}

}  // namespace

std::string duration(double seconds) {
  long long s = std::llround(seconds);
  if (static_cast<double>(s) != seconds) return fmt::format("{}s", seconds);
  if (s == 0) return "0s";
  static const std::pair<long long, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (const auto& [size, unit] : units) {
    if (size > 1 && s % size == 0) return fmt::format("{}{}", s / size, unit);
  }
  if (s < 60) return fmt::format("{}s", s);
  std::string out;
  for (const auto& [size, unit] : units) {
    if (s >= size) {
      out += fmt::format("{}{}", s / size, unit);
      s %= size;
    }
  }
  return out;
}

std::string mermaid(const model::AppModel& app) {
  std::string out = fmt::format("flowchart LR\n");
  for (const auto& e : app.environments) {
    // Ids are prefixed so that no gops name can be a Mermaid keyword (`end`).
    out += fmt::format("  subgraph env_{}[{}]\n    direction TB\n", e.name, mq(envHeader(e, "<br/>")));
    for (const auto& s : e.services) out += fmt::format("    w_{}__{}[{}]\n", e.name, s.name, mq(serviceLine(s)));
    for (const auto& j : e.jobs) {
      out += fmt::format("    w_{}__{}[/{}/]\n", e.name, j.name, mq(fmt::format("{} · {}", j.name, j.schedule.expression)));
    }
    if (e.services.empty() && e.jobs.empty()) out += fmt::format("    w_{}__[{}]\n", e.name, mq("no services"));
    out += "  end\n";
  }
  for (const auto& p : app.promotions) out += fmt::format("  env_{} -->|{}| env_{}\n", p.from, mq(gates(p)), p.to);
  return out;
}

std::string dot(const model::AppModel& app) {
  std::string out = fmt::format("digraph {} {{\n  rankdir=LR;\n  compound=true;\n  node [shape=box, fontname=\"Helvetica\"];\n",
                                dq(app.app.name));
  for (const auto& e : app.environments) {
    out += fmt::format("  subgraph {} {{\n    label={};\n", dq("cluster_" + e.name), dq(envHeader(e, "\n")));
    // An anchor for the promotion edges, which DOT draws between clusters with lhead/ltail.
    out += fmt::format("    {} [shape=point, style=invis];\n", dq(e.name));
    for (const auto& s : e.services) out += fmt::format("    {} [label={}];\n", dq(e.name + "." + s.name), dq(serviceLine(s)));
    for (const auto& j : e.jobs) {
      out += fmt::format("    {} [shape=parallelogram, label={}];\n", dq(e.name + "." + j.name),
                         dq(fmt::format("{} · {}", j.name, j.schedule.expression)));
    }
    out += "  }\n";
  }
  for (const auto& p : app.promotions) {
    out += fmt::format("  {} -> {} [label={}, ltail={}, lhead={}];\n", dq(p.from), dq(p.to), dq(gates(p)), dq("cluster_" + p.from),
                       dq("cluster_" + p.to));
  }
  out += "}\n";
  return out;
}

}  // namespace gops::backend::graph
