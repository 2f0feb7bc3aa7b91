#pragma once
/// A streaming JSON writer. Keys come out in the order they are written, so callers
/// own the (documented) key order and output is deterministic without building a
/// DOM. Pretty output matches the common 2-space style: `{`, one member per line,
/// `"key": value`, empty containers as `{}` and `[]`.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gops {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out, bool pretty = true) : out_(out), pretty_(pretty) {}

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(std::uint32_t n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(double d);
  JsonWriter& value(bool b);
  JsonWriter& null();
  /// Inserts already-serialised JSON as one value.
  JsonWriter& raw(std::string_view json);

  template <class T>
  JsonWriter& member(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  static void escape(std::string& out, std::string_view s);
  /// Shortest text that reads back as the same double; integers print without a dot.
  static std::string number(double d);

 private:
  void beforeValue();
  void newline();

  struct Level {
    bool isObject;
    bool empty = true;
  };
  std::string& out_;
  bool pretty_;
  bool afterKey_ = false;
  std::vector<Level> stack_;
};

}  // namespace gops
