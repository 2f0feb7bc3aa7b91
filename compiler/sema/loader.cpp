#include "sema/loader.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "support/text.h"

namespace gops::sema {

namespace fs = std::filesystem;
using diag::Code;

namespace {

std::string canonicalPath(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return (ec ? fs::absolute(p) : c).lexically_normal().string();
}

/// The path to show for a file: relative to the working directory when below it.
std::string displayPath(const std::string& real) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (!ec) {
    fs::path rel = fs::path(real).lexically_relative(cwd);
    if (!rel.empty() && *rel.begin() != "..") return rel.string();
  }
  return real;
}

class Loader {
 public:
  Loader(const LoadOptions& o, diag::DiagnosticEngine& d, Program& p) : opts_(o), diags_(d), prog_(p) {}

  void loadEntry(const std::string& arg) {
    std::error_code ec;
    fs::path p(arg);
    auto overlay = opts_.overlays.find(canonicalPath(p));
    if (overlay == opts_.overlays.end() && !fs::exists(p, ec)) {
      prog_.ioErrors.push_back(fmt::format("`{}`: no such file or directory", arg));
      return;
    }
    if (overlay == opts_.overlays.end() && fs::is_directory(p, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        if (e.path().extension() == ".gops" && !fs::is_directory(e.path(), ec)) files.push_back(e.path());
      }
      // Unsaved editor buffers of new files in this directory count too.
      std::string dir = canonicalPath(p);
      for (const auto& entry : opts_.overlays) {
        const std::string& path = entry.first;
        if (fs::path(path).parent_path() == fs::path(dir) && fs::path(path).extension() == ".gops" &&
            std::find_if(files.begin(), files.end(), [&](const fs::path& f) { return canonicalPath(f) == path; }) == files.end()) {
          files.push_back(path);
        }
      }
      if (ec) {
        prog_.ioErrors.push_back(fmt::format("`{}`: cannot list the directory: {}", arg, ec.message()));
        return;
      }
      if (files.empty()) {
        prog_.ioErrors.push_back(fmt::format("`{}`: the directory has no .gops files", arg));
        return;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) addEntry(f.string());
      return;
    }
    addEntry(arg);
  }

  void resolveImports() {
    // Breadth-first over files; new files are appended as they are found.
    for (FileId id = 0; id < prog_.files.size(); ++id) {
      for (const auto& decl : prog_.files[id].decls) {
        if (decl.kind != ast::DeclKind::Import) continue;
        Import imp{id, kNoFile, decl.nameRange, decl.name};
        imp.to = resolve(id, decl);
        prog_.imports.push_back(imp);
      }
    }
    reportCycles();
  }

 private:
  void addEntry(const std::string& path) {
    FileId id = loadFile(path, false, nullptr);
    if (id != kNoFile && std::find(prog_.entries.begin(), prog_.entries.end(), id) == prog_.entries.end()) {
      prog_.entries.push_back(id);
    }
  }

  /// Reads and parses a file once; returns its id (kNoFile on I/O failure).
  FileId loadFile(const std::string& path, bool isStdlib, const ast::Decl* importedBy) {
    std::string real = canonicalPath(path);
    if (auto it = byReal_.find(real); it != byReal_.end()) return it->second;
    std::string text;
    if (auto o = opts_.overlays.find(real); o != opts_.overlays.end()) {
      text = o->second;
    } else {
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        fail(importedBy, fmt::format("`{}` is a directory, not a file", path));
        return kNoFile;
      }
      auto size = fs::file_size(path, ec);
      if (!ec && size > opts_.maxFileBytes) {
        FileId id = add(real, isStdlib, std::string());
        // Rounded up, so that a file just over the limit is not reported as its size.
        diags_.report(Code::FileTooLarge, {id, 0, 0},
                      fmt::format("`{}` is {} MiB; gops reads spec files up to {} MiB", displayPath(real), (size + (1u << 20) - 1) >> 20,
                                  opts_.maxFileBytes >> 20))
            .help("split the spec into several files in one directory");
        prog_.files[id].syntaxOk = false;
        return id;
      }
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        fail(importedBy, fmt::format("`{}`: cannot read the file", path));
        return kNoFile;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      if (in.bad()) {
        fail(importedBy, fmt::format("`{}`: cannot read the file", path));
        return kNoFile;
      }
      text = ss.str();
    }
    FileId id = add(real, isStdlib, std::move(text));
    prog_.files[id] = syntax::parseFile(prog_.sources.file(id), diags_, opts_.parse, opts_.residue);
    return id;
  }

