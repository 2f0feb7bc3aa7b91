#include "lsp/engine.h"

#include <filesystem>

namespace gops::lsp {

namespace fs = std::filesystem;

std::string canonicalPath(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) return path;
  fs::path c = fs::weakly_canonical(abs, ec);
  return (ec ? abs : c).lexically_normal().string();
}

FileId Snapshot::fileOf(const std::string& path) const {
  for (FileId i = 0; i < program.realPaths.size(); ++i) {
    if (program.realPaths[i] == path) return i;
  }
  return kNoFile;
}

const ast::Decl* Snapshot::findDecl(std::initializer_list<ast::DeclKind> kinds, const std::string& name) const {
  for (const auto& f : program.files) {
    for (const auto& d : f.decls) {
      if (d.name != name) continue;
      for (auto k : kinds) {
        if (d.kind == k) return &d;
      }
    }
  }
  return nullptr;
}

std::vector<std::string> Snapshot::environments() const {
  std::vector<std::string> out;
  for (const auto& f : program.files) {
    for (const auto& d : f.decls) {
      if (d.kind == ast::DeclKind::Environment && !d.name.empty()) out.push_back(d.name);
    }
  }
  return out;
}

Reaper::Reaper() : thread_([this] { loop(); }) {}

Reaper::~Reaper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Reaper::dispose(std::shared_ptr<const void> p) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
}

void Reaper::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    while (!queue_.empty()) {
      std::shared_ptr<const void> p = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      p.reset();  // the last owner frees it here, unless a request still holds it
      lock.lock();
    }
    if (stop_) return;
  }
}

void Engine::dropCache() {
  for (auto& [root, snap] : cache_) reaper_.dispose(std::move(snap));
  cache_.clear();
}

void Engine::setText(const std::string& path, std::string text) {
  overlays_[path] = std::move(text);
  dropCache();
}

void Engine::removeText(const std::string& path) {
  overlays_.erase(path);
  dropCache();
}

std::shared_ptr<const Snapshot> Engine::snapshot(const std::string& path) {
  fs::path p(path);
  std::string root = p.extension() == ".gops" ? p.parent_path().string() : path;
  if (auto it = cache_.find(root); it != cache_.end()) return it->second;
  auto s = std::make_shared<Snapshot>();
  s->stdlibDir = stdlibDir_;
  sema::LoadOptions opts;
  opts.stdlibDir = stdlibDir_;
  opts.overlays = overlays_;
  opts.residue = &s->parseResidue;
  diag::DiagnosticEngine diags;
  s->program = sema::loadProgram({root}, opts, diags);
  if (s->fileOf(path) == kNoFile) {
    // Not part of its folder's app (say, not a .gops file): check it alone.
    diags.clear();
    s->program = sema::loadProgram({path}, opts, diags);
  }
  s->analysis = sema::analyze(s->program, diags);
  diags.sort();
  s->diagnostics = diags.diagnostics();
  cache_[root] = s;
  return s;
}

}  // namespace gops::lsp
