#!/usr/bin/env python3
"""End-to-end tests of `gops apply` against a private moto_server.

    run_deploy_tests.py <path to gops> [test name ...]

Starts moto_server on a free port of 127.0.0.1, builds tests/runtime/deploy/testapp.gops,
creates what the environments' Terraform modules would have created (VPC, subnets,
security groups, ALB, listener, rules, target groups, cluster, services with their first
task set, alarms, SSM parameters, secrets, ECR images) from the generated files, writes
each environment's `terraform output -json`, runs `gops apply` and checks the outcome
through the AWS APIs. Exit 77 (CTest: skipped) when moto_server or boto3 is missing.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ACCOUNT, FAST, REGION, RUNNING, SPEC, Failure, FaultProxy, World, check, run_in_pty,  # noqa: E402,F401
                     run_suite, run_until_event)


def test_wrong_account(w):
    # Outputs of the same shape as another environment's: the account check comes first.
    shutil.copy(w.tf_file("rolling"), w.tf_file("elsewhere"))
    code, out, err = w.apply("elsewhere", "v1")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check("account 123456789012" in out and "222222222222" in out, "the refusal names both accounts:\n" + out)


def test_missing_image(w):
    before = w.weights("canary", "web")
    tds = w.task_def_count("testapp-canary-web")
    code, out, err = w.apply("canary", "v404")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check("testapp/web:v404 does not exist in ECR" in out, "names the missing image:\n" + out)
    check("nothing was changed" in out, out)
    check(w.weights("canary", "web") == before, "weights unchanged")
    check(w.task_def_count("testapp-canary-web") == tds, "no task definition registered")
    check(w.ledger("canary", "lock") is None, "no lock left")


def test_missing_secret(w):
    sid = "testapp/bluegreen/api"
    w.sm.delete_secret(SecretId=sid, ForceDeleteWithoutRecovery=True)
    ssm_name = "/testapp/bluegreen/database-url"
    w.ssm.delete_parameter(Name=ssm_name)
    try:
        tds = w.task_def_count("testapp-bluegreen-web")
        code, out, err = w.apply("bluegreen", "v1")
        check(code == 1, f"exit {code}, expected 1\n{out}{err}")
        check(f"secret {sid} does not exist" in out, "names the missing secret:\n" + out)
        check(f"SSM parameter {ssm_name} does not exist" in out, "names the missing parameter:\n" + out)
        check(w.task_def_count("testapp-bluegreen-web") == tds, "no task definition registered")
    finally:
        w.sm.create_secret(Name=sid, SecretString=json.dumps({"key": "test"}))
        w.ssm.put_parameter(Name=ssm_name, Value="postgres://test", Type="SecureString", Overwrite=True)


def test_rolling(w):
    code, out, err = w.apply("rolling", "v1")
    check(code == 0, f"exit {code}\n{out}{err}")
    for name in ("web", "worker"):
        svc = w.service("rolling", name)
        check(w.image_of(svc["taskDefinition"]).endswith(f"testapp/{name}:v1"), f"{name} runs v1: {svc['taskDefinition']}")
        rec = w.ledger("rolling", f"services/{name}")
        check(rec and rec["status"] == "succeeded" and rec["image_tag"] == "v1", f"ledger of {name}: {rec}")
        check(w.ledger("rolling", f"last-good/{name}")["task_definition"] == svc["taskDefinition"], "last-good")
    check(w.ledger("rolling", "deploy")["status"] == "succeeded", "ledger deploy record")
    check(w.ledger("rolling", "lock") is None, "lock released")
    check(os.path.getsize(os.path.join(w.work, "rolling.journal.jsonl")) > 0, "journal written")


def test_blue_green(w):
    green = w.tf["bluegreen"]["web_target_group_green_arn"]["value"]
    code, out, err = w.apply("bluegreen", "v1")
    check(code == 0, f"exit {code}\n{out}{err}")
    weights = w.weights("bluegreen", "web")
    check(weights.get(green) == 100, f"all traffic on green: {weights}")
    svc = w.service("bluegreen", "web")
    sets = svc["taskSets"]
    check(len(sets) == 1 and sets[0]["status"] == "PRIMARY", f"one task set left, primary: {sets}")
    check(w.image_of(sets[0]["taskDefinition"]).endswith("testapp/web:v1"), "the primary runs v1")
    check(sets[0]["loadBalancers"][0]["targetGroupArn"] == green, "behind green")
    check(w.ledger("bluegreen", "services/web")["status"] == "succeeded", "ledger")


def test_canary(w):
    """The weights observed through the API at every step are the spec's."""
    plan = w.plan("canary")
    web = next(s for s in plan["services"] if s["name"] == "web")
    expected = [s["weight"] for s in web["steps"] if s["action"] == "shift"]
    green = w.tf["canary"]["web_target_group_green_arn"]["value"]
    seen = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            g = w.weights("canary", "web").get(green, 0)
            if not seen or seen[-1] != g:
                seen.append(g)
            time.sleep(0.1)
    t = threading.Thread(target=watch)
    t.start()
    try:
        code, out, err = w.apply("canary", "v1", "--format", "json")
    finally:
        stop.set()
        t.join()
    check(code == 0, f"exit {code}\n{out}{err}")
    events = [json.loads(line) for line in out.splitlines()]
    shifted = [e["weight"] for e in events if e["event"] == "weights" and e["service"] == "web"]
    check(shifted == expected, f"weights events {shifted} != plan {expected}")
    observed = [x for x in seen if x != 0]
    check(observed == expected, f"weights observed through the API {seen}, expected 0 then {expected}")
    check(events[-1]["event"] == "result" and events[-1]["status"] == "succeeded", f"last event {events[-1]}")
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and w.image_of(svc["taskSets"][0]["taskDefinition"]).endswith(":v1"), "v1 primary")


