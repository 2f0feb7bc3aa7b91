// The image tags of a deploy: `--image-tag TAG`, `--image-tag NAME=TAG` (docs/runtime.md).
#include "gops/deploy/image_tags.h"

#include <set>

#include <fmt/format.h>

#include "gops/deploy/deploy.h"

namespace gops::deploy {

namespace {

bool tagChar(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  return alnum || (!first && (c == '.' || c == '-'));
}

/// A gops name: a lower-case letter, then lower-case letters, digits and `_`.
bool validName(const std::string& name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

bool validImageTag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128) return false;
  for (std::size_t i = 0; i < tag.size(); ++i) {
    if (!tagChar(tag[i], i == 0)) return false;
  }
  return true;
}

ImageTags ImageTags::parse(const std::vector<std::string>& values) {
  ImageTags t;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t end = value.find(',', start);
      if (end == std::string::npos) end = value.size();
      const std::string item = value.substr(start, end - start);
      start = end + 1;
      const std::size_t eq = item.find('=');
      const std::string name = eq == std::string::npos ? std::string() : item.substr(0, eq);
      const std::string tag = eq == std::string::npos ? item : item.substr(eq + 1);
      if (eq != std::string::npos && !validName(name)) {
        throw DeployError(fmt::format("`{}`: `{}` is not the name of a service or job (lower-case letters, digits and `_`)", item, name));
      }
      if (!validImageTag(tag)) {
        throw DeployError(fmt::format("`{}` is not an image tag (letters, digits, `_`, `.`, `-`; at most 128){}", tag.empty() ? item : tag,
                                      eq == std::string::npos ? "" : fmt::format(", in `{}`", item)));
      }
      if (eq == std::string::npos) {
        if (!t.all_.empty()) {
          throw DeployError(fmt::format("two image tags for every service: `{}` and `{}`; give one, and `NAME=TAG` for the others", t.all_, tag));
        }
        t.all_ = tag;
      } else if (auto [it, fresh] = t.own_.emplace(name, tag); !fresh) {
        throw DeployError(fmt::format("two image tags for `{}`: `{}` and `{}`", name, it->second, tag));
      }
    }
  }
  if (t.empty()) throw DeployError("no image tag given");
  // A workload's own tag that is the tag of every workload says nothing more.
  for (auto it = t.own_.begin(); it != t.own_.end();) it = it->second == t.all_ ? t.own_.erase(it) : std::next(it);
  return t;
}

std::optional<ImageTags> ImageTags::fromText(const std::string& text) {
  try {
    return parse({text});
  } catch (const DeployError&) {
    return std::nullopt;
  }
}

std::optional<std::string> ImageTags::of(const std::string& name) const {
  if (auto it = own_.find(name); it != own_.end()) return it->second;
  if (!all_.empty()) return all_;
  return std::nullopt;
}

std::vector<std::string> ImageTags::distinct() const {
  std::set<std::string> tags;
  if (!all_.empty()) tags.insert(all_);
  for (const auto& [_, tag] : own_) tags.insert(tag);
  return {tags.begin(), tags.end()};
}

std::string ImageTags::text() const {
  std::string r = all_;
  for (const auto& [name, tag] : own_) r += fmt::format("{}{}={}", r.empty() ? "" : ",", name, tag);
  return r;
}

}  // namespace gops::deploy
