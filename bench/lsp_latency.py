#!/usr/bin/env python3
"""Diagnostics latency of `gops lsp` after an edit of a large spec.

Generates a spec of at least LINES lines with gen_spec.py, opens it in `gops lsp`,
then edits it repeatedly (alternately introducing and fixing a type error) and
measures the time from sending textDocument/didChange to receiving the
textDocument/publishDiagnostics of that version. Run once with the server's default
debounce and once with --debounce-ms 0 (the check alone).

Before and after, "machine speed" times a fixed CPU-bound loop: on a shared virtual
machine it varies by 2-4x within minutes, which moves every figure with it.

Usage: bench/lsp_latency.py GOPS [LINES=10000] [EDITS=20]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

gops = sys.argv[1]
target = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
edits = int(sys.argv[3]) if len(sys.argv) > 3 else 20
here = os.path.dirname(os.path.abspath(__file__))


def send(proc, msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("gops lsp exited")
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))


def wait_diagnostics(proc, uri, version):
    while True:
        m = receive(proc)
        p = m.get("params", {})
        if m.get("method") == "textDocument/publishDiagnostics" and p.get("uri") == uri and p.get("version") == version:
            return p["diagnostics"]


def measure(spec, extra):
    text = open(spec).read()
    lines = text.split("\n")
    uri = "file://" + spec
    proc = subprocess.Popen([gops, "lsp"] + extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    receive(proc)
    t0 = time.perf_counter()
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "gops", "version": 1, "text": text}}})
    wait_diagnostics(proc, uri, 1)
    first = time.perf_counter() - t0
    targets = [i for i, l in enumerate(lines) if l.startswith("  memory   = 1 GiB")]
    times = []
    for k in range(edits):
        line = targets[(k // 2 * 7) % len(targets)]
        broken = k % 2 == 0
        old, new = ("1 GiB", "1") if broken else ("1", "1 GiB")
        col = lines[line].index("= ") + 2
        change = {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + len(old)}}, "text": new}
        lines[line] = lines[line][:col] + new
        t0 = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri, "version": k + 2}, "contentChanges": [change]}})
        diags = wait_diagnostics(proc, uri, k + 2)
        times.append(time.perf_counter() - t0)
        assert (len(diags) > 0) == broken, diags
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=30)
    return first, times


def speed():
    t0 = time.perf_counter()
    sum(range(30_000_000))
    return time.perf_counter() - t0


def show_speed():
    print("machine speed (a fixed loop, seconds): " + " ".join(f"{speed():.2f}" for _ in range(3)))


with tempfile.TemporaryDirectory() as tmp:
    show_speed()
    spec = os.path.join(tmp, "app", "bench.gops")
    os.makedirs(os.path.dirname(spec))
    n = max(1, target // 25)
    while True:
        subprocess.run([sys.executable, os.path.join(here, "gen_spec.py"), str(n), spec], check=True)
        count = sum(1 for _ in open(spec))
        if count >= target:
            break
        n = int(n * target / count) + 1
    print(f"spec: {count} lines, {os.path.getsize(spec) // 1024} KiB ({n} services)")
    for label, extra in (("default debounce (50 ms)", []), ("no debounce", ["--debounce-ms", "0"])):
        first, times = measure(spec, extra)
        ms = sorted(t * 1000 for t in times)
        p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
        print(f"{label}: open {first * 1000:.0f} ms; after an edit median {statistics.median(ms):.0f} ms, "
              f"min {ms[0]:.0f} ms, 90th percentile {p90:.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} edits")
    show_speed()