def apply_alarm_at_first_shift(w, tag, alarm):
    """Applies `tag` to the canary environment (JSON events) and sets `alarm` to ALARM once
    web's weights reach 10%; resets it afterwards. Returns (exit code, stdout, stderr)."""
    proc, lines = run_until_event(w, w.apply_cmd("canary", tag, "--format", "json"),
                                  lambda e: e["event"] == "weights" and e.get("service") == "web" and e["weight"] == 10)
    try:
        w.cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="the test sets it")
        rest, err = proc.communicate(timeout=120)
    finally:
        w.cw.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="the test resets it")
    return proc.returncode, "".join(lines) + rest, err


def test_canary_alarm_rollback(w):
    """ALARM during a canary hold: complete rollback, exit 3, ledger says rolled back."""
    plan = w.plan("canary")
    web = next(s for s in plan["services"] if s["name"] == "web")
    alarm = web["watch"]["alarms"][0]
    before = w.service("canary", "web")
    stable_ts = before["taskSets"][0]
    stable_tg = stable_ts["loadBalancers"][0]["targetGroupArn"]
    code, out, err = apply_alarm_at_first_shift(w, "v2", alarm)
    check(code == 3, f"exit {code}, expected 3\n{out}{err}")
    events = [json.loads(line) for line in out.splitlines()]
    rb = [e for e in events if e["event"] == "rollback"]
    check(rb and rb[0]["trigger"] == "alarm" and alarm in rb[0]["reason"], f"rollback event names the alarm: {rb}")
    weights = w.weights("canary", "web")
    check(weights.get(stable_tg) == 100 and sum(weights.values()) == 100, f"all traffic back on the stable group: {weights}")
    after = w.service("canary", "web")
    check(len(after["taskSets"]) == 1, f"the new task set is gone: {after['taskSets']}")
    check(after["taskSets"][0]["taskSetArn"] == stable_ts["taskSetArn"] and after["taskSets"][0]["status"] == "PRIMARY",
          "the previous task set is still primary")
    check(after["taskDefinition"] == before["taskDefinition"], "the service's task definition is the previous one")
    rec = w.ledger("canary", "services/web")
    check(rec["status"] == "rolled_back" and alarm in rec["reason"], f"ledger: {rec}")
    check(w.ledger("canary", "deploy")["status"] == "rolled_back", "ledger deploy record")
    check(w.ledger("canary", "lock") is None, "lock released")


