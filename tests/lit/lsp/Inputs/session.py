#!/usr/bin/env python3
"""Expands a language-server test session for `gops lsp --input-style=delimited`.

Usage: session.py SESSION ROOT
  @ROOT@          the absolute path ROOT (a scratch copy of the test's files)
  @TEXT:rel/path@ the contents of ROOT/rel/path as a JSON string (with its quotes)
Lines of the session are passed through otherwise (`#` lines are comments for the
server, `---` separates messages).
"""
import json
import re
import sys

session, root = sys.argv[1], sys.argv[2]
text = open(session, encoding="utf-8").read()
text = re.sub(r"@TEXT:([^@]+)@", lambda m: json.dumps(open(f"{root}/{m.group(1)}", encoding="utf-8").read()), text)
sys.stdout.write(text.replace("@ROOT@", root))
