#!/usr/bin/env python3
"""Checks the references inside generated Terraform JSON root modules.

Every directory holding *.tf.json files is one root module. The check collects what
the module declares (resources TYPE.NAME, data sources data.TYPE.NAME, variables,
locals), then reads every string for template interpolations `${...}` (skipping the
`$${` escape) and every `depends_on` entry, and reports:

  * a reference to a resource, data source, variable or local the module does not declare
  * `each.key` / `each.value` outside a block with `for_each`

The symbols a for expression binds (`{for o in aws_x.y.list : o.name => o}`) are
local to it and not references.
  * with --schema FILE (the provider schema of tests/data/terraform-aws.json): an
    attribute the resource or data source type does not have

Usage: tf_refs_check.py [--schema FILE] DIR...
Exit status: 0 clean, 1 problems, 2 usage error.
"""
import json
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
# A traversal: a root name, then .attr and [index] steps. Not preceded by a name
# character, a dot or a closing bracket (then it would be a step of another one).
TRAVERSAL = re.compile(r"(?<![\w.\-\]])(" + IDENT + r")((?:\s*\.\s*" + IDENT + r"|\[[^\]]*\])*)(\s*\()?")
STEP = re.compile(r"\.\s*(" + IDENT + r")|\[([^\]]*)\]")
IGNORED_ROOTS = {"count", "path", "self", "terraform", "true", "false", "null", "for", "in", "if", "endif", "else"}
# The symbols a for expression binds: `[for x in ...]`, `{for k, v in ... : k => v}`.
FOR_SYMBOLS = re.compile(r"\bfor\s+(" + IDENT + r")(?:\s*,\s*(" + IDENT + r"))?\s+in\b")


