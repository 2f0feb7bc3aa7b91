#pragma once

// Helpers shared by the runtime unit tests: a scripted HTTP transport, a guard that sets
// and restores process environment variables, and a temporary directory.

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "gops/aws/error.h"
#include "gops/aws/http.h"

namespace gops::aws::test {

/// Returns scripted responses (or throws scripted transport errors) in order and records
/// every request it was given.
class FakeTransport final : public HttpTransport {
 public:
  using Outcome = std::variant<HttpResponse, TransportError>;

  void push(HttpResponse response) { outcomes_.emplace_back(std::move(response)); }
  void push(int status, std::string body, Headers headers = {}) {
    push(HttpResponse{status, std::move(headers), std::move(body)});
  }
  void pushError(TransportError::Kind kind, const std::string& detail = "scripted") {
    outcomes_.emplace_back(TransportError(kind, detail));
  }

  HttpResponse send(const HttpRequest& request) override {
    requests.push_back(request);
    if (outcomes_.empty()) throw TransportError(TransportError::Kind::Other, "no scripted response left");
    Outcome next = std::move(outcomes_.front());
    outcomes_.pop_front();
    if (auto* error = std::get_if<TransportError>(&next)) throw *error;
    return std::get<HttpResponse>(std::move(next));
  }

  std::vector<HttpRequest> requests;

 private:
  std::deque<Outcome> outcomes_;
};

/// Sets (or unsets, with nullopt) process environment variables, restoring them when
/// destroyed.
class EnvGuard {
 public:
  EnvGuard() = default;
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  ~EnvGuard() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        ::setenv(name.c_str(), old->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

  void set(const std::string& name, const std::optional<std::string>& value) {
    if (!saved_.contains(name)) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

/// A fresh directory under the system temp dir, removed with its contents when destroyed.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    for (int i = 0; i < 100; ++i) {
      auto candidate = std::filesystem::temp_directory_path() /
                       ("gops-runtime-test-" + std::to_string(rd()) + std::to_string(i));
      if (std::filesystem::create_directory(candidate)) {
        path_ = candidate;
        return;
      }
    }
    throw std::runtime_error("cannot create a temporary directory");
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }

  /// Writes `text` to `name` inside the directory and returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << text;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace gops::aws::test
