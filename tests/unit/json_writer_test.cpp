#include <catch2/catch.hpp>

#include <cstdio>
#include <random>

#include "support/json_writer.h"

using namespace gops;

TEST_CASE("the JSON writer keeps key order and pretty-prints", "[json]") {
  std::string out;
  JsonWriter w(out);
  w.beginObject().member("b", 1).member("a", "x\"y").key("list").beginArray().value(1.5).value(true).endArray();
  w.key("empty").beginObject().endObject().endObject();
  CHECK(out == "{\n  \"b\": 1,\n  \"a\": \"x\\\"y\",\n  \"list\": [\n    1.5,\n    true\n  ],\n  \"empty\": {}\n}");
}

TEST_CASE("numbers print in their shortest form", "[json]") {
  CHECK(JsonWriter::number(2.0) == "2");
  CHECK(JsonWriter::number(0.8) == "0.8");
  std::string out;
  JsonWriter::escape(out, std::string("\x01", 1));
  CHECK(out == "\\u0001");
}

namespace {
// The obvious byte-at-a-time escape, to compare the writer's (which scans sixteen
// bytes at a time) against.
std::string referenceEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out;
}
}  // namespace

TEST_CASE("escaping finds every special byte at every position", "[json]") {
  // Each special byte (and bytes next to the ranges' edges: 0x1f/0x20, 0x7f, 0x80,
  // 0xff, UTF-8) at every offset of strings up to 70 bytes long, alone and in pairs.
  const std::string specials = std::string("\"\\\n\r\t\b\f\x01\x1f\x00", 10);
  const std::string plain = std::string("a \x20\x7f\x80\xff\xc3\xa9~!", 10);
  for (std::size_t len = 0; len <= 70; ++len) {
    std::string base;
    for (std::size_t i = 0; i < len; ++i) base += plain[i % plain.size()];
    std::string out;
    JsonWriter::escape(out, base);
    REQUIRE(out == referenceEscape(base));
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (char sp : specials) {
        std::string s = base;
        s[pos] = sp;
        if (pos + 17 < len) s[pos + 17] = '"';
        out.clear();
        JsonWriter::escape(out, s);
        INFO("length " << len << ", special byte " << static_cast<int>(static_cast<unsigned char>(sp)) << " at " << pos);
        REQUIRE(out == referenceEscape(s));
      }
    }
  }
  std::string out = "kept ";
  JsonWriter::escape(out, "appends");
  CHECK(out == "kept appends");
}

TEST_CASE("escaping strings dense with special bytes", "[json]") {
  // JSON inside a JSON string has a quote every few bytes, runs of specials, and
  // specials at block edges: random strings where half the bytes are special.
  const std::string specials = std::string("\"\\\n\r\t\b\f\x01\x1f\x00", 10);
  const std::string plain = std::string("a \x20\x7f\x80\xff\xc3\xa9~!", 10);
  std::mt19937 rng(7);
  for (int n = 0; n < 5000; ++n) {
    std::string s(rng() % 120, ' ');
    for (char& c : s) c = rng() % 2 ? specials[rng() % specials.size()] : plain[rng() % plain.size()];
    std::string out = "x";
    JsonWriter::escape(out, s);
    INFO("case " << n);
    REQUIRE(out == "x" + referenceEscape(s));
  }
  std::string all(100, '"');
  std::string out;
  JsonWriter::escape(out, all);
  CHECK(out == referenceEscape(all));
}
