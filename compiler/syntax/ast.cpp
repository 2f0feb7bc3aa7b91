#include "syntax/ast.h"

namespace gops::ast {

std::string Value::plainString() const {
  std::string out;
  for (const auto& p : parts) {
    if (p.interpolation) {
      out += "${" + p.text + "}";
    } else {
      out += p.text;
    }
  }
  return out;
}

bool Value::hasInterpolation() const {
  for (const auto& p : parts) {
    if (p.interpolation) return true;
  }
  return false;
}

const char* declKeyword(DeclKind k) {
  switch (k) {
    case DeclKind::App: return "app";
    case DeclKind::Environment: return "environment";
    case DeclKind::Service: return "service";
    case DeclKind::Job: return "job";
    case DeclKind::Template: return "template";
    case DeclKind::Rollout: return "rollout";
    case DeclKind::Promote: return "promote";
    case DeclKind::Import: return "import";
  }
  return "?";
}

}  // namespace gops::ast
