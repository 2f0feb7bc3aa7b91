#include "backends/terraform/body.h"

#include <algorithm>
#include <tuple>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "support/json_writer.h"

namespace gops::backend::terraform {

using namespace fmt::literals;  // "..."_cf: format strings compiled, not parsed per call

void Body::newline() {
  out_ += '\n';
  out_.append(static_cast<std::size_t>(depth_ + static_cast<int>(stack_.size())) * 2, ' ');
}

void Body::beforeValue() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!stack_.empty()) {
    if (!stack_.back().empty) out_ += ',';
    stack_.back().empty = false;
    newline();
  }
}

Body& Body::key(std::string_view k) {
  Level& level = stack_.back();
  if (!level.empty && !(level.lastKey < k)) {
    throw KeyOrderError(fmt::format("internal error: Terraform key `{}` written after `{}`"_cf, k, level.lastKey));
  }
  level.lastKey.assign(k);
  beforeValue();
  out_ += '"';
  JsonWriter::escape(out_, k);
  out_ += "\": ";
  afterKey_ = true;
  return *this;
}

Body& Body::strings(std::string_view k, const std::vector<std::string>& v) {
  array(k);
  for (const auto& s : v) value(s);
  return end();
}

Body& Body::value(std::string_view s) {
  beforeValue();
  out_ += '"';
  JsonWriter::escape(out_, s);
  out_ += '"';
  return *this;
}

Body& Body::number(double d) {
  beforeValue();
  out_ += JsonWriter::number(d);
  return *this;
}

Body& Body::boolean(bool b) {
  beforeValue();
  out_ += b ? "true" : "false";
  return *this;
}

Body& Body::beginObject() {
  beforeValue();
  out_ += '{';
  stack_.push_back(Level{true, true, {}});
  return *this;
}

Body& Body::beginArray() {
  beforeValue();
  out_ += '[';
  stack_.push_back(Level{false, true, {}});
  return *this;
}

Body& Body::end() {
  bool isObject = stack_.back().isObject;
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_ += isObject ? '}' : ']';
  return *this;
}

Body& Body::raw(std::string_view json) {
  beforeValue();
  out_ += json;
  return *this;
}

void Module::output(std::string_view name, std::string_view expression, std::string_view description) {
  add(Section::Output, name, {}, 2, [&](Body& b) {
    b.str("description", description);
    b.str("value", fmt::format("${{{}}}"_cf, expression));
  });
}

std::string Module::render(std::vector<std::string>& duplicates) {
  // Sort by one flat key per block (section, type, NUL, name: the order of the
  // tuple, since names hold no NUL) and move each block once.
  {
    std::vector<std::pair<std::string, std::size_t>> keys;
    keys.reserve(blocks_.size());
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      const Block& b = blocks_[i];
      std::string k;
      k.reserve(b.type.size() + b.name.size() + 2);
      k += static_cast<char>('A' + static_cast<int>(b.section));
      k += b.type;
      k += '\0';
      k += b.name;
      keys.emplace_back(std::move(k), i);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<Block> sorted;
    sorted.reserve(blocks_.size());
    for (auto& k : keys) sorted.push_back(std::move(blocks_[k.second]));
    blocks_ = std::move(sorted);
  }
  static constexpr const char* kSectionKeys[] = {"data", "output", "provider", "resource", "terraform", "variable"};
  std::size_t size = comment_.size() + 64;
  for (const auto& b : blocks_) size += b.body.size() + b.type.size() + b.name.size() + 16;
  std::string out;
  out.reserve(size);
  Body w(out, 0);
  w.beginObject().str("//", comment_);
  std::size_t i = 0;
  while (i < blocks_.size()) {
    Section section = blocks_[i].section;
    bool named = section == Section::Resource || section == Section::Data;
    w.key(kSectionKeys[static_cast<int>(section)]);
    if (section == Section::Terraform) {
      w.raw(blocks_[i].body);
      ++i;
      continue;
    }
    w.beginObject();
    while (i < blocks_.size() && blocks_[i].section == section) {
      const std::string& type = blocks_[i].type;
      if (!named) {
        if (i > 0 && blocks_[i - 1].section == section && blocks_[i - 1].type == type) {
          std::string d = fmt::format("{} {}"_cf, kSectionKeys[static_cast<int>(section)], type);
          if (duplicates.empty() || duplicates.back() != d) duplicates.push_back(std::move(d));
        } else {
          w.key(type).raw(blocks_[i].body);
        }
        ++i;
        continue;
      }
      w.key(type).beginObject();
      for (; i < blocks_.size() && blocks_[i].section == section && blocks_[i].type == type; ++i) {
        if (!blocks_[i].name.empty() && i > 0 && blocks_[i - 1].section == section && blocks_[i - 1].type == type &&
            blocks_[i - 1].name == blocks_[i].name) {
          std::string d = fmt::format("{} {}.{}"_cf, kSectionKeys[static_cast<int>(section)], type, blocks_[i].name);
          if (duplicates.empty() || duplicates.back() != d) duplicates.push_back(std::move(d));
          continue;
        }
        w.key(blocks_[i].name).raw(blocks_[i].body);
      }
      w.end();
    }
    w.end();
  }
  w.end();
  out += '\n';
  return out;
}

}  // namespace gops::backend::terraform
