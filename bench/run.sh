#!/usr/bin/env bash
# Times `gops check` and `gops build` as whole processes on generated specs of N
# services (and N/10 jobs) over 3 environments: wall time (median of 3 runs), peak
# resident memory, and for build the files and bytes written. "cp s" is the time
# `cp -r` takes to create the same files in an empty directory: the file system's
# share of a fresh build, which no generator can go below. The last column is the
# build time's growth over the previous row (10x the services each row).
# Usage: bench/run.sh [BUILD_DIR] [N...]   (default: build, 10 100 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
gops=$(realpath "${1:-build}")/gops
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000 10000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median_peak CMD...: runs CMD 3 times; prints "median-seconds peak-KiB".
median_peak() {
  local times=() peak=0 out kb
  for _ in 1 2 3; do
    /usr/bin/time -o "$tmp/time" -f '%e %M' "$@" >/dev/null 2>&1
    out=$(tail -1 "$tmp/time")
    times+=("${out% *}")
    kb=${out#* }
    (( kb > peak )) && peak=$kb
  done
  echo "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p) $peak"
}

printf '%-8s %-8s %-9s %-9s %-9s %-9s %-7s %-11s %-7s %s\n' services lines "check s" "check MiB" "build s" "build MiB" files "bytes out" "cp s" growth
prev=""
for n in "${sizes[@]}"; do
  spec=$tmp/bench-$n.gops
  python3 bench/gen_spec.py "$n" "$spec"
  read -r ct cm < <(median_peak "$gops" check "$spec")
  rm -rf "$tmp/out"
  read -r bt bm < <(median_peak sh -c 'rm -rf "$1" && exec "$0" build "$2" -o "$1"' "$gops" "$tmp/out" "$spec")
  "$gops" build "$spec" -o "$tmp/out" >/dev/null 2>&1
  files=$(find "$tmp/out" -type f | wc -l)
  bytes=$(du -sb "$tmp/out" | cut -f1)
  read -r cpt _ < <(median_peak sh -c 'rm -rf "$1" && exec cp -r "$0" "$1"' "$tmp/out" "$tmp/copy")
  rm -rf "$tmp/copy"
  growth="-"
  [ -n "$prev" ] && growth=$(python3 -c "print(f'{$bt / max($prev, 0.001):.1f}x')")
  prev=$bt
  printf '%-8s %-8s %-9s %-9s %-9s %-9s %-7s %-11s %-7s %s\n' "$n" "$(wc -l < "$spec")" "$ct" "$((cm / 1024))" "$bt" "$((bm / 1024))" "$files" "$bytes" "$cpt" "$growth"
  rm -rf "$tmp/out"
done
