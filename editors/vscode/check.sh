#!/usr/bin/env bash
# Checks the VS Code extension: its TextMate grammar against the annotated samples in
# test/ with vscode-tmgrammar-test, then packages it into a .vsix with @vscode/vsce
# and checks what the .vsix holds. The npm packages (the versions in package.json)
# are installed on first use into a cache folder (GOPS_TOOLS_CACHE, default
# ~/.cache/gops-shared-tools/vscode-ext). Usage: editors/vscode/check.sh [OUT.vsix]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${GOPS_TOOLS_CACHE:-$HOME/.cache/gops-shared-tools}/vscode-ext"
if ! cmp -s "$here/package.json" "$cache/package.json" || [ ! -x "$cache/node_modules/.bin/vsce" ] \
   || [ ! -x "$cache/node_modules/.bin/vscode-tmgrammar-test" ]; then
  mkdir -p "$cache"
  cp "$here/package.json" "$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --silent >/dev/null) \
    || { echo "vscode-check: could not install the npm packages" >&2; exit 2; }
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== grammar tests"
(cd "$here" && "$cache/node_modules/.bin/vscode-tmgrammar-test" -g syntaxes/gops.tmLanguage.json 'test/*.gops')

echo "== package"
cp -r "$here" "$work/gops"
rm -f "$work/gops/check.sh"
ln -s "$cache/node_modules" "$work/gops/node_modules"
out="${1:-$work/gops.vsix}"
(cd "$work/gops" && "$cache/node_modules/.bin/vsce" package --skip-license --out "$out" >/dev/null)
python3 - "$out" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
need = ["extension/package.json", "extension/extension.js", "extension/language-configuration.json",
        "extension/syntaxes/gops.tmLanguage.json", "extension/node_modules/vscode-languageclient/package.json"]
missing = [n for n in need if n not in names]
if missing:
    sys.exit(f"vscode-check: the .vsix lacks {missing}")
pkg = json.loads(z.read("extension/package.json"))
assert pkg["contributes"]["languages"][0]["id"] == "gops"
print(f"vscode-check: {sys.argv[1].rsplit('/', 1)[-1]}: {len(names)} files, {sum(i.file_size for i in z.infolist()) // 1024} KiB unpacked")
PY
