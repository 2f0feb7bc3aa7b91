#!/usr/bin/env python3
"""End-to-end tests of what recovers a deploy whose runner was lost, against a private
moto_server (docs/runtime.md, Recovery):

    run_recovery_tests.py <path to gops> [test name ...]

- the lock's heartbeat: an apply killed (-9) in a canary hold is taken over by
  `gops rollback` (or finished by `gops apply --resume`) from another machine (another
  working directory and journal, the lock's host not this one) as soon as its
  heartbeat expires, not after hours; a holder
  stopped (SIGSTOP) past its heartbeat and then continued finds its lock taken over and
  changes nothing more;
- signals: SIGTERM in a canary hold rolls the apply back and exits 3; a second signal,
  or the grace time after the first, stops it at once (exit 4), leaving a dead deploy
  that `gops rollback --if-dead` finishes undoing;
- a plain apply after a dead one is refused and names the two commands that fix it;
  `--rollback-dead` rolls it back first;
- `gops rollback --if-dead [--check]` on a dead deploy, a running one and a healthy
  environment;
- credentials renewed during a long hold: web identity from a token file rewritten
  mid-run, and from a local stand-in for GitHub Actions' OIDC token endpoint, through
  moto's STS AssumeRoleWithWebIdentity behind a proxy that shortens the sessions and
  refuses requests signed with expired keys.

The heartbeat expiry is a few seconds here (--heartbeat-seconds), the holds are the
test spec's (seconds). Exit 77 (CTest: skipped) when moto_server or boto3 is missing.
"""
import datetime
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FAST, SPEC, Failure, check, forward, reply, run_suite, run_until_event  # noqa: E402

HEARTBEAT = 5  # seconds: the lock's heartbeat expiry in these tests
ROLE = "arn:aws:iam::123456789012:role/gops/testapp/canary/testapp-canary-github-deploy"


def at_first_shift(e):
    return e["event"] == "weights" and e.get("service") == "web" and e["weight"] == 10


def start_apply(w, tag, *extra, env=None):
    """An apply of `tag` to canary (JSON events), returned once web holds at 10%."""
    cmd = w.apply_cmd("canary", tag, "--format", "json", "--heartbeat-seconds", str(HEARTBEAT), *extra)
    if env is None:
        return run_until_event(w, cmd, at_first_shift)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if at_first_shift(json.loads(line)):
            return proc, lines
    raise Failure("the apply never shifted:\n" + "".join(lines) + proc.stderr.read())


def events(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def stable_of(w):
    svc = w.service("canary", "web")
    primary = next(t for t in svc["taskSets"] if t["status"] == "PRIMARY")
    return primary, primary["loadBalancers"][0]["targetGroupArn"]


def check_restored(w, primary, tg, what):
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and svc["taskSets"][0]["taskSetArn"] == primary["taskSetArn"],
          f"{what}: one task set, the one that was primary: {svc['taskSets']}")
    weights = w.weights("canary", "web")
    check(weights.get(tg) == 100 and sum(weights.values()) == 100, f"{what}: all traffic on its group: {weights}")


def lock_params(w):
    """Every parameter of the lock machinery left in canary's ledger: the lock, heartbeats, takeover claims."""
    ledger = w.plan("canary")["ledger"]
    names = []
    for page in w.ssm.get_paginator("get_parameters_by_path").paginate(Path=ledger, Recursive=True):
        names += [p["Name"][len(ledger) + 1:] for p in page["Parameters"]]
    return sorted(n for n in names if n == "lock" or n.startswith("lock-"))


def move_lock_elsewhere(w):
    """Makes the lock look taken on another machine (the dead-process shortcut of this one does not apply)."""
    name = w.plan("canary")["ledger"] + "/lock"
    lock = json.loads(w.ssm.get_parameter(Name=name)["Parameter"]["Value"])
    lock["host"] = "another-runner"
    w.ssm.put_parameter(Name=name, Value=json.dumps(lock), Type="String", Overwrite=True)
    return lock


