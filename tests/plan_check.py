#!/usr/bin/env python3
"""Checks every OUT/<env>/plan.json that `gops build` wrote:

  - it validates against the plan's JSON Schema (docs/plan.schema.json);
  - every {{tf:NAME}} placeholder names an output of OUT/<env>/terraform/main.tf.json;
  - every alarm the plan watches is an alarm that module creates (`alarm_name`), or
    an existing alarm the spec names with alarm("..."); every rollback alarm the
    module creates is watched; an alarm watched when the new version goes behind a
    colour (`alarms_by_new_color`) compares that colour with the other one;
  - every ECS file the plan refers to exists next to it;
  - `order` lists every service once, each after the services it depends on.

With --cases FILE (tests/data/plan_cases.json), it also applies each malformed-plan
case of FILE to OUT/<env>/plan.json of the cases' base environment and checks that the
schema rejects exactly the cases marked `"schema": true` (the others break rules the
schema cannot state; the unit tests check that gops's plan reader rejects every case,
with the problems listed). With --gops GOPS --root DIR, it also builds every `.gops`
file of DIR's examples/ and tests/ that builds, each on its own, and checks all their
plans the same way: the set of specs whose plans the unit tests read.

Usage: plan_check.py --schema docs/plan.schema.json [--cases FILE] [--gops GOPS --root DIR] OUT
Exit status 0 when every plan passes, 1 otherwise.
"""
import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema

PLACEHOLDER = re.compile(r"\{\{([^}]*)\}\}")


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def terraform_alarms(module):
    alarms = module.get("resource", {}).get("aws_cloudwatch_metric_alarm", {})
    return {body.get("alarm_name"): body for body in alarms.values()}


NEW_MINUS_STABLE = re.compile(r"^IF\(ok_blue AND ok_green, (\w+)_(blue|green)-(\w+)_(blue|green)\)$")


def color_problem(alarm, color, body):
    """Why the Terraform alarm `body`, watched when the new version goes behind `color`,
    does not compute that colour minus the other one; None when it does."""
    returned = [q for q in body.get("metric_query", []) if q.get("return_data")]
    if len(returned) != 1 or "expression" not in returned[0]:
        return f"alarm {alarm} is watched when the new version is {color}, but returns no expression"
    m = NEW_MINUS_STABLE.match(returned[0]["expression"])
    other = "green" if color == "blue" else "blue"
    if not m or m.group(1) != m.group(3) or (m.group(2), m.group(4)) != (color, other):
        return (f"alarm {alarm} is watched when the new version is {color}, but computes "
                f"{returned[0]['expression']!r}, not {color} minus {other}")
    return None


