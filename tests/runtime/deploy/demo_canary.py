#!/usr/bin/env python3
"""A canary `gops apply` against moto_server, for the README's terminal session.

    demo_canary.py <path to gops> [image tag]

Sets up the world of run_deploy_tests.py (moto_server, what the canary environment's
Terraform module would have created, images v0-v3), then runs, in text mode with
CI=true (plain lines), the command it prints, and prints its output as it comes.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SPEC, Moto, World  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    gops = os.path.abspath(sys.argv[1])
    tag = sys.argv[2] if len(sys.argv) > 2 else "v1"
    moto = Moto()
    work = tempfile.mkdtemp(prefix="gops-demo-")
    try:
        w = World(moto, gops, work)
        w.terraform("canary")
        shutil.copy(w.tf_file("canary"), os.path.join(work, "tf-outputs.json"))
        args = ["apply", os.path.relpath(SPEC), "--env", "canary", "--image-tag", tag, "--tf-outputs", "tf-outputs.json",
                "--settle-seconds", "2", "--poll-seconds", "0.5"]
        print("$ gops " + " ".join(args), flush=True)
        cmd = [gops, *args[:-6], "--tf-outputs", os.path.join(work, "tf-outputs.json"), *args[-4:],
               "--journal", os.path.join(work, "journal.jsonl")]
        return subprocess.run(cmd, env=w.env).returncode
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
