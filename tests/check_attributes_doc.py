#!/usr/bin/env python3
"""The attribute tables of docs/language.md are what `gops explain --attributes BODY`
prints from the table of attributes (compiler/sema/attributes.def). Each table sits
between `<!-- gops explain --attributes BODY -->` and `<!-- end -->`.
Usage: check_attributes_doc.py --gops GOPS --doc docs/language.md [--update]"""
import argparse
import re
import subprocess
import sys

BODIES = ["app", "environment", "service", "job", "promote", "rolling", "blue_green", "canary", "linear", "task", "capacity"]

ap = argparse.ArgumentParser()
ap.add_argument("--gops", required=True)
ap.add_argument("--doc", required=True)
ap.add_argument("--update", action="store_true", help="rewrite the tables in place")
args = ap.parse_args()

text = open(args.doc, encoding="utf-8").read()
pattern = re.compile(r"(<!-- gops explain --attributes (\w+) -->\n)(.*?)(<!-- end -->)", re.S)
found = {}
problems = []


def table(body):
    return subprocess.run([args.gops, "explain", "--attributes", body], check=True, capture_output=True, text=True).stdout


def replace(m):
    body = m.group(2)
    found[body] = True
    want = table(body)
    if m.group(3) != want:
        problems.append(f"{args.doc}: the table of `{body}` differs from `gops explain --attributes {body}`")
    return m.group(1) + want + m.group(4)


new = pattern.sub(replace, text)
for body in BODIES:
    if body not in found:
        problems.append(f"{args.doc}: no table of `{body}` (`<!-- gops explain --attributes {body} -->` ... `<!-- end -->`)")
if args.update:
    open(args.doc, "w", encoding="utf-8").write(new)
    print(f"{args.doc}: {len(found)} tables written")
    sys.exit(0)
for p in problems:
    print(p)
if problems:
    print("run: python3 tests/check_attributes_doc.py --gops build/gops --doc docs/language.md --update")
    sys.exit(1)
print(f"{len(found)} attribute tables agree with the table of attributes")
