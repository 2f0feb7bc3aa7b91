#!/usr/bin/env python3
"""Checks the Vim syntax file and filetype plugin with a real (Neo)Vim, headless.

The expectations are the annotated samples of the VS Code grammar
(editors/vscode/test/*.gops, the vscode-tmgrammar-test format: a comment line of
`^` or `<-` marks under a code line names the TextMate scope of the marked
columns). Each scope maps below to the highlight groups the Vim syntax may give
those columns (the column's group or any group it links to); scopes Vim does not colour (punctuation,
plain names) are not checked. So both editors' grammars answer to one set of
samples. Also checks that `*.gops` files get the `gops` filetype, the ftplugin's
settings, and that `:compiler gops` sets a makeprg and an errorformat for
`gops check`.

Usage: editors/vim/check.py [nvim|vim]   (default: nvim, else vim)
Exit 0 when every check passes, 1 on a mismatch, 77 when neither editor is installed.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
samples_dir = os.path.join(here, "..", "vscode", "test")

# TextMate scope (longest prefix wins) -> acceptable Vim groups; None: not checked.
SCOPES = {
    "keyword.declaration": {"Keyword", "Statement"},
    "keyword.control.import": {"Include", "PreProc"},
    "keyword.control": {"Keyword", "Statement"},
    "keyword.other.extends": {"Keyword", "Statement"},
    "keyword.other.unit": {"Number", "Type"},
    "keyword.operator": {"Operator"},
    "entity.name.type.environment": None,  # after `promote`: Vim colours the first only
    "entity.name.type": {"Type"},
    "entity.other.inherited-class": None,
    "entity.name.tag.block": {"Structure"},
    "variable.other.property": {"Identifier"},
    "variable.other.interpolated": {"PreProc"},
    "variable.other.metric": None,
    "variable.other": None,
    "support.function": {"Function"},
    "constant.numeric": {"Number"},
    "constant.language.boolean": {"Boolean"},
    "constant.character.escape": {"SpecialChar", "Special"},
    "string.quoted.double": {"String"},
    "punctuation.definition.string": {"String"},
    "punctuation.section.interpolation": {"PreProc"},
    "punctuation": None,
    "comment.line.documentation": {"SpecialComment", "Special"},
    "comment": {"Comment"},
    "invalid": None,
}


def groups_for(scope):
    best = None
    for prefix in SCOPES:
        if (scope == prefix or scope.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    if best is None:
        raise SystemExit(f"vim-check: no mapping for scope {scope}; add it to SCOPES")
    return SCOPES[best]


def expectations(path):
    """(line, col, scope) for every annotated column; lines and columns 1-based."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    code = None  # 1-based number of the last code line
    for i, text in enumerate(lines, 1):
        if i == 1 and "SYNTAX TEST" in text:
            continue
        m = re.match(r"^//(\s*)(\^+)\s+(\S+)", text)
        m2 = re.match(r"^//\s*(<-+)\s+(\S+)", text)
        if code is not None and m:
            start = 2 + len(m.group(1))
            for scope in m.group(3).split():
                for c in range(start, start + len(m.group(2))):
                    out.append((code, c + 1, scope))
            continue
        if code is not None and m2:
            for c in range(len(m2.group(1)) - 1):
                out.append((code, c + 1, m2.group(2)))
            continue
        code = i
    return out


def run_editor(editor, sample, positions):
    with tempfile.TemporaryDirectory() as tmp:
        pos_file = os.path.join(tmp, "positions")
        out_file = os.path.join(tmp, "out.json")
        with open(pos_file, "w") as f:
            f.write("\n".join(f"{l} {c}" for l, c in positions) + "\n")
        script = os.path.join(tmp, "check.vim")
        with open(script, "w") as f:
            f.write(f"""
filetype plugin on
syntax on
edit {sample}
let s:res = {{'filetype': &filetype, 'commentstring': &commentstring, 'shiftwidth': &shiftwidth,
  \\ 'expandtab': &expandtab, 'groups': []}}
for s:p in readfile('{pos_file}')
  let [s:l, s:c] = split(s:p)
  " The group and every group it links to: `gopsString>String>Constant`.
  let s:n = synIDattr(synID(str2nr(s:l), str2nr(s:c), 1), 'name')
  let s:chain = []
  while s:n !=# '' && len(s:chain) < 10
    call add(s:chain, s:n)
    let s:link = matchstr(execute('highlight ' . s:n), 'links to \zs\w\+')
    let s:n = s:link
  endwhile
  call add(s:res.groups, join(s:chain, '>'))
endfor
compiler gops
let s:res.errorformat = &l:errorformat
let s:res.makeprg = &l:makeprg
call writefile([json_encode(s:res)], '{out_file}')
qall!
""")
        if editor == "nvim":
            cmd = ["nvim", "--headless", "--clean", "-u", "NONE", "-i", "NONE"]
        else:
            cmd = ["vim", "-N", "-u", "NONE", "-i", "NONE", "-es"]
        # The runtime path must hold editors/vim before filetype detection starts.
        cmd += ["--cmd", f"set runtimepath^={here}", "-S", script]
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60)
        if not os.path.exists(out_file):
            raise SystemExit(f"vim-check: {editor} wrote no result")
        return json.load(open(out_file))


def main():
    editor = sys.argv[1] if len(sys.argv) > 1 else ("nvim" if shutil.which("nvim") else "vim")
    if not shutil.which(editor):
        print(f"vim-check: {editor} is not installed (scripts/bootstrap.sh --test installs neovim)")
        return 77
    failures = checked = 0
    for name in sorted(os.listdir(samples_dir)):
        if not name.endswith(".gops"):
            continue
        sample = os.path.join(samples_dir, name)
        exp = [(l, c, s, groups_for(s)) for l, c, s in expectations(sample)]
        res = run_editor(editor, sample, [(l, c) for l, c, _, _ in exp])
        if res["filetype"] != "gops":
            print(f"{name}: filetype is {res['filetype']!r}, not 'gops' (ftdetect)")
            failures += 1
        for key, want in (("commentstring", "// %s"), ("shiftwidth", 2), ("expandtab", 1)):
            if res[key] != want:
                print(f"{name}: ftplugin: {key} is {res[key]!r}, expected {want!r}")
                failures += 1
        if "gops check" not in res["makeprg"] or "%f:%l:%c" not in res["errorformat"]:
            print(f"{name}: compiler gops: makeprg {res['makeprg']!r}, errorformat {res['errorformat']!r}")
            failures += 1
        text = open(sample, encoding="utf-8").read().split("\n")
        # One report per run of columns of one scope highlighted the same wrong way.
        runs = []
        for (l, c, scope, ok), got in zip(exp, res["groups"]):
            if ok is None:
                continue
            checked += 1
            if set(got.split(">")) & ok:
                continue
            if runs and runs[-1][0] == l and runs[-1][2] == c - 1 and runs[-1][3] == scope and runs[-1][5] == got:
                runs[-1][2] = c
            else:
                runs.append([l, c, c, scope, ok, got])
        for l, b, e, scope, ok, got in runs:
            failures += 1
            print(f"{name}:{l}:{b}: {scope} is highlighted as {got or 'nothing'}, expected {' or '.join(sorted(ok))}")
            print(f"    {text[l - 1]}\n    {' ' * (b - 1)}{'^' * (e - b + 1)}")
    print(f"vim-check ({editor}): {checked} columns checked, {failures} problems")
    return 1 if failures else 0


sys.exit(main())
