// The XML tree used for query-protocol responses, and the encoding helpers.

#include "gops/aws/xml.h"

#include <catch2/catch.hpp>

#include "gops/aws/encoding.h"
#include "gops/aws/error.h"

using namespace gops::aws;

TEST_CASE("XML tree of an STS response", "[xml]") {
  const XmlDocument doc = XmlDocument::parse(R"(<?xml version="1.0" encoding="UTF-8"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:user/moto</Arn>
    <UserId>AKIAIOSFODNN7EXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>)");
  CHECK(doc.root().name() == "GetCallerIdentityResponse");
  CHECK(doc.result().name() == "GetCallerIdentityResult");
  CHECK(doc.result().childText("Account") == "123456789012");
  CHECK(doc.result().childTextOr("Missing", "fallback") == "fallback");
  CHECK_FALSE(doc.result().childText("Missing"));
  CHECK(doc.root().findText("GetCallerIdentityResult/Arn") == "arn:aws:sts::123456789012:user/moto");
  CHECK(doc.root().find("GetCallerIdentityResult/Nope/Arn") == nullptr);
  CHECK(doc.requestId() == "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
  CHECK(doc.result().at("UserId").text() == "AKIAIOSFODNN7EXAMPLE");
  CHECK_THROWS_AS(doc.result().at("Nope"), ResponseError);
}

TEST_CASE("XML lists, prefixes, attributes, entities and CDATA", "[xml]") {
  const XmlDocument doc = XmlDocument::parse(
      R"(<a:Root xmlns:a="urn:x" id="7"><a:Items><member>1</member><member>2 &amp; 3</member>)"
      R"(<other/><member><![CDATA[<raw>]]></member></a:Items><Empty/></a:Root>)");
  CHECK(doc.root().name() == "Root");
  REQUIRE(doc.root().attribute("id") != nullptr);
  CHECK(*doc.root().attribute("id") == "7");
  const auto items = doc.root().members("Items");
  REQUIRE(items.size() == 3);
  CHECK(items[1]->text() == "2 & 3");
  CHECK(items[2]->text() == "<raw>");
  CHECK(doc.root().members("Absent").empty());
  CHECK(doc.root().child("Empty")->text().empty());
  CHECK(doc.root().childrenNamed("Items").size() == 1);
  CHECK(doc.result().name() == "Root");  // no ...Result child
}

TEST_CASE("malformed XML and external entities", "[xml]") {
  CHECK_THROWS_AS(XmlDocument::parse(""), ResponseError);
  CHECK_THROWS_AS(XmlDocument::parse("<a><b></a>"), ResponseError);
  CHECK_THROWS_AS(XmlDocument::parse("not xml"), ResponseError);
  // External entities are never loaded.
  try {
    const XmlDocument doc = XmlDocument::parse(
        R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>)");
    CHECK(doc.root().text().find("root:") == std::string::npos);
  } catch (const ResponseError&) {
    SUCCEED("rejected");
  }
}

TEST_CASE("percent-encoding and form bodies", "[encoding]") {
  CHECK(uriEncode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(uriEncode("a b/c+d=e&f") == "a%20b%2Fc%2Bd%3De%26f");
  CHECK(uriEncode("a b/c", true) == "a%20b/c");
  CHECK(uriEncode("\xE1\x88\xB4") == "%E1%88%B4");
  CHECK(percentDecode("a%20b%2f%zz%4") == "a b/%zz%4");
  CHECK(percentDecode("a+b") == "a+b");
  QueryParams p{{"Version", "2011-06-15"}, {"Action", "GetCallerIdentity"}, {"Key", "a b&c"}};
  CHECK(formEncode(p) == "Action=GetCallerIdentity&Key=a%20b%26c&Version=2011-06-15");
  addQueryList(p, "Names.member", {"x", "y"});
  CHECK(p.at("Names.member.1") == "x");
  CHECK(p.at("Names.member.2") == "y");
}

TEST_CASE("timestamps", "[encoding]") {
  const auto t = parseIso8601("2015-08-30T12:36:00Z");
  REQUIRE(t);
  CHECK(formatAmzDate(*t) == "20150830T123600Z");
  CHECK(formatDateStamp(*t) == "20150830");
  CHECK(formatIso8601(*t) == "2015-08-30T12:36:00Z");
  CHECK(parseIso8601("2015-08-30T12:36:00.123Z") == t);
  CHECK(parseIso8601("2015-08-30T14:36:00+02:00") == t);
  CHECK(parseIso8601("2015-08-30T10:06:00-0230") == t);
  CHECK(parseIso8601("20150830T123600Z") == t);
  CHECK_FALSE(parseIso8601("2015-13-30T12:36:00Z"));
  CHECK_FALSE(parseIso8601("2015-08-30T12:36:00"));
  CHECK_FALSE(parseIso8601("yesterday"));
  CHECK_FALSE(parseIso8601("2015-08-30T12:36:00Zjunk"));
}
