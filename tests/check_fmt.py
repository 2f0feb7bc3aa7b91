#!/usr/bin/env python3
"""`gops fmt` on every .gops file of the repository: formatting is idempotent and,
for files that check clean on their own, never changes the model. Works on copies."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--gops", required=True)
ap.add_argument("--root", required=True)
args = ap.parse_args()

skip_dirs = {".git", "node_modules"}
files = []
for root, dirs, names in os.walk(args.root):
    dirs[:] = [d for d in dirs if d not in skip_dirs and not d.startswith("build")]
    files += [os.path.join(root, n) for n in names if n.endswith(".gops")]
files.sort()

def run(*cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True)

def models(path):
    """The model of every environment, or None when the file does not check alone."""
    out = run(args.gops, "model", path, "--env", "__none__", "--format", "json")
    err = out.stderr.decode()
    if "no environment named" not in err:
        return None
    envs = []
    for line in err.splitlines():
        if "the environments are" in line:
            envs = [e.strip("`") for e in line.split("are", 1)[1].replace(" and ", ", ").strip().split(", ")]
    return {e: run(args.gops, "model", path, "--env", e, "--format", "json").stdout for e in envs}

failures = 0
checked = 0
with tempfile.TemporaryDirectory() as tmp:
    for f in files:
        src = open(f, "rb").read()
        once = run(args.gops, "fmt", "-", stdin=src)
        if once.returncode != 0:
            continue  # files with syntax errors (diagnostic tests) are not formatted
        checked += 1
        twice = run(args.gops, "fmt", "-", stdin=once.stdout)
        if twice.stdout != once.stdout:
            print(f"not idempotent: {f}")
            failures += 1
            continue
        # The model before and after formatting, in a copy next to its imports.
        rel = os.path.relpath(f, args.root)
        copy_root = os.path.join(tmp, "repo")
        if not os.path.exists(copy_root):
            shutil.copytree(args.root, copy_root, ignore=shutil.ignore_patterns(".git", "build*", "node_modules"))
        copy = os.path.join(copy_root, rel)
        before = models(copy)
        if before is None:
            continue
        open(copy, "wb").write(once.stdout)
        after = models(copy)
        open(copy, "wb").write(src)
        if before != after:
            print(f"formatting changed the model: {f}")
            failures += 1
print(f"{checked} passed, {failures} failed")
sys.exit(1 if failures else 0)
