#include <catch2/catch.hpp>

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
