#!/usr/bin/env bash
# Runs the [moto] cases of the runtime tests against a private moto_server.
#
#   run_moto_tests.sh <path to gops_runtime_tests> [extra Catch2 arguments]
#
# Starts moto_server on a free port of 127.0.0.1, waits until it answers, runs the cases
# with GOPS_TEST_AWS_ENDPOINT pointing at it, and stops the server on exit.
# Exit code 77 (CTest: skipped) when moto_server is not installed.
set -euo pipefail

test_bin=${1:?usage: run_moto_tests.sh <gops_runtime_tests> [catch2 args...]}
shift

if ! command -v moto_server >/dev/null 2>&1; then
  echo "run_moto_tests.sh: moto_server is not installed; skipping" >&2
  exit 77
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp "${TMPDIR:-/tmp}/gops-moto.XXXXXX")

moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
server_pid=$!

cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

endpoint="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 150); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run_moto_tests.sh: moto_server exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  if python3 - "$endpoint" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1).read()
PY
    ready=1
    break
  fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "run_moto_tests.sh: moto_server did not answer on $endpoint" >&2
  cat "$log" >&2
  exit 1
fi

echo "run_moto_tests.sh: moto_server (pid $server_pid) on $endpoint"
GOPS_TEST_AWS_ENDPOINT="$endpoint" "$test_bin" "[moto]" "$@"
