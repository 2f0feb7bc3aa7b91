#include <catch2/catch.hpp>

#include "support/source.h"
#include "support/text.h"

using namespace gops;

TEST_CASE("edit distance counts transpositions as one edit", "[text]") {
  CHECK(editDistance("replicas", "replicsa") == 1);
  CHECK(editDistance("cpu", "cpu") == 0);
  CHECK(editDistance("", "abc") == 3);
  CHECK(editDistance("memory", "memroy") == 1);
}

TEST_CASE("did-you-mean picks the closest plausible name", "[text]") {
  std::vector<std::string> names = {"replicas", "region", "rollout", "memory"};
  CHECK(closestMatch("replicsa", names) == std::optional<std::string>("replicas"));
  CHECK(closestMatch("rolout", names) == std::optional<std::string>("rollout"));
  CHECK(closestMatch("xyz", names) == std::nullopt);
  CHECK(closestMatch("MEMORY", names) == std::optional<std::string>("memory"));
}

TEST_CASE("UTF-8 helpers handle invalid bytes", "[text]") {
  CHECK(utf8Length("héllo") == 5);
  CHECK(firstInvalidUtf8("ok\xff") == std::optional<std::size_t>(2));
  CHECK(firstInvalidUtf8("héllo") == std::nullopt);
  CHECK(sanitizeUtf8("a\xff" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(utf16Length("a\xF0\x9F\x98\x80") == 3);
}

TEST_CASE("source files map offsets to lines and columns", "[source]") {
  SourceManager sm;
  FileId id = sm.add("x.gops", "ab\ncé d\n");
  const SourceFile& f = sm.file(id);
  CHECK(f.lineCol(0).line == 1);
  CHECK(f.lineCol(3).line == 2);
  CHECK(f.lineCol(3).column == 1);
  CHECK(f.lineCol(7).column == 4);  // after "cé " (é is two bytes)
  CHECK(f.lineText(2) == "cé d");
  CHECK(f.offsetOf({2, 4}) == 7);
}