def test_concurrent_apply_refused(w):
    proc, lines = run_until_event(w, w.apply_cmd("canary", "v3", "--format", "json"),
                                  lambda e: e["event"] == "weights" and e.get("service") == "web" and e["weight"] == 10)
    try:
        code, out, err = w.apply("canary", "v3")
        check(code == 1, f"second apply: exit {code}, expected 1\n{out}{err}")
        check("locked by another apply" in out, "says why:\n" + out)
        # gops status shows the canary in progress, its step and weight.
        st = subprocess.run([w.gops, "status", SPEC, "--env", "canary", "--tf-outputs", w.tf_file("canary"), "--format", "json"],
                            env=w.env, capture_output=True, text=True, timeout=60)
        check(st.returncode == 0, f"status: exit {st.returncode}\n{st.stdout}{st.stderr}")
        web = next(x for x in json.loads(st.stdout)["services"] if x["name"] == "web")
        check(web["in_progress"]["image_tag"] == "v3" and web["in_progress"]["step"] == "shift", f"in progress: {web.get('in_progress')}")
        wt = web["in_progress"]["weight"]  # 10, or 50 on a slow machine
        check(wt in (10, 50) and sorted(web["weights"].values()) == sorted([wt, 100 - wt]), f"weights: {web}")
        check(len(web["task_sets"]) == 2, f"two task sets during the canary: {web['task_sets']}")
        check(json.loads(st.stdout)["lock"]["image_tag"] == "v3", "status shows the lock")
    finally:
        rest, err = proc.communicate(timeout=120)
    check(proc.returncode == 0, f"the first apply still succeeds: exit {proc.returncode}\n{''.join(lines)}{rest}{err}")


def test_kill_then_rollback(w):
    """kill -9 in the middle of a canary hold, then gops rollback: traffic back, nothing split."""
    before = w.service("canary", "web")
    primary = next(t for t in before["taskSets"] if t["status"] == "PRIMARY")
    proc, lines = run_until_event(w, w.apply_cmd("canary", "v2", "--format", "json"),
                                  lambda e: e["event"] == "weights" and e.get("service") == "web" and e["weight"] == 10)
    proc.kill()
    proc.wait()
    check(len(w.service("canary", "web")["taskSets"]) == 2, "the killed apply left two task sets")
    check(w.ledger("canary", "lock") is not None, "and its lock")
    code, out, err = w.rollback("canary")
    check(code == 0, f"rollback: exit {code}\n{out}{err}")
    check("is dead" in out and "taking it over" in out, "the dead apply's lock is taken over:\n" + out)
    after = w.service("canary", "web")
    check(len(after["taskSets"]) == 1 and after["taskSets"][0]["taskSetArn"] == primary["taskSetArn"], f"one task set: {after['taskSets']}")
    tg = primary["loadBalancers"][0]["targetGroupArn"]
    weights = w.weights("canary", "web")
    check(weights.get(tg) == 100 and sum(weights.values()) == 100, f"all traffic on the primary's group: {weights}")
    rec = w.ledger("canary", "services/web")
    check(rec["status"] == "restored" and rec["task_definition"] == primary["taskDefinition"], f"ledger: {rec}")
    check(w.ledger("canary", "lock") is None, "lock released")


def test_faults(w):
    """Throttling and 500s on a share of the requests: the apply still succeeds."""
    proxy = FaultProxy(w.moto.port)
    try:
        env = dict(w.env, AWS_ENDPOINT_URL=proxy.endpoint)
        p = subprocess.run(w.apply_cmd("bluegreen", "v2"), env=env, capture_output=True, text=True, timeout=300)
    finally:
        proxy.stop()
    check(p.returncode == 0, f"exit {p.returncode}\n{p.stdout}{p.stderr}")
    check(proxy.injected >= 5, f"faults injected: {proxy.injected} of {proxy.count} requests")
    svc = w.service("bluegreen", "web")
    check(len(svc["taskSets"]) == 1 and w.image_of(svc["taskSets"][0]["taskDefinition"]).endswith(":v2"), "v2 primary")
    print(f"     {proxy.injected} faults injected in {proxy.count} requests")


def test_rollback_after_success(w):
    """gops rollback after a successful rolling deploy restores the revision before it."""
    code, out, err = w.rollback("rolling")
    check(code == 0, f"rollback: exit {code}\n{out}{err}")
    for name in ("web", "worker"):
        svc = w.service("rolling", name)
        check(w.image_of(svc["taskDefinition"]).endswith(f"testapp/{name}:v0"), f"{name} runs v0 again: {svc['taskDefinition']}")
        rec = w.ledger("rolling", f"services/{name}")
        check(rec["status"] == "restored" and rec["image_tag"] == "v0", f"ledger of {name}: {rec}")


# --- resume, waves, progress, terraform discovery -------------------------------------

def task_sets_by_status(svc):
    return {t["status"]: t for t in svc["taskSets"]}


