// Reading a plan (through the contract library) and its ECS JSON; filling the after-apply placeholders (docs/ecs.md).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gops/deploy/deploy.h"
#include "plan/reader.h"

namespace gops::deploy {

namespace fs = std::filesystem;
using json = nlohmann::json;

Bundle makeBundle(std::map<std::string, std::string> files) {
  auto it = files.find("plan.json");
  if (it == files.end()) throw DeployError("the plan (plan.json) is missing");
  plan::ReadResult read = plan::read(it->second);
  if (!read.ok()) {
    std::string message;
    for (const auto& p : read.problems) message += (message.empty() ? "" : "\n") + fmt::format("plan.json: {}", p.text());
    throw DeployError(message);
  }
  Bundle b;
  b.plan = std::move(*read.plan);
  b.files = std::move(files);
  return b;
}

Bundle readBundle(const std::string& dir) {
  std::map<std::string, std::string> files;
  auto read = [&](const fs::path& p, const std::string& rel) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw DeployError(fmt::format("`{}`: cannot read the file", p.string()));
    std::ostringstream s;
    s << in.rdbuf();
    files[rel] = s.str();
  };
  read(fs::path(dir) / "plan.json", "plan.json");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "ecs", ec)) {
    if (e.path().extension() == ".json") read(e.path(), "ecs/" + e.path().filename().string());
  }
  // The environment's Terraform module, when it is there: gops drift compares the alarms
  // it defines.
  if (fs::is_regular_file(fs::path(dir) / "terraform" / "main.tf.json", ec)) {
    read(fs::path(dir) / "terraform" / "main.tf.json", "terraform/main.tf.json");
  }
  return makeBundle(std::move(files));
}

namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string outputValue(const json& outputs, const std::string& name, const std::string& index, const std::string& text) {
  if (!outputs.is_object() || !outputs.contains(name)) {
    throw DeployError(fmt::format("`{}`: the Terraform output `{}` is missing (pass `terraform output -json` with --tf-outputs)", text, name));
  }
  const json& out = outputs[name];
  const json& value = out.is_object() && out.contains("value") ? out["value"] : out;
  if (index.empty()) {
    if (!value.is_string()) throw DeployError(fmt::format("`{}`: the Terraform output `{}` is not a string", text, name));
    return value.get<std::string>();
  }
  if (!value.is_array()) throw DeployError(fmt::format("`{}`: the Terraform output `{}` is not a list", text, name));
  std::size_t i = std::stoul(index);
  if (i >= value.size() || !value[i].is_string()) {
    throw DeployError(fmt::format("`{}`: the Terraform output `{}` has {} elements", text, name, value.size()));
  }
  return value[i].get<std::string>();
}

std::string fillString(const std::string& s, const json& outputs, const std::string& tag) {
  std::string r;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t open = s.find("{{", i);
    if (open == std::string::npos) break;
    r.append(s, i, open - i);
    std::size_t close = s.find("}}", open + 2);
    if (close == std::string::npos) {
      r.append(s, open, std::string::npos);
      return r;
    }
    const std::string inner = s.substr(open + 2, close - open - 2);
    const std::string text = s.substr(open, close + 2 - open);
    if (inner == "image_tag") {
      r += tag;
    } else if (inner.rfind("tf:", 0) == 0) {
      std::string body = inner.substr(3);
      std::string name = body, index;
      if (auto lb = body.find('['); lb != std::string::npos && body.back() == ']') {
        name = body.substr(0, lb);
        index = body.substr(lb + 1, body.size() - lb - 2);
        if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos) {
          throw DeployError(fmt::format("`{}` is not a valid placeholder", text));
        }
      }
      if (name.empty()) throw DeployError(fmt::format("`{}` is not a valid placeholder", text));
      for (char c : name) {
        if (!isNameChar(c)) throw DeployError(fmt::format("`{}` is not a valid placeholder", text));
      }
      r += outputValue(outputs, name, index, text);
    } else {
      r += text;  // not a placeholder: kept as written
    }
    i = close + 2;
  }
  r.append(s, i, std::string::npos);
  return r;
}

}  // namespace

std::string fillPlaceholders(const std::string& text, const json& tfOutputs, const std::string& imageTag) {
  return fillString(text, tfOutputs, imageTag);
}

json fillPlaceholders(const json& doc, const json& tfOutputs, const std::string& imageTag) {
  if (doc.is_string()) return fillString(doc.get<std::string>(), tfOutputs, imageTag);
  if (doc.is_array()) {
    json r = json::array();
    for (const auto& e : doc) r.push_back(fillPlaceholders(e, tfOutputs, imageTag));
    return r;
  }
  if (doc.is_object()) {
    json r = json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) r[it.key()] = fillPlaceholders(it.value(), tfOutputs, imageTag);
    return r;
  }
  return doc;
}

}  // namespace gops::deploy
