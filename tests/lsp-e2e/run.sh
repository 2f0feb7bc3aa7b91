#!/usr/bin/env bash
# End-to-end test of `gops lsp` with real clients:
#   - e2e.js: vscode-jsonrpc + vscode-languageserver-protocol (npm), what VS Code's
#     client is built on;
#   - nvim.lua: Neovim's built-in LSP client, headless.
# Usage: run.sh GOPS [node|nvim]
# The npm packages are installed on first use into a cache folder
# (GOPS_TOOLS_CACHE, default ~/.cache/gops-shared-tools/lsp-e2e).
set -euo pipefail
gops="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
what="${2:-node}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/examples/shop" "$work/shop"
export GOPS_STDLIB="$root/stdlib"
case "$what" in
  node)
    cache="${GOPS_TOOLS_CACHE:-$HOME/.cache/gops-shared-tools}/lsp-e2e"
    if [ ! -d "$cache/node_modules/vscode-languageserver-protocol" ] || [ ! -d "$cache/node_modules/vscode-jsonrpc" ]; then
      mkdir -p "$cache"
      cp "$here/package.json" "$cache/package.json"
      (cd "$cache" && npm install --no-audit --no-fund --silent >/dev/null) \
        || { echo "lsp-e2e: could not install the npm packages" >&2; exit 2; }
    fi
    NODE_PATH="$cache/node_modules" node "$here/e2e.js" "$gops" "$work/shop"
    ;;
  nvim)
    command -v nvim >/dev/null || { echo "lsp-e2e: nvim is not installed (scripts/bootstrap.sh --test installs it)" >&2; exit 2; }
    # The introduced error: memory = 1 (a number where a size is expected).
    sed -i '0,/memory   = 1 GiB/s//memory   = 1/' "$work/shop/shop.gops"
    GOPS="$gops" GOPS_E2E_FILE="$work/shop/shop.gops" timeout 60 nvim --headless --clean -u NONE -c "luafile $here/nvim.lua"
    ;;
  *) echo "usage: run.sh GOPS [node|nvim]" >&2; exit 2 ;;
esac