  FileId add(const std::string& real, bool isStdlib, std::string text) {
    std::string shown = isStdlib ? stdlibDisplay(real) : displayPath(real);
    FileId id = prog_.sources.add(shown, std::move(text));
    prog_.files.resize(id + 1);
    prog_.files[id].file = id;
    prog_.realPaths.resize(id + 1);
    prog_.realPaths[id] = real;
    prog_.stdlib.resize(id + 1);
    prog_.stdlib[id] = isStdlib;
    byReal_[real] = id;
    return id;
  }

  std::string stdlibDisplay(const std::string& real) const {
    fs::path rel = fs::path(real).lexically_relative(canonicalPath(opts_.stdlibDir));
    if (!rel.empty() && *rel.begin() != "..") return "<stdlib>/" + rel.generic_string();
    return real;
  }

  void fail(const ast::Decl* importedBy, std::string message) {
    if (importedBy) {
      diags_.report(Code::ImportNotFound, importedBy->nameRange, std::move(message), "imported here");
    } else {
      prog_.ioErrors.push_back(std::move(message));
    }
  }

  FileId resolve(FileId from, const ast::Decl& decl) {
    const std::string& path = decl.name;
    if (startsWith(path, "std/")) {
      std::string rel = endsWith(path, ".gops") ? path : path + ".gops";
      fs::path full = fs::path(opts_.stdlibDir) / rel;
      std::error_code ec;
      if (!opts_.stdlibDir.empty() && fs::is_regular_file(full, ec)) return loadFile(full.string(), true, &decl);
      auto b = diags_.report(Code::ImportNotFound, decl.nameRange, fmt::format("no standard module `{}`", path), "not in the standard library");
      auto mods = stdlibModules(opts_.stdlibDir);
      std::string bare = endsWith(path, ".gops") ? path.substr(0, path.size() - 5) : path;
      if (auto m = closestMatch(bare, mods)) {
        b.help(fmt::format("did you mean `{}`?", *m));
        b.fix(fmt::format("import `{}`", *m), decl.nameRange, "\"" + *m + "\"");
      } else if (!mods.empty()) {
        b.help(fmt::format("the standard modules are {}", joinQuoted(mods, " and ")));
      } else {
        b.note(fmt::format("the standard library was looked for in `{}`; set GOPS_STDLIB to its directory", opts_.stdlibDir));
      }
      return kNoFile;
    }
    if (!startsWith(path, "./") && !startsWith(path, "../")) {
      diags_.report(Code::ImportNotFound, decl.nameRange, fmt::format("cannot import `{}`", path), "neither a standard module nor a relative path")
          .help(fmt::format("standard modules start with `std/`; files of your own with `./`, as in `import \"./{}\"`", path));
      return kNoFile;
    }
    fs::path base = fs::path(prog_.realPaths[from]).parent_path();
    fs::path full = base / path;
    std::error_code ec;
    std::string real = canonicalPath(full);
    bool exists = fs::exists(full, ec) || opts_.overlays.count(real);
    if (!exists && full.extension() != ".gops") {
      fs::path withExt = full;
      withExt += ".gops";
      if (fs::exists(withExt, ec) || opts_.overlays.count(canonicalPath(withExt))) {
        full = withExt;
        exists = true;
      }
    }
    if (!exists) {
      auto b = diags_.report(Code::ImportNotFound, decl.nameRange, fmt::format("cannot find `{}`", path),
                             fmt::format("no such file next to `{}`", fs::path(prog_.sources.file(from).path()).filename().string()));
      std::vector<std::string> siblings;
      for (const auto& e : fs::directory_iterator(full.parent_path(), ec)) {
        // Never suggest that a file import itself.
        if (e.path().extension() == ".gops" && canonicalPath(e.path()) != prog_.realPaths[from]) {
          siblings.push_back("./" + e.path().filename().string());
        }
      }
      std::sort(siblings.begin(), siblings.end());
      if (auto m = closestMatch(path, siblings)) {
        b.help(fmt::format("did you mean `{}`?", *m));
        b.fix(fmt::format("import `{}`", *m), decl.nameRange, "\"" + *m + "\"");
      }
      return kNoFile;
    }
    return loadFile(full.string(), prog_.stdlib[from], &decl);
  }

