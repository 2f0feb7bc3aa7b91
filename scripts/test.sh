#!/usr/bin/env bash
# Installs what is missing, builds gops and runs the whole test suite through CTest
# (unit tests, lit/FileCheck tests, repository checks, runtime tests against a local
# moto_server). Prints CTest's one-line summary last. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOPS_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)"
