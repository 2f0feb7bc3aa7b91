#pragma once
/// Writing Terraform JSON without a DOM. `Body` streams one JSON value in the
/// 2-space pretty style of support/json_writer.h and checks, as it goes, that the
/// keys of every object arrive in strictly increasing byte order (the order of
/// std::map and of `jq -S`): the code that fills a block lists its keys sorted, and
/// a mistake fails loudly instead of producing unsorted output. `Module` collects
/// the blocks of one root module and renders them sorted by section, type and name.
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gops::backend::terraform {

/// Thrown when generated keys arrive out of order or twice: a bug in the backend.
struct KeyOrderError : std::exception {
  std::string message;
  explicit KeyOrderError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

class Body {
 public:
  /// Appends to `out`; `depth` is the nesting level the value starts at, so its
  /// lines are indented to sit inside the enclosing file.
  Body(std::string& out, int depth) : out_(out), depth_(depth) {}

  // Members of the current object. Keys must be strictly increasing.
  Body& key(std::string_view k);
  Body& str(std::string_view k, std::string_view v) { return key(k).value(v); }
  Body& num(std::string_view k, double v) { return key(k).number(v); }
  Body& flag(std::string_view k, bool v) { return key(k).boolean(v); }
  Body& strings(std::string_view k, const std::vector<std::string>& v);
  /// `k: {` — close with end().
  Body& object(std::string_view k) { return key(k).beginObject(); }
  /// `k: [` — close with end().
  Body& array(std::string_view k) { return key(k).beginArray(); }

  // Values: after key(), or as array elements.
  Body& value(std::string_view s);
  Body& value(const char* s) { return value(std::string_view(s)); }
  Body& value(const std::string& s) { return value(std::string_view(s)); }
  Body& number(double d);
  Body& boolean(bool b);
  Body& beginObject();
  Body& beginArray();
  /// Closes the innermost object or array.
  Body& end();
  /// Inserts a value already serialised at this depth (a rendered block).
  Body& raw(std::string_view json);

 private:
  void beforeValue();
  void newline();

  struct Level {
    bool isObject;
    bool empty = true;
    std::string lastKey;
  };
  std::string& out_;
  int depth_;
  bool afterKey_ = false;
  std::vector<Level> stack_;
};

/// One root module (one main.tf.json). Blocks are filled by callbacks that write
/// the block's body; render() sorts them and checks that no name is used twice.
class Module {
 public:
  explicit Module(std::string comment) : comment_(std::move(comment)) {}

  template <class Fill>
  void resource(std::string_view type, std::string_view name, Fill&& fill) {
    add(Section::Resource, type, name, 3, fill);
  }
  template <class Fill>
  void data(std::string_view type, std::string_view name, Fill&& fill) {
    add(Section::Data, type, name, 3, fill);
  }
  template <class Fill>
  void provider(std::string_view name, Fill&& fill) {
    add(Section::Provider, name, {}, 2, fill);
  }
  template <class Fill>
  void variable(std::string_view name, Fill&& fill) {
    add(Section::Variable, name, {}, 2, fill);
  }
  template <class Fill>
  void terraform(Fill&& fill) {
    add(Section::Terraform, {}, {}, 1, fill);
  }
  /// An output whose value is the reference `expression` (written as `${expression}`).
  void output(std::string_view name, std::string_view expression, std::string_view description);

  /// The file's text. Blocks declared twice (same section, type and name) are
  /// reported once each in `duplicates` as "resource aws_x.name", in sorted order.
  std::string render(std::vector<std::string>& duplicates);

 private:
  /// In the order the sections' keys sort in.
  enum class Section { Data, Output, Provider, Resource, Terraform, Variable };
  struct Block {
    Section section;
    std::string type;  ///< resource or data type, or the name of an output, provider or variable
    std::string name;  ///< resource or data name
    std::string body;
  };

  template <class Fill>
  void add(Section s, std::string_view type, std::string_view name, int depth, Fill&& fill) {
    Block b{s, std::string(type), std::string(name), {}};
    b.body.reserve(1024);  // most blocks fit: fewer reallocations while filling
    Body w(b.body, depth);
    w.beginObject();
    fill(w);
    w.end();
    blocks_.push_back(std::move(b));
  }

  std::string comment_;
  std::vector<Block> blocks_;
};

}  // namespace gops::backend::terraform
