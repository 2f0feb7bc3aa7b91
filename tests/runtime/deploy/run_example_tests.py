#!/usr/bin/env python3
"""examples/payments deployed end to end against a private moto_server.

    run_example_tests.py <path to gops> [test name ...]

The second example uses every construct of a real team's services at once: an existing
VPC, load balancer and cluster (prod), DNS, `notify`, path routing, a migration before
any traffic moves (`before_deploy`), Fargate Spot, ECS's own blue/green (`engine = ecs`),
rollback rules judged against the stable version, sidecars, EFS, ARM64. These tests
build it, create what its Terraform would (harness.py's World; the platform team's
cluster of prod with its capacity providers), and deploy staging and prod twice,
checking through the AWS APIs that each service ended on the new revision in the way
its rollout says, after api's migration task of that revision had succeeded.

Two things are adapted for moto, in a copy of the spec, and nothing else: every AWS
account becomes moto's one account (moto answers each request in 123456789012 unless
told otherwise, and gops' preflight refuses an environment's plan in another account),
and the canary's holds and the blue/green bake become seconds (holds are real time;
native bakes stay minutes: ECS, not gops, waits them). moto's services report as many
running tasks as the largest desired count of the example (6), so that every
deployment completes. What moto itself cannot show is
in docs/runtime.md, Tests: it runs no container (the migration task stops with exit
code 0 after a few DescribeTasks) and neither enacts nor echoes ECS's own strategies.
Exit 77 (CTest: skipped) when moto_server or boto3 is missing.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (exits 77 without moto/boto3)
from harness import ACCOUNT, Failure, check, run_suite  # noqa: E402

# moto reports this many running tasks for every service (MOTO_ECS_SERVICE_RUNNING), and
# a deployment COMPLETED once they are at least its desired count: the example's largest.
harness.RUNNING = 6

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLE = os.path.join(ROOT, "examples", "payments", "payments.gops")


def adapted_spec():
    """The example, in moto's account and with holds of seconds (the module docstring)."""
    with open(EXAMPLE) as f:
        text = f.read()
    text = re.sub(r'"(111111111111|222222222222|333333333333)"', f'"{ACCOUNT}"', text)
    text = re.sub(r"(arn:aws:[a-z0-9-]+:[a-z0-9-]*:)(111111111111|222222222222|333333333333)", rf"\g<1>{ACCOUNT}", text)
    text = re.sub(r"(step \d+% for )\d+[smh]", r"\g<1>2s", text)
    text = re.sub(r"(blue_green \{ test_traffic = \d+%\s+bake = )\d+[smh]", r"\g<1>2s", text)
    path = os.path.join(tempfile.mkdtemp(prefix="gops-example-spec-"), "payments.gops")
    with open(path, "w") as f:
        f.write(text)
    return path


SPEC = adapted_spec()


def prepare(w):
    # prod runs on the platform team's cluster (`cluster = existing("platform-prod")`),
    # which has the capacity providers its Spot services need.
    w.ecs.create_cluster(clusterName="platform-prod", capacityProviders=["FARGATE", "FARGATE_SPOT"])