def interpolations(s):
    """Yields the expression inside every ${...} of a template string."""
    i = 0
    while True:
        i = s.find("${", i)
        if i < 0:
            return
        if i > 0 and s[i - 1] == "$":  # $${ is a literal ${
            i += 2
            continue
        depth, j, quote = 1, i + 2, False
        while j < len(s) and depth:
            c = s[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == '"':
                    quote = False
            elif c == '"':
                quote = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            j += 1
        yield s[i + 2:j - 1]
        i = j


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


class Module:
    def __init__(self, directory):
        self.directory = directory
        self.resources = set()
        self.data = set()
        self.variables = set()
        self.locals = set()
        self.blocks = []  # (file, path, body, kind, type)

    def load(self, fname):
        with open(fname, encoding="utf-8") as fh:
            doc = json.load(fh)
        for rtype, byname in (doc.get("resource") or {}).items():
            if rtype == "//":
                continue
            for name, body in byname.items():
                if name != "//":
                    self.resources.add("%s.%s" % (rtype, name))
                    self.blocks.append((fname, "resource.%s.%s" % (rtype, name), body, "resource", rtype))
        for dtype, byname in (doc.get("data") or {}).items():
            if dtype == "//":
                continue
            for name, body in byname.items():
                if name != "//":
                    self.data.add("%s.%s" % (dtype, name))
                    self.blocks.append((fname, "data.%s.%s" % (dtype, name), body, "data", dtype))
        self.variables |= {k for k in (doc.get("variable") or {}) if k != "//"}
        for loc in ([doc["locals"]] if isinstance(doc.get("locals"), dict) else doc.get("locals") or []):
            self.locals |= {k for k in loc if k != "//"}
        for section in ("output", "provider", "module", "locals"):
            body = doc.get(section)
            if body:
                self.blocks.append((fname, section, body, section, None))
        if "terraform" in doc:
            self.blocks.append((fname, "terraform", doc["terraform"], "terraform", None))


class Checker:
    def __init__(self, schema):
        self.schema = schema
        self.problems = []
        self.references = 0

    def type_schema(self, kind, rtype):
        if not self.schema:
            return None
        providers = [self.schema] + list((self.schema.get("extra_providers") or {}).values())
        for p in providers:
            sch = (p.get(kind) or {}).get(rtype)
            if sch is not None:
                return sch
        return None

    def check_attr(self, where, kind, rtype, steps, text):
        attr = next((name for name, _ in steps if name is not None), None)
        sch = self.type_schema(kind, rtype)
        if attr is None or sch is None:
            return
        known = set(sch.get("attributes", {})) | set(sch.get("blocks", {}))
        if kind == "resource":
            known |= {"id"}
        if attr not in known:
            self.problems.append("%s: `%s`: %s %s has no attribute `%s`" % (where, text, kind, rtype, attr))

    def check_expr(self, where, expr, mod, has_for_each):
        expr = strip_strings(expr)
        bound = {name for m in FOR_SYMBOLS.finditer(expr) for name in m.groups() if name}
        for m in TRAVERSAL.finditer(expr):
            root, rest, call = m.group(1), m.group(2) or "", m.group(3)
            if call or root in IGNORED_ROOTS or root in bound:
                continue
            steps = [(s.group(1), s.group(2)) for s in STEP.finditer(rest)]
            names = [n for n, _ in steps]
            text = (root + rest).replace(" ", "")
            self.references += 1
            if root == "each":
                if not has_for_each:
                    self.problems.append("%s: `%s` outside a block with for_each" % (where, text))
            elif root == "var":
                if not names or names[0] not in mod.variables:
                    self.problems.append("%s: `%s`: no such variable" % (where, text))
            elif root == "local":
                if not names or names[0] not in mod.locals:
                    self.problems.append("%s: `%s`: no such local value" % (where, text))
            elif root == "data":
                if len(names) < 2 or None in names[:2] or "%s.%s" % (names[0], names[1]) not in mod.data:
                    self.problems.append("%s: `%s`: no such data source in this module" % (where, text))
                else:
                    self.check_attr(where, "data", names[0], steps[2:], text)
            elif "_" in root:
                if not names or names[0] is None or "%s.%s" % (root, names[0]) not in mod.resources:
                    self.problems.append("%s: `%s`: no such resource in this module" % (where, text))
                else:
                    self.check_attr(where, "resource", root, steps[1:], text)
            else:
                self.problems.append("%s: `%s`: unknown reference" % (where, text))

    def walk(self, where, value, mod, has_for_each):
        if isinstance(value, str):
            for expr in interpolations(value):
                self.check_expr(where, expr, mod, has_for_each)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.walk("%s[%d]" % (where, i), v, mod, has_for_each)
        elif isinstance(value, dict):
            for k, v in value.items():
                if k == "//":
                    continue
                self.walk("%s.%s" % (where, k), v, mod, has_for_each)
                # keys of object expressions are templates too
                if isinstance(k, str) and "${" in k:
                    for expr in interpolations(k):
                        self.check_expr(where, expr, mod, has_for_each)

    def check_module(self, mod):
        for fname, path, body, kind, _ in mod.blocks:
            where = "%s: %s" % (fname, path)
            if kind in ("resource", "data"):
                for b in body if isinstance(body, list) else [body]:
                    has_for_each = isinstance(b, dict) and "for_each" in b
                    for k, v in b.items():
                        if k == "depends_on" and isinstance(v, list):
                            for d in v:
                                self.references += 1
                                target = d[2:-1] if d.startswith("${") else d
                                ok = target in mod.resources or (
                                    target.startswith("data.") and target[5:] in mod.data)
                                if not ok:
                                    self.problems.append("%s.depends_on: `%s`: no such resource in this module"
                                                         % (where, d))
                        elif k == "lifecycle":
                            continue
                        else:
                            self.walk("%s.%s" % (where, k), v, mod, has_for_each)
            else:
                self.walk(where, body, mod, False)


def main(argv):
    args = list(argv)
    schema = None
    dirs = []
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a == "--schema":
            if not args:
                print("tf_refs_check: --schema needs a file", file=sys.stderr)
                return 2
            with open(args.pop(0), encoding="utf-8") as fh:
                schema = json.load(fh)
        elif a.startswith("-"):
            print("tf_refs_check: unknown option %s" % a, file=sys.stderr)
            return 2
        else:
            dirs.append(a)
    if not dirs:
        print("usage: tf_refs_check.py [--schema FILE] DIR...", file=sys.stderr)
        return 2
    modules = {}
    for d in dirs:
        if not os.path.isdir(d):
            print("tf_refs_check: no such directory: %s" % d, file=sys.stderr)
            return 2
        for root, subdirs, files in os.walk(d):
            subdirs[:] = sorted(x for x in subdirs if x != ".terraform")
            for f in sorted(files):
                if f.endswith(".tf.json"):
                    modules.setdefault(root, Module(root)).load(os.path.join(root, f))
    if not modules:
        print("tf_refs_check: no *.tf.json files found", file=sys.stderr)
        return 2
    c = Checker(schema)
    for root in sorted(modules):
        c.check_module(modules[root])
    for p in c.problems:
        print(p)
    print("tf_refs_check: %d modules, %d references, %d problems" % (len(modules), c.references, len(c.problems)))
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