def rollback_elsewhere(w, *extra):
    """gops rollback as another machine runs it: its own working directory and journal."""
    other = tempfile.mkdtemp(prefix="gops-other-machine-", dir=w.work)
    cmd = [w.gops, "rollback", SPEC, "--env", "canary", "--tf-outputs", w.tf_file("canary"),
           "--journal", os.path.join(other, "journal.jsonl"), *FAST, *extra]
    p = subprocess.run(cmd, env=w.env, cwd=other, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


# --- the lock's heartbeat --------------------------------------------------------------

def test_kill_then_rollback_elsewhere(w):
    """kill -9 in a hold; another machine's rollback is refused while the heartbeat is fresh, then takes over at once."""
    primary, tg = stable_of(w)
    proc, lines = start_apply(w, "v2")
    proc.kill()
    proc.wait()
    killed = time.time()
    lock = move_lock_elsewhere(w)
    check(lock.get("token") and lock.get("heartbeat_seconds") == HEARTBEAT, f"the lock carries a token and its heartbeat expiry: {lock}")
    check(any(n.startswith("lock-heartbeat/") for n in lock_params(w)), f"the holder wrote heartbeats: {lock_params(w)}")
    code, out, err = rollback_elsewhere(w)
    if time.time() - killed < HEARTBEAT - 1:  # the heartbeat was still fresh for the whole call
        check(code == 1 and "locked by another apply" in out, f"refused while the heartbeat is fresh: exit {code}\n{out}{err}")
    st = subprocess.run([w.gops, "status", SPEC, "--env", "canary", "--tf-outputs", w.tf_file("canary"), "--format", "json"],
                        env=w.env, capture_output=True, text=True, timeout=60)
    check(st.returncode == 0 and "heartbeat_age_seconds" in json.loads(st.stdout)["lock"], f"status shows the heartbeat: {st.stdout}{st.stderr}")
    while time.time() < killed + HEARTBEAT + 0.5:
        time.sleep(0.2)
    code, out, err = rollback_elsewhere(w)
    took = time.time() - killed
    check(code == 0, f"rollback from another machine after the heartbeat expired: exit {code}\n{out}{err}")
    check("is dead: its heartbeat stopped" in out and "taking it over" in out, "takes the dead lock over:\n" + out)
    check(took < HEARTBEAT + 60, f"done {took:.0f} s after the kill, not hours")
    check_restored(w, primary, tg, "after the rollback")
    check(w.ledger("canary", "deploy")["status"] == "restored", f"ledger: {w.ledger('canary', 'deploy')}")
    check(lock_params(w) == [], f"no lock, heartbeat or claim left: {lock_params(w)}")


def test_resume_elsewhere(w):
    """kill -9 in a hold; --resume from another machine (no journal of the dead run) finishes it once the heartbeat expires."""
    proc, lines = start_apply(w, "v3")
    proc.kill()
    proc.wait()
    killed = time.time()
    deploy_id = next(e["deploy_id"] for e in events("".join(lines)) if e["event"] == "locked")
    move_lock_elsewhere(w)
    other = tempfile.mkdtemp(prefix="gops-other-machine-", dir=w.work)
    cmd = [w.gops, "apply", SPEC, "--env", "canary", "--image-tag", "v3", "--resume", "--tf-outputs", w.tf_file("canary"),
           "--journal", os.path.join(other, "journal.jsonl"), "--format", "json", *FAST]
    while time.time() < killed + HEARTBEAT + 0.5:
        time.sleep(0.2)
    p = subprocess.run(cmd, env=w.env, cwd=other, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"resume from another machine: exit {p.returncode}\n{p.stdout}{p.stderr}")
    ev = events(p.stdout)
    taken = [e for e in ev if e["event"] == "lock_taken_over"]
    check(taken and "heartbeat stopped" in taken[0]["why"], f"the dead lock is taken over: {taken}")
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and svc["taskSets"][0]["externalId"] == deploy_id, f"the dead deploy's task set is primary: {svc['taskSets']}")
    check(w.ledger("canary", "deploy")["status"] == "succeeded", f"ledger: {w.ledger('canary', 'deploy')}")
    check(lock_params(w) == [], f"no lock left: {lock_params(w)}")