def events(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def first(evs, pred, what):
    for i, e in enumerate(evs):
        if pred(e):
            return i
    raise Failure(f"no event {what} in:\n" + "\n".join(json.dumps(e) for e in evs))


def step_index(evs, service, action):
    return first(evs, lambda e: e.get("event") == "step" and e.get("service") == service and e.get("action") == action,
                 f"{service} {action}")


def live_revision(w, env, name):
    """The revision a service runs: its primary task set's on task sets, else the service's."""
    svc = w.service(env, name)
    primary = [t for t in svc.get("taskSets", []) if t["status"] == "PRIMARY"]
    return primary[0]["taskDefinition"] if primary else svc["taskDefinition"]


def check_deployed(w, env, tag, evs):
    plan = w.plan(env)
    # api: its migration task ran the new revision with the spec's command, and ended
    # before api's traffic moved (before the new task set).
    started = first(evs, lambda e: e.get("event") == "task_started" and e.get("service") == "api", "api task_started")
    stopped = first(evs, lambda e: e.get("event") == "task_stopped" and e.get("service") == "api", "api task_stopped")
    check(evs[stopped]["exit_code"] == 0, f"the migration exited 0: {evs[stopped]}")
    check(stopped < step_index(evs, "api", "create_task_set"), "the migration ended before api's task set was created")
    task = w.ecs.describe_tasks(cluster=plan["cluster"], tasks=[evs[started]["task"]])["tasks"][0]
    api_revision = live_revision(w, env, "api")
    check(task["taskDefinitionArn"] == api_revision, f"the task ran the revision now live: {task['taskDefinitionArn']} vs {api_revision}")
    override = task["overrides"]["containerOverrides"][0]
    check(override["command"] == ["bin/migrate", "--to", "latest"], f"the migration's command: {override}")
    # Every service on the new image.
    for name in ("api", "settlement", "web"):
        image = w.image_of(live_revision(w, env, name))
        check(image.endswith(f"payments/{name}:{tag}"), f"{name} runs {image}")
    # api on task sets, its traffic all on the new one; web by ECS's own blue/green;
    # settlement rolled by ECS on Fargate Spot.
    weights = w.weights(env, "api")
    check(sorted(weights.values()) == [0, 100], f"api's traffic on one colour: {weights}")
    check(len([t for t in w.service(env, "api")["taskSets"] if t["status"] != "DRAINING"]) == 1, "one task set left")
    web = next(s for s in plan["services"] if s["name"] == "web")
    check(web.get("engine") == "ecs" and [s["action"] for s in web["steps"]] ==
          ["register_task_definition", "start_deployment", "follow_deployment"], f"web's plan: {web['steps']}")
    settlement = w.service(env, "settlement")
    providers = sorted(s["capacityProvider"] for s in settlement.get("capacityProviderStrategy", []))
    check(providers in ([], ["FARGATE", "FARGATE_SPOT"]), f"settlement's strategy: {providers}")
    result = evs[-1]
    check(result.get("event") == "result" and result.get("exit") == 0 and result.get("status") == "succeeded", f"result: {result}")


def deploy_twice(w, env):
    for tag in ("v1", "v2"):
        code, out, err = w.apply(env, tag, "--format", "json")
        check(code == 0, f"{env} {tag}: exit {code}\n{out}{err}")
        check_deployed(w, env, tag, events(out))


def test_staging(w):
    """Its own network, load balancer and cluster; blue/green with test traffic."""
    deploy_twice(w, "staging")


def test_prod(w):
    """The platform team's VPC, load balancer and cluster; a three-step canary judged
    against the stable version (the alarms of the new version's colour watched)."""
    deploy_twice(w, "prod")
    api = next(s for s in w.plan("prod")["services"] if s["name"] == "api")
    by_color = api["watch"]["alarms_by_new_color"]
    check(len(by_color["blue"]) == 2 and len(by_color["green"]) == 2, f"two comparisons with the stable version: {by_color}")
    code, out, err = w.apply("prod", "v3")
    check(code == 0, f"exit {code}\n{out}{err}")
    for weight in ("5%", "25%", "50%", "100%"):
        check(f"shift {weight} to " in out, f"the canary's {weight} step:\n{out}")


def test_status_and_drift(w):
    """After the deploys, status shows each service and drift finds none (with the
    alarms as the environments' Terraform defines them)."""
    for env in ("staging", "prod"):
        w.put_alarms(env)
        for command, codes in (("status", (0,)), ("drift", (0,))):
            cmd = [w.gops, command, SPEC, "--env", env, "--tf-outputs", w.tf_file(env), "--format", "json"]
            p = subprocess.run(cmd, env=w.env, capture_output=True, text=True, timeout=120)
            check(p.returncode in codes, f"{command} {env}: exit {p.returncode}\n{p.stdout}{p.stderr}")
            if command == "status":
                names = {s["name"] for s in json.loads(p.stdout)["services"]}
                check(names == {"api", "settlement", "web"}, f"status {env}: {names}")


TESTS = [test_staging, test_prod, test_status_and_drift]


if __name__ == "__main__":
    sys.exit(run_suite("example", __doc__, TESTS, ("staging", "prod"), prepare=prepare, spec=SPEC))
