// The language server's position arithmetic (UTF-16, clamping), URIs and the
// document store's incremental changes.
#include <catch2/catch.hpp>

#include "lsp/drafts.h"
#include "lsp/positions.h"

using namespace gops::lsp;

TEST_CASE("positions count UTF-16 code units", "[lsp]") {
  // "é" is 2 bytes and 1 unit; "😀" is 4 bytes and 2 units.
  std::string text = "ab\n\xC3\xA9x\n\xF0\x9F\x98\x80y\r\nlast";
  LineIndex idx(text);
  CHECK((idx.offsetOf({0, 1}) == 1));
  CHECK((idx.offsetOf({1, 1}) == 5));   // after é
  CHECK((idx.offsetOf({2, 2}) == 11));  // after the emoji
  CHECK((idx.offsetOf({2, 3}) == 12));  // after y
  CHECK((idx.positionOf(11) == Position{2, 2}));
  CHECK((idx.positionOf(5) == Position{1, 1}));
  SECTION("out of range positions clamp") {
    CHECK((idx.offsetOf({0, 99}) == 2));             // end of line 0, before \n
    CHECK((idx.offsetOf({2, 99}) == 12));            // before \r\n
    CHECK((idx.offsetOf({99, 0}) == text.size()));   // end of document
    CHECK(idx.positionOf(9999) == idx.positionOf(static_cast<std::uint32_t>(text.size())));
  }
  SECTION("invalid UTF-8 counts one unit per byte") {
    std::string bad = "\xFF\xFEz";
    LineIndex b(bad);
    CHECK((b.offsetOf({0, 2}) == 2));
    CHECK((b.positionOf(3) == Position{0, 3}));
  }
}

TEST_CASE("file URIs", "[lsp]") {
  CHECK(pathFromUri("file:///a/b%20c.gops") == "/a/b c.gops");
  CHECK(pathFromUri("file://localhost/x.gops") == "/x.gops");
  CHECK(pathFromUri("https://x/y.gops").empty());
  CHECK(pathFromUri("file://").empty());
  CHECK(pathFromUri("file:///a%00b").empty());
  CHECK(uriFromPath("/a/b c#.gops") == "file:///a/b%20c%23.gops");
  CHECK(pathFromUri(uriFromPath("/tmp/ü x/s.gops")) == "/tmp/ü x/s.gops");
}

TEST_CASE("incremental changes", "[lsp]") {
  DraftStore store;
  store.open("/a.gops", "service api {\n  replicas = 2\n}\n", 1);
  REQUIRE((store.change("/a.gops", {{Range{{1, 13}, {1, 14}}, "6"}}, 2)));
  CHECK((store.get("/a.gops")->text == "service api {\n  replicas = 6\n}\n"));
  CHECK(store.get("/a.gops")->version == 2);
  // Several changes apply in order; a reversed range is swapped; a full replacement.
  REQUIRE((store.change("/a.gops", {{Range{{0, 8}, {0, 11}}, "web"}, {Range{{1, 14}, {1, 13}}, "7"}}, 3)));
  CHECK((store.get("/a.gops")->text == "service web {\n  replicas = 7\n}\n"));
  REQUIRE((store.change("/a.gops", {{std::nullopt, "x"}}, 4)));
  CHECK(store.get("/a.gops")->text == "x");
  // Documents that are not open: changes and closes are refused, harmlessly.
  CHECK_FALSE((store.change("/b.gops", {{std::nullopt, "y"}}, 1)));
  CHECK(store.close("/a.gops"));
  CHECK_FALSE(store.close("/a.gops"));
}