def test_stalled_holder_stops(w):
    """A holder stopped past its heartbeat, taken over, then continued: it changes nothing more (exit 4)."""
    primary, tg = stable_of(w)
    proc, lines = start_apply(w, "v3")
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        move_lock_elsewhere(w)
        time.sleep(HEARTBEAT + 0.5)
        code, out, err = rollback_elsewhere(w)
        check(code == 0, f"the takeover: exit {code}\n{out}{err}")
        check_restored(w, primary, tg, "after the takeover")
        # Another command holds the lock now (a foreign value the stalled holder must not touch).
        name = w.plan("canary")["ledger"] + "/lock"
        foreign = {"owner": "someone@elsewhere pid 1", "deploy_id": "1-1", "command": "apply", "host": "elsewhere", "pid": 1,
                   "started": "2030-01-01T00:00:00Z", "token": "1-1-foreign", "heartbeat_seconds": 600, "expires": int(time.time()) + 600}
        w.ssm.put_parameter(Name=name, Value=json.dumps(foreign), Type="String")
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    rest, err = proc.communicate(timeout=120)
    try:
        ev = events("".join(lines) + rest)
        check(proc.returncode == 4, f"the stalled holder: exit {proc.returncode}\n{''.join(lines)}{rest}{err}")
        check(ev[-1]["event"] == "result" and ev[-1]["status"] == "lock_lost", f"it says it lost the lock: {ev[-1]}")
        after = [e for e in ev[len(lines):] if e["event"] in ("weights", "step", "registered", "restored", "rollback")]
        check(after == [], f"it changed nothing after it continued: {after}")
        check_restored(w, primary, tg, "after the stalled holder ended")
        check(json.loads(w.ssm.get_parameter(Name=name)["Parameter"]["Value"]) == foreign, "the other holder's lock is untouched")
        check(not any(n.startswith("lock-heartbeat/") for n in lock_params(w)), f"no heartbeat written for it: {lock_params(w)}")
    finally:
        w.ssm.delete_parameter(Name=name)


# --- signals ---------------------------------------------------------------------------

