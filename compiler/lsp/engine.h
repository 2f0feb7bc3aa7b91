#pragma once
/// The language engine: what the editor features need from the compiler, with no
/// knowledge of LSP or JSON. It keeps the unsaved text of open files and, per app
/// (the folder of a file), a snapshot: the loaded program, the checker's analysis
/// and every diagnostic, computed by the same loader and checker as `gops check`.
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "diagnostics/diagnostic.h"
#include "sema/checker.h"
#include "sema/loader.h"

namespace gops::lsp {

struct Snapshot {
  sema::Program program;
  sema::Analysis analysis;
  std::vector<diag::Diagnostic> diagnostics;  ///< sorted by file and position
  std::string stdlibDir;
  /// ANTLR's tokens and trees of the parse, freed with the snapshot (off the thread
  /// that answers, see Engine).
  syntax::ParseResidue parseResidue;

  /// The file with this canonical path, or kNoFile.
  FileId fileOf(const std::string& path) const;
  /// The top-level declaration named `name` of one of `kinds`, in any file.
  const ast::Decl* findDecl(std::initializer_list<ast::DeclKind> kinds, const std::string& name) const;
  /// The environment names in declaration order.
  std::vector<std::string> environments() const;
};

/// Frees what it is given on a thread of its own: a snapshot of a large app is
/// ~100k nodes and tokens whose freeing would otherwise delay the next diagnostics.
class Reaper {
 public:
  Reaper();
  ~Reaper();  ///< frees what is left, then joins
  void dispose(std::shared_ptr<const void> p);

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<const void>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

class Engine {
 public:
  explicit Engine(std::string stdlibDir) : stdlibDir_(std::move(stdlibDir)) {}

  /// Unsaved contents of a file (by canonical path); replaces what is on disk.
  void setText(const std::string& path, std::string text);
  void removeText(const std::string& path);

  /// The analysis of the app `path` belongs to: every `.gops` file in its folder,
  /// with their imports. Computed once per change of any text.
  std::shared_ptr<const Snapshot> snapshot(const std::string& path);

  const std::string& stdlibDir() const { return stdlibDir_; }

 private:
  std::string stdlibDir_;
  std::map<std::string, std::string> overlays_;
  std::map<std::string, std::shared_ptr<const Snapshot>> cache_;  ///< by app folder
  Reaper reaper_;  ///< last: joined before the cache is destroyed
  void dropCache();
};

/// A canonical absolute path (symlinks resolved where the file exists).
std::string canonicalPath(const std::string& path);

}  // namespace gops::lsp
