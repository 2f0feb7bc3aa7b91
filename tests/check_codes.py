#!/usr/bin/env python3
"""Every diagnostic code in codes.def has an explanation (docs/diagnostics/<CODE>.md,
with a wrong and a right example) and at least one lit test that checks it
(a `CHECK...: error[<CODE>]` or `warning[<CODE>]` line under tests/lit)."""
import argparse
import os
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--codes", required=True)
ap.add_argument("--docs", required=True)
ap.add_argument("--lit", required=True)
ap.add_argument("--require-tests", action="store_true", help="also require a lit test per code")
args = ap.parse_args()

codes = re.findall(r'^GOPS_DIAG\(\w+,\s*"([EW]\d{4})"', open(args.codes).read(), re.M)
checked = set()
for root, _, files in os.walk(args.lit):
    for f in files:
        if f.endswith((".gops", ".test")):
            text = open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
            for line in text.splitlines():
                if "CHECK" in line:
                    checked.update(re.findall(r"(?:error|warning)\[([EW]\d{4})\]", line))
                    checked.update(re.findall(r'"code": "([EW]\d{4})"', line))

problems = []
for c in codes:
    path = os.path.join(args.docs, c + ".md")
    if not os.path.exists(path):
        problems.append(f"{c}: no explanation at {path}")
    else:
        doc = open(path, encoding="utf-8").read()
        if "```gops" not in doc or doc.count("```gops") < 2:
            problems.append(f"{c}: the explanation needs a wrong and a right example (two ```gops blocks)")
    if args.require_tests and c not in checked:
        problems.append(f"{c}: no lit test checks it")
for p in problems:
    print(p)
missing_tests = [c for c in codes if c not in checked]
if missing_tests and not args.require_tests:
    print(f"note: {len(missing_tests)} codes have no lit test yet: {' '.join(missing_tests)}")
print(f"{len(codes)} codes, {len(problems)} problems")
sys.exit(1 if problems else 0)
