#!/usr/bin/env bash
# Builds the libFuzzer target for parse + check (+ fmt) with clang, ASan and UBSan,
# and runs it on the seed corpus (tests/fuzz/corpus plus every .gops file in the
# repository). Usage: scripts/fuzz.sh [SECONDS]   (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
scripts/bootstrap.sh --test
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOPS_FUZZ=ON -DGOPS_BUILD_TESTS=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target gops_fuzz_check
work=tests/fuzz/corpus-work
mkdir -p "$work"
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
cp tests/fuzz/corpus/* "$seeds"/ 2>/dev/null || true
find examples stdlib tests/lit -name '*.gops' -exec cp --backup=numbered -t "$seeds" {} + 2>/dev/null || true
build-fuzz/tests/gops_fuzz_check "$work" "$seeds" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -dict=tests/fuzz/gops.dict -print_final_stats=1