def test_sigterm_mid_canary(w):
    """SIGTERM in the 10% hold: a complete rollback, exit 3, within a few seconds."""
    primary, tg = stable_of(w)
    proc, lines = start_apply(w, "v2")
    sent = time.time()
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=120)
    took = time.time() - sent
    ev = events("".join(lines) + rest)
    check(proc.returncode == 3, f"exit {proc.returncode}, expected 3\n{''.join(lines)}{rest}{err}")
    check(took < 30, f"rolled back {took:.1f} s after the signal")
    rb = [e for e in ev if e["event"] == "rollback"]
    check(any(e["service"] == "web" and e["trigger"] == "cancelled" for e in rb) and all("SIGTERM" in e["reason"] for e in rb),
          f"rollback events say why: {rb}")
    check(ev[-1]["event"] == "result" and ev[-1]["status"] == "rolled_back" and ev[-1]["cancelled"] == "cancelled (SIGTERM)", f"{ev[-1]}")
    check_restored(w, primary, tg, "after SIGTERM")
    dep = w.ledger("canary", "deploy")
    check(dep["status"] == "rolled_back" and "cancelled" in dep and "SIGTERM" in dep["reason"], f"ledger: {dep}")
    check(lock_params(w) == [], f"lock released: {lock_params(w)}")
    # Text mode says so in words.
    proc = subprocess.Popen(w.apply_cmd("canary", "v2", "--heartbeat-seconds", str(HEARTBEAT)), env=w.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = ""
    for line in proc.stdout:
        out += line
        if "weights: 10%" in line:
            proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    check(proc.returncode == 3 and "gops apply: cancelled (SIGINT): rolled back; testapp canary runs what it ran before" in out,
          f"exit {proc.returncode}\n{out}{proc.stderr.read()}")


def test_second_signal_stops_at_once(w):
    """SIGINT then SIGTERM: stop at once (exit 4), a dead deploy with its lock released; rollback --if-dead finishes it."""
    primary, tg = stable_of(w)
    proc, lines = start_apply(w, "v3")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    ev = events("".join(lines) + rest)
    check(proc.returncode == 4, f"exit {proc.returncode}, expected 4\n{''.join(lines)}{rest}{err}")
    check(ev[-1]["status"] == "interrupted" and "--if-dead" in ev[-1]["rollback"], f"says what to run: {ev[-1]}")
    check("a second signal after SIGINT" in ev[-1]["reason"], f"names the first signal: {ev[-1]}")
    dep = w.ledger("canary", "deploy")
    check(dep["status"] == "in_progress" and "interrupted" in dep and "cancelled" in dep, f"left as a dead deploy: {dep}")
    check(lock_params(w) == [], f"its lock released: {lock_params(w)}")
    code, out, err = w.apply("canary", "v3", "--resume")
    check(code == 1 and "stopped" in out, f"not resumed (it was cancelled): exit {code}\n{out}{err}")
    code, out, err = w.rollback("canary", "--if-dead")
    check(code == 3, f"rollback --if-dead: exit {code}\n{out}{err}")
    check("its lock is gone" in out and "is rolled back" in out, out)
    check_restored(w, primary, tg, "after rollback --if-dead")


def test_grace_time(w):
    """The rollback after a signal may take --grace-seconds; past it gops stops after the call in flight (exit 4)."""
    primary, tg = stable_of(w)
    proxy = SlowProxy(w.moto.port)
    try:
        env = dict(w.env, AWS_ENDPOINT_URL=proxy.endpoint)
        proc, lines = start_apply(w, "v2", "--grace-seconds", "1", env=env)
        proxy.delay = 3  # from now on every ModifyRule takes 3 s
        sent = time.time()
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=120)
        took = time.time() - sent
    finally:
        proxy.stop()
    ev = events("".join(lines) + rest)
    check(proc.returncode == 4, f"exit {proc.returncode}, expected 4\n{''.join(lines)}{rest}{err}")
    check(took < 10, f"stopped {took:.1f} s after the signal (grace 1 s, a 3 s call in flight)")
    check("grace time" in ev[-1]["reason"], f"{ev[-1]}")
    failed = [e for e in ev if e["event"] == "rollback_failed"]
    check(any("not done" in e["what"] for e in failed), f"what was left undone is listed: {failed}")
    code, out, err = w.rollback("canary", "--if-dead")
    check(code == 3, f"rollback --if-dead: exit {code}\n{out}{err}")
    check_restored(w, primary, tg, "after rollback --if-dead")


# --- a dead deploy -------------------------------------------------------------------

