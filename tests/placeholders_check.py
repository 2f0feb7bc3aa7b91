#!/usr/bin/env python3
"""Checks the placeholders of the generated ECS JSON against the Terraform outputs.

For every `<env>/ecs/*.json` under OUT (docs/ecs.md, Placeholders):

  * placeholders appear only inside string values, never in keys;
  * the only `{{...}}` forms are `{{tf:NAME}}`, `{{tf:NAME[i]}}` and `{{image_tag}}`;
    any other `{{` is a problem;
  * NAME is an `output` declared in `<env>/terraform/main.tf.json`;
  * `{{tf:NAME[i]}}` names a list output (its value a `${[a, b, ...]}` list) with
    more than i elements, and `{{tf:NAME}}` an output that is not such a list.

Usage: placeholders_check.py OUT
Exit status: 0 clean, 1 problems (or no ECS files at all), 2 usage error.
"""
import glob
import json
import os
import re
import sys

PLACEHOLDER = re.compile(r"\{\{tf:([A-Za-z0-9_]+)(?:\[(\d+)\])?\}\}|\{\{image_tag\}\}")
LIST_VALUE = re.compile(r"^\$\{\[(.*)\]\}$", re.S)


def strings(node, path="$"):
    """Yields (path, string, is_key) for every key and string value."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, True
            yield from strings(v, "%s.%s" % (path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from strings(v, "%s[%d]" % (path, i))
    elif isinstance(node, str):
        yield path, node, False


def outputs_of(module_file):
    """Output name -> number of list elements, or None for a non-list output."""
    with open(module_file) as f:
        doc = json.load(f)
    out = {}
    for name, body in (doc.get("output") or {}).items():
        m = LIST_VALUE.match(body.get("value", ""))
        out[name] = len([e for e in m.group(1).split(",") if e.strip()]) if m else None
    return out


def check_file(path, outputs):
    problems = []
    with open(path) as f:
        doc = json.load(f)
    for where, s, is_key in strings(doc):
        if "{{" not in s and "}}" not in s:
            continue
        if is_key:
            problems.append("%s: key %r holds a placeholder" % (where, s))
            continue
        rest = PLACEHOLDER.sub("", s)
        if "{{" in rest or "}}" in rest:
            problems.append("%s: %r has a `{{...}}` that is not {{tf:NAME}}, {{tf:NAME[i]}} or {{image_tag}}" % (where, s))
        for m in PLACEHOLDER.finditer(s):
            name, index = m.group(1), m.group(2)
            if name is None:
                continue  # {{image_tag}}
            if name not in outputs:
                problems.append("%s: {{tf:%s}} names no output of the environment's Terraform module" % (where, name))
            elif index is not None and outputs[name] is None:
                problems.append("%s: {{tf:%s[%s]}} indexes an output that is not a list" % (where, name, index))
            elif index is not None and int(index) >= outputs[name]:
                problems.append("%s: {{tf:%s[%s]}} is past the end of a %d-element list" % (where, name, index, outputs[name]))
            elif index is None and outputs[name] is not None:
                problems.append("%s: {{tf:%s}} is a list output; name one element, {{tf:%s[i]}}" % (where, name, name))
    return problems


def main(argv):
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    out = argv[0]
    files = sorted(glob.glob(os.path.join(out, "*", "ecs", "*.json")))
    if not files:
        print("placeholders_check: no <env>/ecs/*.json under %s" % out)
        return 1
    problems = 0
    placeholders = 0
    cache = {}
    for f in files:
        env_dir = os.path.dirname(os.path.dirname(f))
        module = os.path.join(env_dir, "terraform", "main.tf.json")
        if module not in cache:
            cache[module] = outputs_of(module) if os.path.exists(module) else None
        if cache[module] is None:
            print("%s: no Terraform module %s to resolve its placeholders" % (f, module))
            problems += 1
            continue
        with open(f) as fh:
            placeholders += len(PLACEHOLDER.findall(fh.read()))
        for p in check_file(f, cache[module]):
            print("%s: %s" % (f, p))
            problems += 1
    print("placeholders_check: %d files, %d placeholders, %d problems" % (len(files), placeholders, problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
