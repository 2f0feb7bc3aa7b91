// SigV4 against the published AWS test-suite vectors in tests/runtime/sigv4/ (see the
// README there for their origin).

#include "gops/aws/sigv4.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "gops/aws/encoding.h"
#include "gops/aws/error.h"

namespace fs = std::filesystem;
using namespace gops::aws;

namespace {

const fs::path kVectors = fs::path(GOPS_RUNTIME_TEST_DATA) / "sigv4";

std::optional<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The suite's time, 2015-08-30T12:36:00Z.
std::chrono::system_clock::time_point suiteTime() { return *parseIso8601("2015-08-30T12:36:00Z"); }

Credentials suiteCredentials() {
  Credentials c;
  c.accessKeyId = "AKIDEXAMPLE";
  c.secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return c;
}

/// Parses a suite request: "METHOD URI HTTP/1.1", "Name:value" lines, a blank line, body.
HttpRequest parseSuiteRequest(const std::string& text) {
  HttpRequest request;
  std::size_t pos = 0;
  auto nextLine = [&]() -> std::optional<std::string> {
    if (pos > text.size()) return std::nullopt;
    const auto eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? text.size() + 1 : eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  };
  const std::string first = *nextLine();
  const auto sp1 = first.find(' ');
  const auto sp2 = first.rfind(' ');
  request.method = first.substr(0, sp1);
  const std::string uri = first.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = uri.find('?');
  request.path = uri.substr(0, q);
  request.query = q == std::string::npos ? "" : uri.substr(q + 1);
  while (auto line = nextLine()) {
    if (line->empty()) break;
    const auto colon = line->find(':');
    request.headers.emplace_back(line->substr(0, colon), line->substr(colon + 1));
  }
  if (pos <= text.size()) request.body = text.substr(pos);
  if (const std::string* host = findHeader(request.headers, "Host")) request.host = *host;
  return request;
}

/// The value of the "Authorization:" line of a signed request.
std::string authorizationLine(const std::string& signedRequest) {
  std::istringstream in(signedRequest);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Authorization:", 0) == 0) {
      std::string value = line.substr(14);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
      return value;
    }
  }
  return {};
}

std::vector<std::string> suiteCases() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kVectors)) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (fs::exists(entry.path() / (name + ".req"))) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("every copied AWS SigV4 test-suite vector signs exactly", "[sigv4]") {
  const std::vector<std::string> cases = suiteCases();
  REQUIRE(cases.size() == 30);

  int creqChecked = 0, stsChecked = 0, authzChecked = 0;
  for (const std::string& name : cases) {
    INFO("case " << name);
    const fs::path dir = kVectors / name;
    HttpRequest request = parseSuiteRequest(*readFile(dir / (name + ".req")));
    const SigningResult result =
        signRequest(request, suiteCredentials(), SigningParams{"us-east-1", "service", suiteTime(), false});

    if (auto creq = readFile(dir / (name + ".creq"))) {
      CHECK(result.canonicalRequest == *creq);
      ++creqChecked;
    }
    if (auto sts = readFile(dir / (name + ".sts"))) {
      CHECK(result.stringToSign == *sts);
      ++stsChecked;
    }
    const auto authz = readFile(dir / (name + ".authz"));
    REQUIRE(authz);
    CHECK(result.authorization == *authz);
    ++authzChecked;
    if (auto sreq = readFile(dir / (name + ".sreq"))) {
      CHECK(result.authorization == authorizationLine(*sreq));
    }
    // The signed request carries the Authorization header it reports.
    REQUIRE(findHeader(request.headers, "Authorization") != nullptr);
    CHECK(*findHeader(request.headers, "Authorization") == result.authorization);
  }
  CHECK(creqChecked == 28);
  CHECK(stsChecked == 28);
  CHECK(authzChecked == 30);
}

TEST_CASE("session-token vector (aws-c-auth get-vanilla-with-session-token)", "[sigv4]") {
  const fs::path dir = kVectors / "get-vanilla-with-session-token";
  const auto context = nlohmann::json::parse(*readFile(dir / "context.json"));
  const std::string signedText = *readFile(dir / "header-signed-request.txt");

  HttpRequest request = parseSuiteRequest(signedText);
  const std::string expectedToken = *findHeader(request.headers, "X-Amz-Security-Token");
  removeHeader(request.headers, "Authorization");
  removeHeader(request.headers, "X-Amz-Security-Token");

  Credentials credentials;
  credentials.accessKeyId = context["credentials"]["access_key_id"];
  credentials.secretAccessKey = context["credentials"]["secret_access_key"];
  credentials.sessionToken = context["credentials"]["token"];
  const SigningParams params{context["region"], context["service"],
                             *parseIso8601(context["timestamp"].get<std::string>()), false};

  const SigningResult result = signRequest(request, credentials, params);
  CHECK(result.authorization == authorizationLine(signedText));
  CHECK(result.signedHeaders == "host;x-amz-date;x-amz-security-token");
  REQUIRE(findHeader(request.headers, "X-Amz-Security-Token") != nullptr);
  CHECK(*findHeader(request.headers, "X-Amz-Security-Token") == expectedToken);
}

TEST_CASE("SigV4 building blocks", "[sigv4]") {
  SECTION("signing key of the AWS documentation example") {
    // The derivation example of the SigV4 documentation (secret of the suite,
    // 20150830/us-east-1/iam).
    CHECK(hexEncode(sigv4::signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                                      "iam")) ==
          "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  }
  SECTION("canonical URI double-encodes an already encoded path") {
    CHECK(sigv4::canonicalUri("/example%20space/") == "/example%2520space/");
    CHECK(sigv4::canonicalUri("") == "/");
    CHECK(sigv4::canonicalUri("/a/./b/../c") == "/a/c");
  }
  SECTION("canonical query handles encoded input, empty values and ordering") {
    CHECK(sigv4::canonicalQuery("b=2&a=%7E&c") == "a=~&b=2&c=");
    CHECK(sigv4::canonicalQuery("k=a%20b&k=a+b") == "k=a%20b&k=a%2Bb");
  }
  SECTION("x-amz-content-sha256 is added on request") {
    HttpRequest request;
    request.method = "POST";
    request.host = "example.amazonaws.com";
    request.body = "Param1=value1";
    const auto result =
        signRequest(request, suiteCredentials(), SigningParams{"us-east-1", "service", suiteTime(), true});
    CHECK(result.signedHeaders == "host;x-amz-content-sha256;x-amz-date");
    CHECK(*findHeader(request.headers, "x-amz-content-sha256") ==
          "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  }
  SECTION("re-signing replaces the previous Authorization and date") {
    HttpRequest request;
    request.host = "example.amazonaws.com";
    signRequest(request, suiteCredentials(), SigningParams{"us-east-1", "service", suiteTime(), false});
    const auto later = suiteTime() + std::chrono::seconds(5);
    const auto result =
        signRequest(request, suiteCredentials(), SigningParams{"us-east-1", "service", later, false});
    int authorizations = 0;
    for (const auto& [name, value] : request.headers) authorizations += iequals(name, "Authorization");
    CHECK(authorizations == 1);
    CHECK(*findHeader(request.headers, "X-Amz-Date") == "20150830T123605Z");
    CHECK(result.signedHeaders == "host;x-amz-date");
  }
  SECTION("incomplete credentials are refused") {
    HttpRequest request;
    request.host = "example.amazonaws.com";
    Credentials none;
    CHECK_THROWS_AS(signRequest(request, none, SigningParams{"us-east-1", "service", suiteTime(), false}),
                    CredentialsError);
  }
}
