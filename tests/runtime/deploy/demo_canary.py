#!/usr/bin/env python3
"""Canary `gops apply`s against moto_server, for the README's terminal session.

    demo_canary.py <path to gops> [image tag]

Sets up the world of run_deploy_tests.py (moto_server, what the canary environment's
Terraform module would have created, images v0-v3), then runs, in text mode with
CI=true (plain lines), the commands it prints, and prints their output as it comes:
a canary of the image tag (default v1) to its end, then one of the next tag (v2)
cancelled with SIGTERM once 10% of the traffic is on it, as GitHub Actions does to a
cancelled job: it rolls back completely and exits 3.
"""
import os
import shutil
import signal
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

        def apply(image_tag, cancel_at=None):
            args = ["apply", os.path.relpath(SPEC), "--env", "canary", "--image-tag", image_tag, "--tf-outputs",
                    "tf-outputs.json", "--settle-seconds", "2", "--poll-seconds", "0.5"]
            print("$ gops " + " ".join(args), flush=True)
            cmd = [gops, *args[:-6], "--tf-outputs", os.path.join(work, "tf-outputs.json"), *args[-4:],
                   "--journal", os.path.join(work, "journal.jsonl")]
            p = subprocess.Popen(cmd, env=w.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in p.stdout:
                print(line, end="", flush=True)
                if cancel_at and cancel_at in line:
                    print("^C (the job is cancelled: SIGTERM)", flush=True)
                    p.send_signal(signal.SIGTERM)
                    cancel_at = None
            return p.wait()

        code = apply(tag)
        if code != 0:
            return code
        next_tag = f"v{int(tag[1:]) + 1}" if tag[1:].isdigit() else "v2"
        code = apply(next_tag, cancel_at="weights: 10% ")
        print(f"$ echo $?\n{code}", flush=True)
        return 0 if code == 3 else 1
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