  void reportCycles() {
    std::map<FileId, std::vector<const Import*>> out;
    for (const auto& imp : prog_.imports) {
      if (imp.to != kNoFile) out[imp.from].push_back(&imp);
    }
    std::vector<int> state(prog_.files.size(), 0);  // 0 new, 1 on stack, 2 done
    std::vector<const Import*> stack;
    std::set<std::set<FileId>> reported;
    std::function<void(FileId)> visit = [&](FileId f) {
      state[f] = 1;
      for (const Import* imp : out[f]) {
        if (state[imp->to] == 1) {
          // The cycle is the part of the stack from imp->to to here, closed by imp.
          std::vector<const Import*> cycle;
          auto it = std::find_if(stack.begin(), stack.end(), [&](const Import* s) { return s->from == imp->to; });
          cycle.assign(it, stack.end());
          cycle.push_back(imp);
          std::set<FileId> members;
          for (const auto* c : cycle) members.insert(c->from);
          if (!reported.insert(members).second) continue;
          std::string chain;
          for (const auto* c : cycle) chain += prog_.sources.file(c->from).path() + " -> ";
          chain += prog_.sources.file(imp->to).path();
          auto b = diags_.report(Code::ImportCycle, imp->range,
                                 cycle.size() == 1 ? fmt::format("`{}` imports itself", prog_.sources.file(imp->from).path())
                                                   : fmt::format("import cycle: {}", chain),
                                 "this import closes the cycle");
          for (const auto* c : cycle) {
            if (c != imp) b.label(c->range, "imported here");
          }
          if (cycle.size() == 1) {
            b.help("remove the import: a file needs no import of itself");
          } else {
            b.help("remove the import that closes the cycle (the declarations of every file are visible in all the others), "
                   "or move what the files share into a file that imports none of them");
          }
        } else if (state[imp->to] == 0) {
          stack.push_back(imp);
          visit(imp->to);
          stack.pop_back();
        }
      }
      state[f] = 2;
    };
    for (FileId f = 0; f < prog_.files.size(); ++f) {
      if (state[f] == 0) visit(f);
    }
  }

  const LoadOptions& opts_;
  diag::DiagnosticEngine& diags_;
  Program& prog_;
  std::map<std::string, FileId> byReal_;
};

}  // namespace

Program loadProgram(const std::vector<std::string>& paths, const LoadOptions& options, diag::DiagnosticEngine& diags) {
  Program prog;
  Loader loader(options, diags, prog);
  for (const auto& p : paths) loader.loadEntry(p);
  loader.resolveImports();
  return prog;
}

std::vector<std::string> stdlibModules(const std::string& stdlibDir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(stdlibDir) / "std", ec)) {
    if (e.path().extension() == ".gops") out.push_back("std/" + e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string findStdlib(const std::string& executablePath, const std::string& builtInSourceDir) {
  if (const char* env = std::getenv("GOPS_STDLIB"); env && *env) return env;
  std::error_code ec;
  if (!executablePath.empty()) {
    fs::path exe = fs::weakly_canonical(executablePath, ec);
    fs::path installed = exe.parent_path().parent_path() / "share" / "gops" / "stdlib";
    if (fs::is_directory(installed / "std", ec)) return installed.string();
  }
  return builtInSourceDir;
}

}  // namespace gops::sema
