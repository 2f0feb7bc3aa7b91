"""Two halves of tests/deploy_role_check.py: the AWS calls in C++ sources, and IAM's
evaluation of a policy.

scan_calls(sources, scan, plumbing): every `callJson("svc", "Op", ...)`,
`callQuery("svc", "Op", ...)` and paginated `collectJson/paginateJson/collectQuery/
paginateQuery(client, "svc", "Op", ...)` under the `scan` directories, with comments
ignored; a call that names its service or operation with no string literal, outside the
`plumbing` files that pass them through, is a problem, and so is a raw `send(...)`
outside runtime/aws.

allowed(policy, action, resource, context): whether an identity policy allows the
request as IAM evaluates it: an Allow statement whose Action (wildcards, any case) and
Resource (ARN wildcards within each of the six parts) match and whose conditions hold
(StringEquals/Like, ArnEquals/Like, Bool; a key the request lacks fails), and no Deny.
"""
import glob
import os
import re

CALL = re.compile(r"\b(callJson|callQuery|paginateJson|collectJson|paginateQuery|collectQuery)\s*\(")
SEND = re.compile(r"(?:\.|->)send\s*\(")
STRING = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*$', re.S)


def strip_comments(src):
    """The source with comments blanked (newlines kept), strings and char literals intact."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * src.count("\n", i, j))
            i = j
        elif src.startswith('R"', i) and re.match(r'R"([^(\s]*)\(', src[i:i + 20]):
            delim = re.match(r'R"([^(\s]*)\(', src[i:i + 20]).group(1)
            j = src.find(")" + delim + '"', i)
            j = n if j < 0 else j + len(delim) + 2
            out.append(src[i:j])
            i = j
        elif src[i] == '"' or (src[i] == "'" and not (i > 0 and src[i - 1].isalnum())):
            q, j = src[i], i + 1
            while j < n and src[j] != q:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def arguments(text, start):
    """The top-level arguments of the call whose `(` is at text[start - 1]."""
    args, depth, cur, i = [], 0, [], start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur))
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args


def scan_calls(sources, scan, plumbing_files):
    """[(file, line, service, operation)] and problems."""
    calls, problems = [], []
    for top in scan:
        for path in sorted(glob.glob(os.path.join(sources, top, "**", "*"), recursive=True)):
            if not path.endswith((".cpp", ".h")):
                continue
            rel = os.path.relpath(path, sources).replace(os.sep, "/")
            with open(path, encoding="utf-8") as f:
                text = strip_comments(f.read())
            plumbing = rel in plumbing_files or rel.startswith("runtime/aws/include/")
            for m in SEND.finditer(text):
                # The AWS client library sends HTTP requests of its own (transports, the
                # GitHub OIDC token); the commands must go through callJson/callQuery.
                if not rel.startswith("runtime/aws/"):
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{rel}:{line}: a raw send(): call AWS through callJson/callQuery, which this check reads")
            for m in CALL.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                args = arguments(text, m.end())
                first = 0 if m.group(1).startswith("call") else 1
                lit = [STRING.match(a) for a in args[first:first + 2]]
                if len(lit) == 2 and all(lit):
                    calls.append((rel, line, lit[0].group(1), lit[1].group(1)))
                elif not plumbing:
                    problems.append(f"{rel}:{line}: {m.group(1)}(...) names its service and operation with no string "
                                    "literals: the permission audit cannot see what it calls")
    return calls, problems



# ---------------------------------------------------------------------------
# IAM evaluation.

def glob_match(pattern, value, case=True):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.I) is not None


def arn_match(pattern, arn):
    if pattern == "*":
        return True
    p, a = pattern.split(":", 5), arn.split(":", 5)
    if len(p) != 6 or len(a) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(x, y) for x, y in zip(p, a))


def as_list(v):
    return v if isinstance(v, list) else [v]


def conditions_hold(conditions, context):
    for test, keys in (conditions or {}).items():
        for key, values in keys.items():
            if key not in context:
                return False
            have = as_list(context[key])
            want = as_list(values)
            if test in ("StringEquals", "ArnEquals"):
                ok = any(h in want for h in have)
            elif test in ("StringLike", "ArnLike"):
                ok = any(glob_match(w, h) for w in want for h in have)
            elif test == "Bool":
                ok = any(str(h).lower() in [str(w).lower() for w in want] for h in have)
            else:
                raise SystemExit(f"condition operator {test} is not understood here; teach iam_audit.py")
            if not ok:
                return False
    return True


def statement_allows(st, action, resource, context):
    if not any(glob_match(a, action, case=False) for a in as_list(st.get("Action", []))):
        return False
    if not any(arn_match(r, resource) for r in as_list(st.get("Resource", []))):
        return False
    return conditions_hold(st.get("Condition"), context)


def allowed(policy, action, resource, context):
    allow = False
    for st in policy["Statement"]:
        if statement_allows(st, action, resource, context):
            if st.get("Effect") == "Deny":
                return False
            allow = True
    return allow