def check_plan(path, env_dir, validator):
    problems = []
    with open(path) as f:
        plan = json.load(f)
    for error in sorted(validator.iter_errors(plan), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "(top)"
        problems.append(f"schema: {where}: {error.message}")
    if problems:
        return problems

    tf_path = os.path.join(env_dir, "terraform", "main.tf.json")
    module = {}
    if os.path.exists(tf_path):
        with open(tf_path) as f:
            module = json.load(f)
    else:
        problems.append(f"no Terraform module next to the plan: {tf_path}")
    outputs = set(module.get("output", {}))
    for s in strings(plan):
        for name in PLACEHOLDER.findall(s):
            if not name.startswith("tf:"):
                problems.append(f"placeholder {{{{{name}}}}} is not of the form {{{{tf:OUTPUT}}}}")
            elif name[3:] not in outputs:
                problems.append(f"placeholder {{{{{name}}}}} names no output of {tf_path}")

    created = terraform_alarms(module)
    for svc in plan["services"]:
        prefix = f"{plan['app']}-{plan['environment']}-{svc['name'].replace('_', '-')}-rollback-"
        by_color = svc["watch"].get("alarms_by_new_color", {})
        watched = [(a, None) for a in svc["watch"]["alarms"]] + [(a, c) for c in ("blue", "green") for a in by_color.get(c, [])]
        for alarm, color in watched:
            if alarm not in created and (color or alarm.startswith(prefix)):
                problems.append(f"service {svc['name']}: watches alarm {alarm}, which the Terraform module does not create")
            elif color and (why := color_problem(alarm, color, created[alarm])):
                problems.append(f"service {svc['name']}: {why}")
        for alarm in created:
            if alarm.startswith(prefix) and alarm not in {a for a, _ in watched}:
                problems.append(f"service {svc['name']}: the Terraform module creates alarm {alarm}, which no deploy watches")
        files = [svc["service_file"]] + [st["file"] for st in svc["steps"] if "file" in st]
        if svc["traffic"]:
            # Task sets only: a service whose engine is `ecs` has none.
            files += [tg["task_set_file"] for tg in svc["traffic"]["target_groups"].values() if "task_set_file" in tg]
        for rel in files:
            if not os.path.exists(os.path.join(env_dir, rel)):
                problems.append(f"service {svc['name']}: refers to {rel}, which was not generated")
    for job in plan["jobs"]:
        for rel in [st["file"] for st in job["steps"] if "file" in st]:
            if not os.path.exists(os.path.join(env_dir, rel)):
                problems.append(f"job {job['name']}: refers to {rel}, which was not generated")

    names = [s["name"] for s in plan["services"]]
    seen = {}
    for i, wave in enumerate(plan["order"]):
        for name in wave:
            if name in seen:
                problems.append(f"order: {name} appears twice")
            seen[name] = i
    if sorted(seen) != sorted(names):
        problems.append(f"order: lists {sorted(seen)}, the services are {sorted(names)}")
    for svc in plan["services"]:
        for dep in svc["depends_on"]:
            if dep in seen and svc["name"] in seen and seen[dep] >= seen[svc["name"]]:
                problems.append(f"order: {svc['name']} deploys no later than {dep}, which it depends on")
    return sorted(set(problems))


def pointer_tokens(pointer):
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def mutate(doc, ops):
    """Applies a case's ops: ["set", pointer, value] (a last token `-` appends), ["remove", pointer]."""
    for op in ops:
        tokens = pointer_tokens(op[1])
        parent = doc
        for t in tokens[:-1]:
            parent = parent[int(t)] if isinstance(parent, list) else parent[t]
        last = tokens[-1]
        if op[0] == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif isinstance(parent, list) and last == "-":
            parent.append(op[2])
        elif isinstance(parent, list):
            parent[int(last)] = op[2]
        else:
            parent[last] = op[2]


def check_cases(cases_path, out, validator):
    """The schema's verdict on each malformed plan of the cases file."""
    with open(cases_path) as f:
        cases = json.load(f)
    with open(os.path.join(out, cases["base"]["environment"], "plan.json")) as f:
        base = json.load(f)
    problems = []
    for case in cases["cases"]:
        doc = copy.deepcopy(base)
        mutate(doc, case["ops"])
        rejected = any(True for _ in validator.iter_errors(doc))
        if rejected != case["schema"]:
            problems.append(f"case `{case['what']}`: the schema {'rejects' if rejected else 'accepts'} it, "
                            f"{cases_path} says it {'rejects' if case['schema'] else 'cannot'}")
    return problems, len(cases["cases"])


def repository_specs(root):
    """The .gops files of examples/ and tests/, as the unit tests list them."""
    specs = []
    for top in ("examples", "tests"):
        for d, _, files in os.walk(os.path.join(root, top)):
            specs += [os.path.join(d, f) for f in files if f.endswith(".gops")]
    return sorted(specs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--cases")
    ap.add_argument("--gops")
    ap.add_argument("--root")
    ap.add_argument("out")
    args = ap.parse_args()
    with open(args.schema) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    outs = [args.out]
    tmp = None
    if args.gops and args.root:
        tmp = tempfile.TemporaryDirectory(prefix="gops-plan-check-")
        for i, spec in enumerate(repository_specs(args.root)):
            out = os.path.join(tmp.name, str(i))
            if subprocess.run([args.gops, "build", spec, "-o", out], capture_output=True).returncode == 0:
                outs.append(out)
    plans = []
    for out in outs:
        for root, _, files in os.walk(out):
            if "plan.json" in files:
                plans.append(os.path.join(root, "plan.json"))
    if not plans:
        print(f"plan_check: no plan.json under {args.out}")
        return 1
    failed = 0
    for path in sorted(plans):
        problems = check_plan(path, os.path.dirname(path), validator)
        for p in problems:
            print(f"{path}: {p}")
        failed += bool(problems)
    print(f"plan_check: {len(plans)} plans of {len(outs)} builds, {failed} with problems")
    if args.cases:
        problems, n = check_cases(args.cases, args.out, validator)
        for p in problems:
            print(f"plan_check: {p}")
        print(f"plan_check: {n} malformed plans, the schema's verdict wrong on {len(problems)}")
        failed += len(problems)
    if tmp:
        tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