def kill_during_canary_hold(w, tag):
    """Starts a canary apply of tag, kills it (-9) in the hold at 10%; returns its events."""
    proc, lines = run_until_event(w, w.apply_cmd("canary", tag, "--format", "json"),
                                  lambda e: e["event"] == "weights" and e.get("service") == "web" and e["weight"] == 10)
    proc.kill()
    proc.wait()
    return [json.loads(line) for line in lines]


def test_resume_after_kill(w):
    """kill -9 in a canary hold, then apply --resume finishes the rollout."""
    before = w.service("canary", "web")
    old = task_sets_by_status(before)["PRIMARY"]
    events = kill_during_canary_hold(w, "v1")
    deploy_id = next(e["deploy_id"] for e in events if e["event"] == "locked")
    check(len(w.service("canary", "web")["taskSets"]) == 2, "the killed apply left two task sets")
    check(w.ledger("canary", "deploy")["status"] == "in_progress", "the ledger says in progress")
    check(w.ledger("canary", "lock")["deploy_id"] == deploy_id, "the dead apply's lock is left")
    code, out, err = w.apply("canary", "v1", "--resume", "--format", "json")
    check(code == 0, f"resume: exit {code}\n{out}{err}")
    ev = [json.loads(line) for line in out.splitlines()]
    check(any(e["event"] == "lock_taken_over" for e in ev), "the dead lock is taken over")
    res = [e for e in ev if e["event"] == "resume" and e.get("service") == "web"]
    check(res and res[0]["index"] >= 3 and res[0]["weight"] == 10, f"web resumes at the step it died in: {res}")
    shifted = [e["weight"] for e in ev if e["event"] == "weights" and e.get("service") == "web"]
    check(shifted == [10, 50, 100], f"re-enters the 10% step, then continues: {shifted}")
    check(not any(e["event"] == "step" and e.get("service") == "web" and e["action"] in ("register_task_definition", "create_task_set")
                  for e in ev), "neither registers nor creates again")
    after = w.service("canary", "web")
    check(len(after["taskSets"]) == 1, f"one task set left: {after['taskSets']}")
    new = after["taskSets"][0]
    check(new["status"] == "PRIMARY" and new["externalId"] == deploy_id, f"the dead deploy's task set is primary: {new}")
    check(new["taskSetArn"] != old["taskSetArn"] and w.image_of(new["taskDefinition"]).endswith("testapp/web:v1"), "runs v1")
    tg = new["loadBalancers"][0]["targetGroupArn"]
    weights = w.weights("canary", "web")
    check(weights.get(tg) == 100 and sum(weights.values()) == 100, f"100% on the new group: {weights}")
    rec = w.ledger("canary", "services/web")
    check(rec["status"] == "succeeded" and rec["deploy_id"] == deploy_id and rec["task_definition"] == new["taskDefinition"], f"ledger: {rec}")
    dep = w.ledger("canary", "deploy")
    check(dep["status"] == "succeeded" and dep["deploy_id"] == deploy_id and dep.get("resumed"), f"deploy record: {dep}")
    check(w.ledger("canary", "last-good/web")["task_definition"] == new["taskDefinition"], "last-good updated")
    worker = w.service("canary", "worker")
    check(w.image_of(worker["taskDefinition"]).endswith("testapp/worker:v1"), f"worker runs v1: {worker['taskDefinition']}")
    check(w.ledger("canary", "last-good/worker")["task_definition"] == worker["taskDefinition"], "worker's last-good")
    check(w.ledger("canary", "lock") is None, "lock released")


def test_resume_nothing(w):
    """--resume with nothing to resume: says so, changes nothing; exit 0 when the tag is deployed."""
    dep = w.ledger("canary", "deploy")
    code, out, err = w.apply("canary", dep["image_tag"], "--resume")
    check(code == 0, f"exit {code}\n{out}{err}")
    check("nothing to resume" in out and f"{dep['image_tag']} is deployed" in out, out)
    other = "v2" if dep["image_tag"] != "v2" else "v3"
    code, out, err = w.apply("canary", other, "--resume")
    check(code == 1, f"another tag, nothing died: exit {code}\n{out}{err}")
    check("nothing to resume" in out and "nothing was changed" in out, out)
    check(w.ledger("canary", "deploy") == dep, "the ledger is unchanged")
    check(w.ledger("canary", "lock") is None, "no lock left")


