#pragma once
/// The `gops` subcommands. Each returns the process exit code:
/// 0 success, 1 the spec has errors (or `--check` found differences), 2 usage or I/O.
#include <string>
#include <vector>

namespace gops::driver {

enum class ColorMode { Auto, Always, Never };

struct GlobalOptions {
  ColorMode color = ColorMode::Auto;
  std::string executable;
};

struct CheckOptions {
  std::vector<std::string> paths;
  std::string format = "human";  // human | json | sarif
};
int runCheck(const GlobalOptions& g, const CheckOptions& o);

struct ModelOptions {
  std::string path;
  std::string env;
  std::string format = "text";  // text | json
};
int runModel(const GlobalOptions& g, const ModelOptions& o);

struct FmtOptions {
  std::vector<std::string> paths;
  bool check = false;
};
int runFmt(const GlobalOptions& g, const FmtOptions& o);

struct BuildOptions {
  std::string path;
  std::string out;
  std::vector<std::string> envs;  // empty: every environment
  std::vector<std::string> emit;  // empty: every backend
  bool check = false;             // compare with OUT instead of writing
};
int runBuild(const GlobalOptions& g, const BuildOptions& o);

struct GraphOptions {
  std::string path;
  std::string format = "mermaid";  // mermaid | dot
};
int runGraph(const GlobalOptions& g, const GraphOptions& o);

struct LspOptions {
  std::string inputStyle = "standard";  // standard | delimited
  int debounceMs = 50;
};
int runLsp(const GlobalOptions& g, const LspOptions& o);

int runExplain(const GlobalOptions& g, const std::string& code, bool list);

}  // namespace gops::driver
