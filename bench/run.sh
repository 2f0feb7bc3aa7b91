#!/usr/bin/env bash
# Times `gops check` (and, once it exists, `gops build`) as whole processes on
# generated specs of N services over 3 environments: wall time (median of 3 runs)
# and peak memory. Usage: bench/run.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
gops=${1:-build}/gops
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-8s %-10s %-10s %-12s %-10s\n' services lines "check s" "peak MiB" bytes
for n in 10 100 1000 10000; do
  spec=$tmp/bench-$n.gops
  python3 bench/gen_spec.py "$n" "$spec"
  times=()
  peak=0
  for _ in 1 2 3; do
    out=$( { /usr/bin/time -f '%e %M' "$gops" check "$spec" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    times+=("${out% *}")
    kb=${out#* }
    (( kb > peak )) && peak=$kb
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  printf '%-8s %-10s %-10s %-12s %-10s\n' "$n" "$(wc -l < "$spec")" "$median" "$((peak / 1024))" "$(wc -c < "$spec")"
done