def test_resume_other_tag(w):
    """--resume with another tag than the dead deploy's is refused; the right one finishes; twice is harmless."""
    events = kill_during_canary_hold(w, "v2")
    deploy_id = next(e["deploy_id"] for e in events if e["event"] == "locked")
    code, out, err = w.apply("canary", "v3", "--resume")
    check(code == 1, f"exit {code}\n{out}{err}")
    check("was deploying image tag v2, not v3" in out and "--image-tag v2" in out, "says which tag:\n" + out)
    check(len(w.service("canary", "web")["taskSets"]) == 2, "nothing changed")
    check(w.ledger("canary", "lock")["deploy_id"] == deploy_id, "the lock is left as it was")
    code, out, err = w.apply("canary", "v2", "--resume")
    check(code == 0, f"resume with v2: exit {code}\n{out}{err}")
    check("resuming deploy " + deploy_id in out, out)
    svc = w.service("canary", "web")
    check(len(svc["taskSets"]) == 1 and w.image_of(svc["taskSets"][0]["taskDefinition"]).endswith(":v2"), "v2 primary")
    code, out, err = w.apply("canary", "v2", "--resume")
    check(code == 0 and "nothing to resume" in out, f"a second resume: exit {code}\n{out}{err}")


def test_wave_concurrent(w):
    """web and worker form one wave: they deploy at the same time (their events interleave)."""
    plan = w.plan("canary")
    check(any(set(wave) >= {"web", "worker"} for wave in plan["order"]), f"one wave: {plan['order']}")
    code, out, err = w.apply("canary", "v3", "--format", "json")
    check(code == 0, f"exit {code}\n{out}{err}")
    ev = [json.loads(line) for line in out.splitlines()]
    pos = {}
    for i, e in enumerate(ev):
        if e["event"] in ("step", "service_done") and e.get("service") in ("web", "worker"):
            pos.setdefault((e["service"], e["event"]), []).append(i)
    web_first, web_done = pos[("web", "step")][0], pos[("web", "service_done")][0]
    worker_first, worker_done = pos[("worker", "step")][0], pos[("worker", "service_done")][0]
    check(worker_first < web_done and web_first < worker_done,
          f"overlapping steps: web {web_first}..{web_done}, worker {worker_first}..{worker_done}")
    check(all("time_left" in e for e in ev if e["event"] == "step"), "step events carry time_left")
    code, out, err = w.apply("canary", "v3", "--max-parallel", "1", "--format", "json")
    check(code == 0, f"--max-parallel 1: exit {code}\n{out}{err}")
    order = [e["service"] for e in map(json.loads, out.splitlines()) if e["event"] == "step"]
    first = order[0]
    check(order == sorted(order, key=lambda s: s != first), f"--max-parallel 1: one service after the other: {order}")


def test_wave_failure(w):
    """An alarm on web while worker deploys in the same wave: the whole wave is rolled back."""
    plan = w.plan("canary")
    alarm = next(s for s in plan["services"] if s["name"] == "web")["watch"]["alarms"][0]
    web_before = w.service("canary", "web")
    worker_before = w.service("canary", "worker")["taskDefinition"]
    good_before = w.ledger("canary", "last-good/worker")
    code, out, err = apply_alarm_at_first_shift(w, "v1", alarm)
    check(code == 3, f"exit {code}, expected 3\n{out}{err}")
    ev = [json.loads(line) for line in out.splitlines()]
    check(any(e["event"] == "rollback" and e.get("service") == "worker" and e["trigger"] == "wave" for e in ev),
          "worker is rolled back because web failed:\n" + out)
    stable = task_sets_by_status(web_before)["PRIMARY"]
    after = w.service("canary", "web")
    check(len(after["taskSets"]) == 1 and after["taskSets"][0]["taskSetArn"] == stable["taskSetArn"], f"web: {after['taskSets']}")
    weights = w.weights("canary", "web")
    check(weights.get(stable["loadBalancers"][0]["targetGroupArn"]) == 100, f"web's traffic on the stable group: {weights}")
    worker = w.service("canary", "worker")
    check(worker["taskDefinition"] == worker_before, f"worker runs its previous revision: {worker['taskDefinition']} != {worker_before}")
    check(len(worker["deployments"]) == 1, f"worker is stable: {worker['deployments']}")
    for name in ("web", "worker"):
        rec = w.ledger("canary", f"services/{name}")
        check(rec["status"] == "rolled_back", f"ledger of {name}: {rec}")
    dep = w.ledger("canary", "deploy")
    check(dep["status"] == "rolled_back" and dep["services"] == {"web": "rolled_back", "worker": "rolled_back"}, f"deploy: {dep}")
    check(w.ledger("canary", "last-good/worker") == good_before, "worker's last-good is unchanged")
    check(w.ledger("canary", "lock") is None, "lock released")