def test_apply_after_dead_refuses(w):
    """A plain apply after a dead one is refused, naming both fixes; --rollback-dead undoes it first."""
    primary, tg = stable_of(w)
    proc, lines = start_apply(w, "v2")
    proc.kill()
    proc.wait()
    deploy_id = next(e["deploy_id"] for e in events("".join(lines)) if e["event"] == "locked")
    tds = w.task_def_count("testapp-canary-web")
    code, out, err = w.apply("canary", "v3")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check(f"deploy {deploy_id} of image tag v2" in out and "died" in out, "names the dead deploy:\n" + out)
    check(re.search(r"gops apply \S+testapp\.gops --env canary .*--image-tag v2 --resume", out), "names --resume:\n" + out)
    check(re.search(r"gops rollback \S+testapp\.gops --env canary --tf-outputs", out), "names gops rollback:\n" + out)
    check("--rollback-dead" in out and "nothing was changed" in out, out)
    check(len(w.service("canary", "web")["taskSets"]) == 2 and w.task_def_count("testapp-canary-web") == tds, "nothing changed")
    code, out, err = w.apply("canary", "v3", "--format", "json")
    ev = events(out)
    dead = [e for e in ev if e["event"] == "dead_deploy"]
    check(code == 1 and dead and dead[0]["resume"].endswith("--image-tag v2 --resume") and "gops rollback" in dead[0]["rollback"],
          f"the JSON event carries both commands: {dead}")
    code, out, err = w.apply("canary", "v3", "--rollback-dead", "--format", "json")
    check(code == 0, f"--rollback-dead: exit {code}\n{out}{err}")
    ev = events(out)
    first = next(e for e in ev if e["event"] == "dead_deploy_result")
    check(first["status"] == "restored" and first["exit"] == 3, f"the dead deploy is rolled back first: {first}")
    check(ev[-1]["event"] == "result" and ev[-1]["status"] == "succeeded", f"then v3 is deployed: {ev[-1]}")
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and w.image_of(svc["taskSets"][0]["taskDefinition"]).endswith(":v3"), f"v3 alone: {svc['taskSets']}")
    check(not any(t["externalId"] == deploy_id for t in svc["taskSets"]), "the dead deploy's task set is gone")


def test_if_dead(w):
    """rollback --if-dead [--check]: nothing on a healthy environment or a running deploy; a dead one is rolled back."""
    dep = w.ledger("canary", "deploy")
    check(dep["status"] in ("succeeded", "restored", "rolled_back"), f"healthy to begin with: {dep}")
    for extra in (("--if-dead", "--check"), ("--if-dead",)):
        code, out, err = w.rollback("canary", *extra)
        check(code == 0 and "no deploy died" in out and "nothing to roll back" in out, f"{extra} on a healthy environment: exit {code}\n{out}{err}")
    check(w.ledger("canary", "deploy") == dep and lock_params(w) == [], "nothing changed")
    # A deploy in progress on another machine (its heartbeat fresh) is not dead.
    proc, lines = start_apply(w, "v2")
    try:
        move_lock_elsewhere(w)
        code, out, err = w.rollback("canary", "--if-dead")
        check(code == 0 and "is in progress" in out, f"a running deploy: exit {code}\n{out}{err}")
    finally:
        rest, err = proc.communicate(timeout=120)
    check(proc.returncode == 0, f"the running deploy went on: {rest}{err}")
    primary, tg = stable_of(w)
    proc, lines = start_apply(w, "v3")
    proc.kill()
    proc.wait()
    code, out, err = w.rollback("canary", "--if-dead", "--check")
    check(code == 3 and "died" in out and "--if-dead" in out and "nothing was changed" in out, f"--check: exit {code}\n{out}{err}")
    check(len(w.service("canary", "web")["taskSets"]) == 2, "--check changes nothing")
    code, out, err = w.rollback("canary", "--if-dead", "--format", "json")
    ev = events(out)
    check(code == 3 and ev[-1]["status"] == "restored", f"rolled back: exit {code}\n{out}{err}")
    check_restored(w, primary, tg, "after --if-dead")
    code, out, err = w.rollback("canary", "--if-dead")
    check(code == 0 and "nothing to roll back" in out, f"again: nothing to do: exit {code}\n{out}{err}")


# --- credentials -----------------------------------------------------------------------

