#include "model/model.h"

namespace gops::model {

double Rollout::totalSeconds() const {
  double total = bakeSeconds;
  for (const auto& s : steps) total += s.holdSeconds;
  return total;
}

const Environment* AppModel::environment(const std::string& name) const {
  for (const auto& e : environments) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<const Promotion*> AppModel::promotionsInto(const std::string& env) const {
  std::vector<const Promotion*> out;
  for (const auto& p : promotions) {
    if (p.to == env) out.push_back(&p);
  }
  return out;
}

std::vector<const Promotion*> AppModel::promotionsOutOf(const std::string& env) const {
  std::vector<const Promotion*> out;
  for (const auto& p : promotions) {
    if (p.from == env) out.push_back(&p);
  }
  return out;
}

const char* toString(Workload::Platform p) {
  return p == Workload::Platform::Arm64 ? "arm64" : "x86_64";
}

const char* toString(Rollout::Engine e) {
  switch (e) {
    case Rollout::Engine::Gops: return "gops";
    case Rollout::Engine::Ecs: return "ecs";
  }
  return "gops";
}

const char* toString(Rollout::Kind k) {
  switch (k) {
    case Rollout::Kind::Rolling: return "rolling";
    case Rollout::Kind::BlueGreen: return "blue_green";
    case Rollout::Kind::Canary: return "canary";
    case Rollout::Kind::Linear: return "linear";
  }
  return "rolling";
}

const char* toString(Comparison c) {
  switch (c) {
    case Comparison::Greater: return ">";
    case Comparison::GreaterEqual: return ">=";
    case Comparison::Less: return "<";
    case Comparison::LessEqual: return "<=";
  }
  return ">";
}

const char* toString(Gate::Kind k) {
  switch (k) {
    case Gate::Kind::TestsPassed: return "tests_passed";
    case Gate::Kind::SecurityScan: return "security_scan";
    case Gate::Kind::Approval: return "approval";
    case Gate::Kind::Soak: return "soak";
  }
  return "tests_passed";
}

const char* toString(Network::Nat n) {
  switch (n) {
    case Network::Nat::None: return "none";
    case Network::Nat::Single: return "single";
    case Network::Nat::PerZone: return "per_zone";
  }
  return "single";
}

}  // namespace gops::model
