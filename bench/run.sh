#!/usr/bin/env bash
# Times `gops check` and `gops build` as whole processes on generated specs of N
# services (and N/10 jobs) over 3 environments: wall time (median and best of RUNS
# runs, default 5), peak resident memory, and for build the files and bytes written.
# "again s" is `gops build` into the output it just wrote (median and best): nothing
# to write, so gops's own work without the file system's cost of creating files,
# what CI's `gops build --check` pays. "cp s" is the time
# `cp -r` takes to create the same files in an empty directory: the file system's
# share of a fresh build, which no generator can go below. The last column is the
# build time's growth over the previous row (10x the services each row, from the
# medians). Before and after the table, "machine speed" times a fixed CPU-bound loop:
# on a shared virtual machine it varies by 2-4x within minutes, and a table measured
# while it is slow says so.
# Usage: bench/run.sh [BUILD_DIR] [N...]   (default: build, 10 100 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
gops=$(realpath "${1:-build}")/gops
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000 10000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

runs=${RUNS:-5}

# median_peak CMD...: runs CMD $runs times; prints "median-seconds best-seconds peak-KiB".
median_peak() {
  local times=() peak=0 out kb
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$tmp/time" -f '%e %M' "$@" >/dev/null 2>&1
    out=$(tail -1 "$tmp/time")
    times+=("${out% *}")
    kb=${out#* }
    (( kb > peak )) && peak=$kb
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  echo "$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted") $(head -1 <<<"$sorted") $peak"
}

speed() {
  /usr/bin/time -f '%e' python3 -c 'sum(range(30_000_000))' 2>&1 | tail -1
}

echo "machine speed (a fixed loop, seconds): $(speed) $(speed) $(speed)"

printf '%-8s %-8s %-9s %-9s %-9s %-9s %-9s %-9s %-9s %-9s %-7s %-11s %-7s %s\n' services lines "check s" "(best)" "check MiB" "build s" "(best)" "build MiB" "again s" "(best)" files "bytes out" "cp s" growth
prev=""
for n in "${sizes[@]}"; do
  spec=$tmp/bench-$n.gops
  python3 bench/gen_spec.py "$n" "$spec"
  read -r ct cb cm < <(median_peak "$gops" check "$spec")
  rm -rf "$tmp/out"
  read -r bt bb bm < <(median_peak sh -c 'rm -rf "$1" && exec "$0" build "$2" -o "$1"' "$gops" "$tmp/out" "$spec")
  "$gops" build "$spec" -o "$tmp/out" >/dev/null 2>&1
  read -r at ab _ < <(median_peak "$gops" build "$spec" -o "$tmp/out")
  files=$(find "$tmp/out" -type f | wc -l)
  bytes=$(du -sb "$tmp/out" | cut -f1)
  read -r cpt _ _ < <(median_peak sh -c 'rm -rf "$1" && exec cp -r "$0" "$1"' "$tmp/out" "$tmp/copy")
  rm -rf "$tmp/copy"
  growth="-"
  [ -n "$prev" ] && growth=$(python3 -c "print(f'{$bt / max($prev, 0.001):.1f}x')")
  prev=$bt
  printf '%-8s %-8s %-9s %-9s %-9s %-9s %-9s %-9s %-9s %-9s %-7s %-11s %-7s %s\n' "$n" "$(wc -l < "$spec")" "$ct" "$cb" "$((cm / 1024))" "$bt" "$bb" "$((bm / 1024))" "$at" "$ab" "$files" "$bytes" "$cpt" "$growth"
  rm -rf "$tmp/out"
done
echo "machine speed (a fixed loop, seconds): $(speed) $(speed) $(speed)"