def test_live_line(w):
    """On a terminal a status line is redrawn in place; under CI=true only plain lines."""
    env = {k: v for k, v in w.env.items() if k != "CI"}
    code, out = run_in_pty(w.apply_cmd("bluegreen", "v1"), env)
    check(code == 0, f"exit {code}\n{out}")
    live = [seg for seg in out.split("\r\x1b[K") if " s left" in seg and "\n" not in seg]
    check(out.count("\r\x1b[K") >= 3 and live, f"the live line is redrawn in place:\n{out!r}")
    check(any("web" in seg and "hold" in seg for seg in live), f"it shows the service, its step and the time left: {live[:5]}")
    check("step 1/" in out and "deployed v1" in out, "the permanent lines are there too:\n" + out)
    code, out = run_in_pty(w.apply_cmd("bluegreen", "v2"), dict(env, CI="true"))
    check(code == 0, f"CI=true: exit {code}\n{out}")
    check("\r\x1b[K" not in out and "\x1b[" not in out, f"CI=true: no live line:\n{out!r}")
    check("step 1/" in out and " s left]" in out, "CI=true: plain step lines with the time left:\n" + out)


def test_terraform_discovery(w):
    """Without --tf-outputs, `terraform output -json` runs in <env>/terraform (a fake terraform checks how)."""
    bindir = os.path.join(w.work, "fake-bin")
    os.makedirs(bindir, exist_ok=True)
    calls = os.path.join(w.work, "terraform-calls.txt")
    fake = os.path.join(bindir, "terraform")
    with open(fake, "w") as f:
        f.write(f"""#!/bin/sh
echo "$(pwd -P) $*" >> {calls}
if [ "$*" != "output -json" ]; then echo "unexpected arguments: $*" >&2; exit 1; fi
case "$(pwd -P)" in */rolling/terraform) ;; *) echo "unexpected directory $PWD" >&2; exit 1 ;; esac
cat {w.tf_file("rolling")}
""")
    os.chmod(fake, 0o755)
    cmd = [w.gops, "apply", SPEC, "--env", "rolling", "--image-tag", "v2",
           "--journal", os.path.join(w.work, "rolling.journal.jsonl"), *FAST]
    env = dict(w.env, PATH=bindir + os.pathsep + w.env.get("PATH", ""))
    p = subprocess.run(cmd, env=env, cwd=w.out, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"exit {p.returncode}\n{p.stdout}{p.stderr}")
    with open(calls) as f:
        lines = f.read().splitlines()
    check(lines == [os.path.join(os.path.realpath(w.out), "rolling", "terraform") + " output -json"], f"one call, in the module: {lines}")
    svc = w.service("rolling", "web")
    check(w.image_of(svc["taskDefinition"]).endswith("testapp/web:v2"), "deployed with the discovered outputs")
    # --plan-dir OUT/ENV: the module next to the plan.
    p = subprocess.run(cmd + ["--plan-dir", os.path.join(w.out, "rolling")], env=env, cwd=w.work, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"--plan-dir: exit {p.returncode}\n{p.stdout}{p.stderr}")
    # No terraform on PATH: a clear error, nothing done.
    empty = os.path.join(w.work, "empty-bin")
    os.makedirs(empty, exist_ok=True)
    p = subprocess.run(cmd, env=dict(w.env, PATH=empty), cwd=w.out, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "terraform" in p.stderr and "--tf-outputs" in p.stderr, f"exit {p.returncode}\n{p.stdout}{p.stderr}")


TESTS = [test_wrong_account, test_missing_image, test_missing_secret, test_rolling, test_blue_green, test_canary,
         test_canary_alarm_rollback, test_concurrent_apply_refused, test_kill_then_rollback, test_faults,
         test_rollback_after_success, test_resume_after_kill, test_resume_nothing, test_resume_other_tag,
         test_wave_concurrent, test_wave_failure, test_live_line, test_terraform_discovery]


def main():
    return run_suite("deploy", __doc__, TESTS, ("rolling", "bluegreen", "canary"))


if __name__ == "__main__":
    sys.exit(main())
