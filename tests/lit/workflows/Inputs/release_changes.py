#!/usr/bin/env python3
"""Runs the step `changes` of a generated release.yml (its `run` script with its `env`)
with bash in a scratch git repository, as GitHub Actions would on a push or a manual
run, and prints the step's outputs.

    release_changes.py RELEASE_YML push FILE...      a push changing FILE... (new or edited)
    release_changes.py RELEASE_YML new-branch FILE...  the same, but git cannot compare (before = 0000...)
    release_changes.py RELEASE_YML dispatch IMAGE    a manual run for IMAGE
"""
import os
import subprocess
import sys
import tempfile

import yaml


def main():
    release, event, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(release) as f:
        doc = yaml.safe_load(f)
    step = next(s for s in doc["jobs"]["changes"]["steps"] if s.get("id") == "changes")
    with tempfile.TemporaryDirectory() as repo:
        def git(*a):
            return subprocess.run(["git", "-C", repo, *a], check=True, capture_output=True, text=True).stdout.strip()
        git("init", "-q")
        git("config", "user.email", "t@example.com")
        git("config", "user.name", "t")
        with open(os.path.join(repo, "README.md"), "w") as f:
            f.write("first\n")
        git("add", "-A")
        git("commit", "-q", "-m", "before")
        before = git("rev-parse", "HEAD")
        if event in ("push", "new-branch"):
            for path in args:
                full = os.path.join(repo, path)
                os.makedirs(os.path.dirname(full) or repo, exist_ok=True)
                with open(full, "a") as f:
                    f.write("changed\n")
            git("add", "-A")
            git("commit", "-q", "-m", "after")
        output = os.path.join(repo, ".output")
        open(output, "w").close()
        env = dict(os.environ)
        for k, v in step["env"].items():
            env[k] = str(v)
        env.update(GITHUB_EVENT_NAME="workflow_dispatch" if event == "dispatch" else "push", GITHUB_SHA=git("rev-parse", "HEAD"),
                   GITHUB_OUTPUT=output, BEFORE="0" * 40 if event == "new-branch" else before,
                   IMAGE=args[0] if event == "dispatch" else "")
        p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True)
        sys.stdout.write(p.stdout)
        sys.stdout.write(p.stderr)
        print(f"exit {p.returncode}")
        with open(output) as f:
            sys.stdout.write(f.read())


if __name__ == "__main__":
    main()