class SlowProxy:
    """Forwards to moto; once `delay` is set, ModifyRule answers that many seconds late."""

    def __init__(self, target_port):
        proxy = self
        self.delay = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.delay and b"Action=ModifyRule" in body:
                    time.sleep(proxy.delay)
                forward(self, target_port, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class CredentialProxy:
    """In front of moto: STS AssumeRoleWithWebIdentity answers say they expire 5 minutes
    and `lifetime` seconds later, so that gops, which renews 5 minutes ahead, renews them
    after `lifetime` seconds; a request signed with a key past that (and a moment's
    grace) is refused with ExpiredToken, as AWS refuses an expired session (moto checks
    neither). Records the web identity tokens STS was given."""

    def __init__(self, target_port, lifetime):
        proxy = self
        self.expires = {}  # access key id -> Unix time
        self.tokens = []
        self.refused = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                form = urllib.parse.parse_qs(body.decode(errors="replace"))
                if form.get("Action") == ["AssumeRoleWithWebIdentity"]:
                    with proxy.lock:
                        proxy.tokens.append(form["WebIdentityToken"][0])

                    def shorten(data):
                        text = data.decode()
                        until = time.time() + 300 + lifetime
                        key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text).group(1)
                        with proxy.lock:
                            proxy.expires[key] = until
                        stamp = datetime.datetime.fromtimestamp(until, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                        return re.sub(r"<Expiration>[^<]+</Expiration>", f"<Expiration>{stamp}</Expiration>", text).encode()
                    return forward(self, target_port, body, shorten)
                m = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
                key = m.group(1) if m else ""
                with proxy.lock:
                    # What gops was told minus the 5 minutes it renews ahead, plus a little
                    # for a request signed just before that and still on its way.
                    expired = key in proxy.expires and proxy.expires[key] - 300 + 1.5 < time.time()
                    if expired:
                        proxy.refused.append(key)
                if expired:
                    if "X-Amz-Target" in self.headers:
                        payload = json.dumps({"__type": "ExpiredTokenException", "message": "The security token included in the request is expired"})
                        return reply(self, 400, payload.encode(), [("Content-Type", "application/x-amz-json-1.1")])
                    payload = (b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token "
                               b"included in the request is expired</Message></Error><RequestId>expired</RequestId></ErrorResponse>")
                    return reply(self, 400, payload, [("Content-Type", "text/xml")])
                forward(self, target_port, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class GithubOidc:
    """A stand-in for GitHub Actions' OIDC token endpoint: GET with the request token as
    bearer and `audience=sts.amazonaws.com` gives a new token each time."""

    REQUEST_TOKEN = "gha-request-token"

    def __init__(self):
        oidc = self
        self.issued = []
        self.bad = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(url.query)
                if self.headers.get("Authorization") != f"bearer {GithubOidc.REQUEST_TOKEN}" or q.get("audience") != ["sts.amazonaws.com"] \
                        or q.get("api-version") != ["2.0"]:
                    oidc.bad.append(self.path)
                    return reply(self, 401, b'{"message":"unauthorized"}', [("Content-Type", "application/json")])
                token = f"gh.oidc.{len(oidc.issued) + 1}"
                oidc.issued.append(token)
                reply(self, 200, json.dumps({"count": len(token), "value": token}).encode(), [("Content-Type", "application/json")])

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_apis/distributedtask/token?api-version=2.0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def role_env(w, proxy, **extra):
    env = {k: v for k, v in w.env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    env.update(AWS_ENDPOINT_URL=proxy.endpoint, AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME="gops-deploy-canary", **extra)
    return env


def check_expiry_enforced(proxy, w):
    """The proxy refuses the first session's key by now: a gops that kept it would have failed."""
    import boto3
    first = next(iter(proxy.expires))
    ssm = boto3.client("ssm", endpoint_url=proxy.endpoint, region_name="us-east-1", aws_access_key_id=first,
                       aws_secret_access_key="x", aws_session_token="x")
    try:
        ssm.get_parameter(Name=w.plan("canary")["ledger"] + "/deploy")
        raise Failure("the proxy let an expired key through")
    except ssm.exceptions.ClientError as e:
        check(e.response["Error"]["Code"] in ("ExpiredToken", "ExpiredTokenException"), f"{e}")


def test_credentials_token_file(w):
    """Web identity from a token file rewritten mid-hold: the sessions are renewed with the new token."""
    proxy = CredentialProxy(w.moto.port, lifetime=2)
    token_file = os.path.join(w.work, "web-identity-token")
    with open(token_file, "w") as f:
        f.write("token-before\n")
    try:
        env = role_env(w, proxy, AWS_WEB_IDENTITY_TOKEN_FILE=token_file)
        proc, lines = start_apply(w, "v2", env=env)
        with open(token_file + ".new", "w") as f:
            f.write("token-after\n")
        os.replace(token_file + ".new", token_file)  # as the kubelet rotates it
        rest, err = proc.communicate(timeout=120)
        check(proc.returncode == 0, f"exit {proc.returncode}\n{''.join(lines)}{rest}{err}")
        check(proxy.refused == [], f"no request with an expired key: {proxy.refused}")
        check(len(proxy.tokens) >= 3, f"sessions renewed during the holds: {len(proxy.tokens)} AssumeRoleWithWebIdentity")
        check(proxy.tokens[0] == "token-before" and proxy.tokens[-1] == "token-after", f"the file is read again: {proxy.tokens}")
        check_expiry_enforced(proxy, w)
    finally:
        proxy.stop()
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and w.image_of(svc["taskSets"][0]["taskDefinition"]).endswith(":v2"), "v2 deployed")


def test_credentials_github_oidc(w):
    """In GitHub Actions: a new OIDC token from the job's token request for each renewed session."""
    proxy = CredentialProxy(w.moto.port, lifetime=2)
    oidc = GithubOidc()
    try:
        env = role_env(w, proxy, ACTIONS_ID_TOKEN_REQUEST_URL=oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN=GithubOidc.REQUEST_TOKEN)
        env.pop("AWS_WEB_IDENTITY_TOKEN_FILE", None)
        code = subprocess.run(w.apply_cmd("canary", "v3"), env=env, capture_output=True, text=True, timeout=300)
        check(code.returncode == 0, f"exit {code.returncode}\n{code.stdout}{code.stderr}")
        check(oidc.bad == [], f"every token request was well formed: {oidc.bad}")
        check(len(oidc.issued) >= 3 and proxy.tokens == oidc.issued, f"one token per session: {oidc.issued} / {proxy.tokens}")
        check(proxy.refused == [], f"no request with an expired key: {proxy.refused}")
        check(GithubOidc.REQUEST_TOKEN not in code.stdout + code.stderr, "the request token is never printed")
        check_expiry_enforced(proxy, w)
    finally:
        oidc.stop()
        proxy.stop()
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and w.image_of(svc["taskSets"][0]["taskDefinition"]).endswith(":v3"), "v3 deployed")


def deploy_first(w):
    """canary starts from a successful deploy of v1, as after a first release."""
    code, out, err = w.apply("canary", "v1")
    if code != 0:
        raise Failure(f"the first deploy: exit {code}\n{out}{err}")


TESTS = [test_kill_then_rollback_elsewhere, test_resume_elsewhere, test_stalled_holder_stops, test_sigterm_mid_canary, test_second_signal_stops_at_once,
         test_grace_time, test_apply_after_dead_refuses, test_if_dead, test_credentials_token_file, test_credentials_github_oidc]


def main():
    def first_deploy_then(tests):
        done = []

        def wrap(t):
            def run(w):
                if not done:
                    deploy_first(w)
                    done.append(True)
                t(w)
            run.__name__ = t.__name__
            return run
        return [wrap(t) for t in tests]
    return run_suite("recovery", __doc__, first_deploy_then(TESTS), ("canary",))


if __name__ == "__main__":
    sys.exit(main())
