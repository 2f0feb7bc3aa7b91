#!/usr/bin/env python3
"""End-to-end tests of `gops record-tests`, `gops promote --check` and `gops drift`
against a private moto_server.

    run_gates_tests.py <path to gops> [test name ...]

Reuses the harness of run_deploy_tests.py (moto_server, what Terraform would have created,
`gops apply`): deploys tests/runtime/deploy/testapp.gops's canary environment, records
test results, checks `promote canary -> promoted` with each of its gates met and unmet,
then changes services, task definitions, listener weights and alarms behind gops's back
and checks that `gops drift` finds each change. Exit 77 (CTest: skipped) when moto_server
or boto3 is missing. The tests run in order: each starts from the state the one before
left.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, check, run_suite, SPEC  # noqa: E402  (exits 77 without moto/boto3)

SOAK = 5  # soak(5s) in testapp.gops's `promote canary -> promoted`
ALARM = "testapp-canary-errors"


def run(w, *args, timeout=300):
    p = subprocess.run([w.gops, *args], env=w.env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def promote(w, tag, *extra):
    return run(w, "promote", "--check", SPEC, "canary", "promoted", "--image-tag", tag, *extra)


def promote_json(w, tag):
    code, out, err = promote(w, tag, "--format", "json")
    check(code in (0, 1), f"promote --check: exit {code}\n{out}{err}")
    r = json.loads(out)
    check(r["passed"] == (code == 0), f"`passed` agrees with the exit code {code}: {r}")
    return code, {g["gate"]: g for g in r["gates"]}, out


def record(w, tag, result, env="canary"):
    code, out, err = run(w, "record-tests", SPEC, "--env", env, "--image-tag", tag, "--result", result)
    check(code == 0, f"record-tests: exit {code}\n{out}{err}")
    return out


def drift(w, env, fmt="json"):
    code, out, err = run(w, "drift", SPEC, "--env", env, "--tf-outputs", w.tf_file(env), "--format", fmt)
    check(code in (0, 2), f"drift: exit {code}\n{out}{err}")
    return code, out


def drift_items(w, env):
    code, out = drift(w, env)
    d = json.loads(out)
    check(d["drifted"] == (code == 2), f"`drifted` agrees with the exit code {code}")
    return code, d["items"], d


def unmet(gates):
    return sorted(k for k, g in gates.items() if g["status"] == "unmet")


# --- record-tests and promote --check ------------------------------------------------

def test_not_deployed(w):
    code, out, err = promote(w, "v1")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check("FAIL deployed" in out and "nothing was ever deployed to canary" in out, "says nothing was deployed:\n" + out)
    check("tests_passed" in out and "no test result is recorded" in out, "and no test result:\n" + out)
    check("its soak has not started" in out, "and no soak:\n" + out)
    check("may not be promoted from canary to promoted" in out, out)


def test_record_tests(w):
    out = record(w, "v1", "passed")
    check("/gops/testapp/canary/tests/v1" in out, "names the parameter:\n" + out)
    rec = w.ledger("canary", "tests/v1")
    check(rec["result"] == "passed" and rec["image_tag"] == "v1", f"ledger: {rec}")
    check(rec["actor"] == "gates-test" and rec["commit"] == "0123abcd", f"actor and commit from GITHUB_ACTOR/GITHUB_SHA: {rec}")
    check(rec["recorded"].endswith("Z"), f"time: {rec}")
    code, out, err = run(w, "record-tests", SPEC, "--env", "canary", "--image-tag", "v1", "--result", "failed", "--format", "json")
    check(code == 0 and json.loads(out)["result"] == "failed", f"json: {code} {out}{err}")
    check(w.ledger("canary", "tests/v1")["result"] == "failed", "overwritten")
    history = w.ssm.get_parameter_history(Name="/gops/testapp/canary/tests/v1")["Parameters"]
    check([json.loads(p["Value"])["result"] for p in history] == ["passed", "failed"], f"history kept: {history}")
    record(w, "v1", "passed")


def test_soak_not_elapsed(w):
    code, out, err = w.apply("canary", "v1")
    check(code == 0, f"apply: exit {code}\n{out}{err}")
    code, gates, out = promote_json(w, "v1")
    check(code == 1, f"exit {code}, expected 1 (soak)\n{out}")
    check(unmet(gates) == ["soak"], f"only the soak is unmet: {unmet(gates)}\n{out}")
    check("so far" in gates["soak"]["found"] and "to go" in gates["soak"]["found"], f"says how long: {gates['soak']}")
    check("5 s" in gates["soak"]["expected"], f"says the soak: {gates['soak']}")


def test_all_gates_met(w):
    time.sleep(SOAK + 1)
    code, out, err = promote(w, "v1")
    check(code == 0, f"exit {code}, expected 0\n{out}{err}")
    check("may be promoted from canary to promoted" in out, out)
    code, gates, out = promote_json(w, "v1")
    check(code == 0 and not unmet(gates), f"every gate met: {out}")
    check(set(gates) == {"deployed", "no_rollback", "alarms", "tests_passed", "security_scan", "approval", "soak"}, f"gates: {sorted(gates)}")
    check(gates["approval"]["status"] == "workflow" and "left to the GitHub environment's reviewers" in gates["approval"]["found"],
          f"approval: {gates['approval']}")
    check(gates["security_scan"]["status"] == "workflow", f"security_scan: {gates['security_scan']}")


def test_tests_failed(w):
    record(w, "v1", "failed")
    try:
        code, out, err = promote(w, "v1")
        check(code == 1, f"exit {code}, expected 1\n{out}{err}")
        check("FAIL tests_passed" in out and "recorded as failed" in out and "by gates-test" in out, "says the tests failed:\n" + out)
        check(out.count("FAIL") == 1, "only that gate fails:\n" + out)
    finally:
        record(w, "v1", "passed")


def test_tests_not_recorded(w):
    w.ssm.delete_parameter(Name="/gops/testapp/canary/tests/v1")
    try:
        code, gates, out = promote_json(w, "v1")
        check(code == 1 and unmet(gates) == ["tests_passed"], f"only the tests are unmet: {out}")
        check("no test result is recorded" in gates["tests_passed"]["found"], f"found: {gates['tests_passed']}")
        check("recorded as passed" in gates["tests_passed"]["expected"], f"expected: {gates['tests_passed']}")
    finally:
        record(w, "v1", "passed")


def test_alarm(w):
    w.cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="the gates test sets it")
    try:
        code, out, err = promote(w, "v1")
        check(code == 1, f"exit {code}, expected 1\n{out}{err}")
        check("FAIL alarms" in out and f"{ALARM} is in ALARM" in out and "the gates test sets it" in out, "names the alarm:\n" + out)
        check(out.count("FAIL") == 1, "only that gate fails:\n" + out)
    finally:
        w.cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="the gates test resets it")
    code, out, err = promote(w, "v1")
    check(code == 0, f"passes again once the alarm is OK: exit {code}\n{out}{err}")


def test_other_tag(w):
    record(w, "v3", "passed")
    code, gates, out = promote_json(w, "v3")
    check(code == 1 and "deployed" in unmet(gates), f"not deployed: {out}")
    check("v3 was never deployed to canary; the last deploy there is a deploy of v1 (succeeded" in gates["deployed"]["found"],
          f"found: {gates['deployed']}")


def test_deployed_another_since(w):
    code, out, err = w.apply("canary", "v2")
    check(code == 0, f"apply v2: exit {code}\n{out}{err}")
    code, gates, out = promote_json(w, "v1")
    check(code == 1 and unmet(gates) == ["deployed"], f"v1 no longer deployed: {out}")
    found = gates["deployed"]["found"]
    check("v2 was deployed to canary after it" in found, f"found: {found}")
    check("service web: its last deploy is v2 (succeeded)" in found, f"names the service: {found}")


def test_rollback_since(w):
    record(w, "v2", "passed")
    time.sleep(SOAK + 1)
    code, out, err = promote(w, "v2")
    check(code == 0, f"v2 passes before the rollback: exit {code}\n{out}{err}")
    code, out, err = w.rollback("canary")
    check(code == 0, f"rollback: exit {code}\n{out}{err}")
    code, out, err = promote(w, "v2")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check("FAIL no_rollback" in out and "gops rollback at" in out, "says it was rolled back:\n" + out)
    check("FAIL soak" in out and "rolled back since" in out, "the soak does not count:\n" + out)
    check("service web: its last deploy is v1 (restored)" in out or "service web runs" in out, "names what runs:\n" + out)


def test_scoped_promotion(w):
    # One service deployed with a tag of its own (what a repository that builds its
    # services separately does), then promoted alone.
    record(w, "v3", "passed")
    code, out, err = w.apply("canary", "web=v3")
    check(code == 0, f"apply web=v3: exit {code}\n{out}{err}")
    code, gates, out = promote_json(w, "web=v3")
    check(code == 1 and unmet(gates) == ["soak"], f"only the soak is unmet: {out}")
    found = gates["deployed"]["found"]
    check(found.startswith("deploy ") and found.endswith("; web runs its revision"), f"deployed: {gates['deployed']}")
    check(gates["deployed"]["expected"] == "web=v3 deployed successfully to canary, on web", f"expected: {gates['deployed']}")
    time.sleep(SOAK + 1)
    code, out, err = promote(w, "web=v3")
    check(code == 0 and "gops promote: web=v3 may be promoted from canary to promoted" in out, f"exit {code}\n{out}{err}")
    # The whole release at v3 is not in canary: worker never ran it.
    code, gates, out = promote_json(w, "v3")
    check(code == 1 and unmet(gates) == ["deployed", "soak"], f"v3 for every service: {out}")
    check(gates["deployed"]["found"].startswith("service worker: v3 was never deployed to canary; the last deploy there is a rollback"),
          f"names the service: {gates['deployed']}")
    code, out, err = promote(w, "wbe=v3")
    check(code == 2 and "environment canary has no service `wbe`; did you mean `web`?" in err, f"exit {code}\n{err}")


# --- drift ----------------------------------------------------------------------------

def test_drift_none_after_apply(w):
    code, out, err = w.apply("rolling", "v1")
    check(code == 0, f"apply rolling: exit {code}\n{out}{err}")
    code, items, d = drift_items(w, "rolling")
    check(code == 0 and items == [], f"no drift right after an apply: {json.dumps(d, indent=1)}")
    code, out = drift(w, "rolling", "text")
    check(code == 0 and "gops drift: no drift in testapp rolling" in out, out)
    code, items, d = drift_items(w, "canary")
    check(code == 0 and items == [], f"no drift in canary after its rollback: {json.dumps(d, indent=1)}")


def test_drift_desired_count(w):
    svc = w.service("rolling", "worker")
    w.ecs.update_service(cluster=svc["clusterArn"], service=svc["serviceName"], desiredCount=5)
    try:
        code, items, d = drift_items(w, "rolling")
        check(code == 2, f"exit {code}, expected 2")
        check(items == [{"service": "worker", "field": "desired count", "desired": "2", "live": "5"}], f"items: {items}")
        code, out = drift(w, "rolling", "text")
        check(code == 2 and "desired count" in out and "desired: 2" in out and "live:    5" in out, out)
    finally:
        w.ecs.update_service(cluster=svc["clusterArn"], service=svc["serviceName"], desiredCount=2)
    code, items, _ = drift_items(w, "rolling")
    check(code == 0, f"no drift once it is put back: {items}")


def test_drift_task_definition(w):
    svc = w.service("rolling", "web")
    td = w.ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    new = {k: td[k] for k in ("family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
                              "executionRoleArn", "taskRoleArn") if k in td}
    new["memory"] = "1024"
    new["containerDefinitions"][0]["environment"] = [{"name": "DEBUG", "value": "1"}]
    arn = w.ecs.register_task_definition(**new)["taskDefinition"]["taskDefinitionArn"]
    w.ecs.update_service(cluster=svc["clusterArn"], service=svc["serviceName"], taskDefinition=arn)
    code, items, _ = drift_items(w, "rolling")
    check(code == 2, f"exit {code}, expected 2: {items}")
    fields = {i["field"]: i for i in items}
    rev = arn.rsplit("/", 1)[1]
    mem = fields.get(f"task definition {rev} memory")
    check(mem and mem["desired"] == "512" and mem["live"] == "1024", f"memory: {items}")
    env = fields.get(f"task definition {rev} container web environment DEBUG")
    check(env and env["desired"] == "(not set)" and env["live"] == "1", f"environment: {items}")
    check(all(i["service"] == "web" for i in items) and len(items) == 2, f"nothing else: {items}")
    code, out = drift(w, "rolling", "markdown")
    check(code == 2, f"markdown: exit {code}")
    check(out.startswith("## gops drift: testapp rolling") and "| service | field | desired | live |" in out, out)
    check(f"| web | task definition {rev} memory | `512` | `1024` |" in out, out)
    w.ecs.update_service(cluster=svc["clusterArn"], service=svc["serviceName"], taskDefinition=svc["taskDefinition"])
    check(drift_items(w, "rolling")[0] == 0, "no drift once it is put back")


def test_drift_listener_weights(w):
    svc = w.service("canary", "web")
    primary = next(t for t in svc["taskSets"] if t["status"] == "PRIMARY")["loadBalancers"][0]["targetGroupArn"]
    rule = w.tf["canary"]["web_listener_rule_arn"]["value"]
    blue = w.tf["canary"]["web_target_group_blue_arn"]["value"]
    green = w.tf["canary"]["web_target_group_green_arn"]["value"]
    other = green if primary == blue else blue
    w.elb.modify_rule(RuleArn=rule, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": primary, "Weight": 90}, {"TargetGroupArn": other, "Weight": 10}]}}])
    try:
        code, items, _ = drift_items(w, "canary")
        check(code == 2 and len(items) == 1 and items[0]["field"] == "listener weights", f"items: {items}")
        pc, oc = ("blue", "green") if primary == blue else ("green", "blue")
        check(items[0]["desired"] == f"{pc} 100% (the primary task set's group), {oc} 0%", f"desired: {items[0]}")
        check(f"{pc} 90%" in items[0]["live"] and f"{oc} 10%" in items[0]["live"], f"live: {items[0]}")
        code, out = drift(w, "canary", "markdown")
        check(code == 2 and "listener weights" in out and "1 field(s) differ" in out, out)
    finally:
        w.elb.modify_rule(RuleArn=rule, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": primary, "Weight": 100}, {"TargetGroupArn": other, "Weight": 0}]}}])
    check(drift_items(w, "canary")[0] == 0, "no drift once the weights are put back")


def test_drift_alarms(w):
    """`promoted` has a Terraform-defined alarm (rollback when cpu > 80% for 1m); the harness
    created it with other settings, and never deployed the environment."""
    web = next(s for s in w.plan("promoted")["services"] if s["name"] == "web")
    alarm = web["watch"]["alarms"][0]
    code, items, d = drift_items(w, "promoted")
    check(code == 2, f"exit {code}: {items}")
    fields = {i["field"]: i for i in items}
    th = fields.get(f"alarm {alarm} Threshold")
    check(th and th["desired"] == "80" and th["live"] in ("1", "1.0"), f"threshold: {items}")
    check(any("only the images' repositories are compared" in n["note"] for n in d["notes"]), f"notes: {d['notes']}")
    w.cw.delete_alarms(AlarmNames=[alarm])
    code, items, _ = drift_items(w, "promoted")
    check(code == 2 and {"service": "web", "field": f"alarm {alarm}", "desired": "exists", "live": "does not exist"} in items,
          f"missing alarm: {items}")


TESTS = [test_not_deployed, test_record_tests, test_soak_not_elapsed, test_all_gates_met, test_tests_failed,
         test_tests_not_recorded, test_alarm, test_other_tag, test_deployed_another_since, test_rollback_since,
         test_scoped_promotion,
         test_drift_none_after_apply, test_drift_desired_count, test_drift_task_definition, test_drift_listener_weights,
         test_drift_alarms]


def main():
    return run_suite("gates", __doc__, TESTS, ("canary", "rolling", "promoted"),
                     prepare=lambda w: w.env.update(GITHUB_ACTOR="gates-test", GITHUB_SHA="0123abcd"))


if __name__ == "__main__":
    sys.exit(main())
