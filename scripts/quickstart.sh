#!/usr/bin/env bash
# Installs what is missing, builds gops, then checks the shop example, prints the
# resolved model of its prod environment, generates its files into out/ and lists
# them. Usage: scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOPS_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target gops
echo "+ build/gops check examples/shop"
build/gops check examples/shop && echo "examples/shop: no problems found"
echo "+ build/gops model examples/shop --env prod"
build/gops model examples/shop --env prod
echo "+ build/gops build examples/shop -o out"
build/gops build examples/shop -o out
echo "+ build/gops build examples/shop -o out --check"
build/gops build examples/shop -o out --check
(cd out && find . -type f | sort | sed 's|^\./|  out/|')
