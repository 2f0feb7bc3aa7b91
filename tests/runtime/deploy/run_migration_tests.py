#!/usr/bin/env python3
"""End-to-end tests of `before_deploy` (a one-off ECS task of the new revision before any
traffic moves) and of per-service image tags, against a private moto_server.

    run_migration_tests.py <path to gops> [test name ...]

Builds tests/runtime/deploy/migrations.gops on the harness of run_deploy_tests.py and
checks, through the AWS APIs: the migration task runs with the new revision, its command,
size override and the service's network before the rolling update and before the canary's
task set; a task that exits 3 stops the deploy with exit 1 and nothing changed, naming the
exit code and the log stream; a task that runs out of time is stopped; an apply killed
while its task runs is resumed without starting it again; `--image-tag NAME=TAG` deploys
one service with its own tag.

What moto cannot do and how the tests make up for it: moto never runs a container. A
task it starts stops by itself after a few DescribeTasks, always with exit code 0; moto's
own state manager (/moto-api/state-manager) keeps it RUNNING for the timeout and resume
tests. For a non-zero exit code, and only there, gops talks to moto through the harness's
ContainerProxy, which plays the container's process: a stopped task whose override runs
`sh -c 'exit N'` gets exit code N in DescribeTasks' answer (docs/runtime.md, Tests).
Exit 77 (CTest: skipped) when moto_server or boto3 is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FAST, ContainerProxy, Failure, check, moto_task_transition, run_suite,  # noqa: E402
                     run_until_event)

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations.gops")
NEVER_STOP = {"progression": "manual", "times": 10 ** 6}


def events(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def index_of(evs, pred, what):
    for i, e in enumerate(evs):
        if pred(e):
            return i
    raise Failure(f"no event {what} in:\n" + "\n".join(json.dumps(e) for e in evs))


def tasks_of(w, env, family):
    """The tasks of the cluster whose revision is of `family`, described."""
    cluster = w.plan(env)["cluster"]
    arns = []
    for status in ("RUNNING", "STOPPED"):
        arns += w.ecs.list_tasks(cluster=cluster, desiredStatus=status)["taskArns"]
    if not arns:
        return []
    tasks = w.ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    return [t for t in tasks if f":task-definition/{family}:" in t["taskDefinitionArn"]]


def snapshot(w, env):
    """What a deploy that changes nothing must leave as it was."""
    return {"api": w.service(env, "api")["taskDefinition"], "worker": w.service(env, "worker")["taskDefinition"],
            "api_revisions": w.task_def_count(f"migrations-{env}-api"),
            "worker_revisions": w.task_def_count(f"migrations-{env}-worker"),
            "last_good": w.ledger(env, "last-good/api")}


def test_rolling_migration(w):
    code, out, err = w.apply("rolling", "v1", "--format", "json")
    check(code == 0, f"exit {code}\n{out}{err}")
    evs = events(out)
    step = index_of(evs, lambda e: e.get("event") == "step" and e.get("service") == "api" and e.get("action") == "run_task", "api run_task")
    started = index_of(evs, lambda e: e.get("event") == "task_started" and e.get("service") == "api", "task_started")
    stopped = index_of(evs, lambda e: e.get("event") == "task_stopped" and e.get("service") == "api", "task_stopped")
    update = index_of(evs, lambda e: e.get("event") == "step" and e.get("service") == "api" and e.get("action") == "update_service", "api update")
    worker = index_of(evs, lambda e: e.get("event") == "step" and e.get("service") == "worker" and e.get("action") == "update_service",
                      "worker update")
    check(step < started < stopped < update, "the task runs and stops before api's update")
    check(stopped < worker, "worker, of the same wave, moves no traffic before api's migration succeeded")
    check(evs[step]["command"] == ["bin/migrate", "--all"] and evs[step]["timeout_seconds"] == 300, f"step event: {evs[step]}")
    check(evs[stopped]["exit_code"] == 0, f"exit code 0: {evs[stopped]}")
    svc = w.service("rolling", "api")
    task_arn = evs[started]["task"]
    t = w.ecs.describe_tasks(cluster=w.plan("rolling")["cluster"], tasks=[task_arn])["tasks"][0]
    check(t["taskDefinitionArn"] == svc["taskDefinition"], f"the task ran the new revision: {t['taskDefinitionArn']} vs {svc['taskDefinition']}")
    check(w.image_of(t["taskDefinitionArn"]).endswith("migrations/api:v1"), "of the new image")
    override = t["overrides"]["containerOverrides"][0]
    check(override["name"] == "api" and override["command"] == ["bin/migrate", "--all"], f"command override: {override}")
    check(override.get("memory") == 1024 and t["overrides"].get("memory") == "1024", f"memory override (1 GiB): {t['overrides']}")
    check(t["launchType"] == "FARGATE" and t["platformVersion"] == "LATEST", f"placed as the service: {t['launchType']}")
    net = t["attachments"][0]["details"]
    subnet = next(d["value"] for d in net if d["name"] == "subnetId")
    check(subnet == w.tf["rolling"]["private_subnet_ids"]["value"][0], f"in the service's private subnet: {subnet}")
    check(t["startedBy"].startswith("gops-"), f"startedBy: {t['startedBy']}")
    task_id = task_arn.rsplit("/", 1)[1]
    check(evs[started]["log_group"] == "/gops/migrations/rolling/api" and evs[started]["log_stream"] == f"api/api/{task_id}",
          f"names the log stream: {evs[started]}")
    rec = w.ledger("rolling", "services/api")
    check(rec["status"] == "succeeded" and rec["before_deploy"]["exit_code"] == 0 and rec["before_deploy"]["task"] == task_arn,
          f"ledger: {rec}")
    check("before_deploy" not in w.ledger("rolling", "services/worker"), "worker ran no task")
    check(len(tasks_of(w, "rolling", "migrations-rolling-worker")) == 0, "no task of worker's revision")
    # Text progress: the step says what it runs.
    code, out, err = w.apply("rolling", "v2")
    check(code == 0, f"exit {code}\n{out}{err}")
    check("run_task before_deploy `bin/migrate --all` (at most 300 s)" in out, "the step line:\n" + out)
    check("before_deploy task started:" in out and "(logs: /gops/migrations/rolling/api api/api/" in out, out)
    check("before_deploy task exited with code 0 after" in out, out)


def test_canary_migration(w):
    weights = w.weights("canary", "api")
    code, out, err = w.apply("canary", "v1", "--format", "json")
    check(code == 0, f"exit {code}\n{out}{err}")
    evs = events(out)
    stopped = index_of(evs, lambda e: e.get("event") == "task_stopped" and e.get("service") == "api", "task_stopped")
    create = index_of(evs, lambda e: e.get("event") == "step" and e.get("action") == "create_task_set", "create_task_set")
    shift = index_of(evs, lambda e: e.get("event") == "weights", "weights")
    check(stopped < create < shift, "the task runs before the new task set and any weight")
    check(evs[stopped]["exit_code"] == 0, f"{evs[stopped]}")
    check(weights != w.weights("canary", "api"), "then the traffic moved")
    t = w.ecs.describe_tasks(cluster=w.plan("canary")["cluster"], tasks=[evs[index_of(evs, lambda e: e.get("event") == "task_started",
                                                                                           "task_started")]["task"]])["tasks"][0]
    subnet = next(d["value"] for d in t["attachments"][0]["details"] if d["name"] == "subnetId")
    check(subnet in w.tf["canary"]["private_subnet_ids"]["value"], f"the task set's network: {subnet}")


def test_failing_migration(w):
    before = snapshot(w, "failing")
    proxy = ContainerProxy(w.moto.port)
    try:
        env = dict(w.env, AWS_ENDPOINT_URL=proxy.endpoint)
        p = subprocess.run(w.apply_cmd("failing", "v1"), env=env, capture_output=True, text=True, timeout=300)
        code, out = p.returncode, p.stdout
        check(code == 1, f"exit {code}, expected 1\n{out}{p.stderr}")
        check(proxy.rewritten > 0, "the proxy gave the container its exit code")
        check("before_deploy task exited with code 3 (Essential container in task exited)" in out, "names the exit code:\n" + out)
        tasks = tasks_of(w, "failing", "migrations-failing-api")
        check(len(tasks) == 1, f"one task: {len(tasks)}")
        task_id = tasks[0]["taskArn"].rsplit("/", 1)[1]
        check(f"logs: CloudWatch Logs group /gops/migrations/failing/api, stream api/api/{task_id}" in out, "names the log stream:\n" + out)
        check("STOPPED before any traffic moved" in out and "gops apply: stopped before any traffic moved" in out, out)
        check("nothing was changed" in out, out)
        check("ROLLING BACK" not in out, "nothing to roll back:\n" + out)
        after = snapshot(w, "failing")
        check(after == before, f"nothing changed:\nbefore {before}\nafter  {after}")
        dep = w.ledger("failing", "deploy")
        check(dep["status"] == "aborted" and dep["services"] == {"api": "aborted", "worker": "aborted"}, f"deploy record: {dep}")
        check("exited with code 3" in dep["reason"], f"reason: {dep['reason']}")
        rec = w.ledger("failing", "services/api")
        check(rec["status"] == "aborted" and rec["before_deploy"]["exit_code"] == 3 and rec["before_deploy"]["status"] == "failed",
              f"api's record: {rec}")
        check(rec["before_deploy"]["log_stream"] == f"api/api/{task_id}", f"log stream recorded: {rec}")
        check(w.ledger("failing", "services/worker")["status"] == "aborted", "worker stopped too")
        # The JSON events say the same.
        p = subprocess.run(w.apply_cmd("failing", "v1", "--format", "json"), env=env, capture_output=True, text=True, timeout=300)
        evs = events(p.stdout)
        check(p.returncode == 1, f"exit {p.returncode}")
        ended = next(e for e in evs if e.get("event") == "task_stopped")
        check(ended["exit_code"] == 3 and ended["stop_code"] == "EssentialContainerExited" and ended["log_stream"].startswith("api/api/"),
              f"task_stopped: {ended}")
        check(sum(1 for e in evs if e.get("event") == "aborted") == 2, "both services stopped")
        result = evs[-1]
        check(result["event"] == "result" and result["status"] == "aborted" and result["exit"] == 1, f"result: {result}")
        check(snapshot(w, "failing") == before, "still nothing changed")
    finally:
        proxy.stop()


def test_failing_migration_later_wave(w):
    # worker deploys in the first wave; api, after it, fails its migration: worker stays
    # deployed (as after any failure of a later wave), api is unchanged.
    before = snapshot(w, "ordered")
    proxy = ContainerProxy(w.moto.port)
    try:
        p = subprocess.run(w.apply_cmd("ordered", "v1"), env=dict(w.env, AWS_ENDPOINT_URL=proxy.endpoint), capture_output=True,
                           text=True, timeout=300)
    finally:
        proxy.stop()
    check(p.returncode == 1, f"exit {p.returncode}, expected 1\n{p.stdout}{p.stderr}")
    check("exited with code 4" in p.stdout and "nothing of its wave was changed; worker stay deployed" in p.stdout, p.stdout)
    after = snapshot(w, "ordered")
    check(after["api"] == before["api"] and after["api_revisions"] == before["api_revisions"], f"api unchanged: {before} {after}")
    check(after["worker"] != before["worker"] and w.image_of(after["worker"]).endswith("migrations/worker:v1"), "worker deployed")
    dep = w.ledger("ordered", "deploy")
    check(dep["status"] == "aborted" and dep["services"] == {"worker": "succeeded", "api": "aborted"}, f"deploy record: {dep}")
    check(w.ledger("ordered", "last-good/worker")["image_tag"] == "v1", "worker's last good revision")


def test_migration_timeout(w):
    # The spec's shortest timeout is 1m: the plan, as data, says 2 s here (--plan-dir).
    plan_dir = os.path.join(w.work, "timeout-plan")
    shutil.rmtree(plan_dir, ignore_errors=True)
    shutil.copytree(os.path.join(w.out, "failing"), plan_dir)
    with open(os.path.join(plan_dir, "plan.json")) as f:
        plan = json.load(f)
    api = next(s for s in plan["services"] if s["name"] == "api")
    api["steps"][1]["command"] = ["bin/migrate", "--slowly"]
    api["steps"][1]["timeout_seconds"] = 2
    with open(os.path.join(plan_dir, "plan.json"), "w") as f:
        json.dump(plan, f, indent=2)
    before = snapshot(w, "failing")
    moto_task_transition(w.moto, NEVER_STOP)
    try:
        code, out, err = w.apply("failing", "v2", "--plan-dir", plan_dir)
    finally:
        moto_task_transition(w.moto, None)
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check("did not finish within 2 s; it was stopped" in out, "says it ran out of time:\n" + out)
    check("before_deploy task ran out of its 2 s: stopped" in out, out)
    slow = [t for t in tasks_of(w, "failing", "migrations-failing-api") if t["overrides"]["containerOverrides"][0]["command"][-1] == "--slowly"]
    check(len(slow) == 1 and slow[0]["lastStatus"] == "STOPPED" and "ran out of its 2 s" in slow[0]["stoppedReason"],
          f"the task was stopped: {[(t['lastStatus'], t['stoppedReason']) for t in slow]}")
    check(f"stream api/api/{slow[0]['taskArn'].rsplit('/', 1)[1]}" in out, "names the log stream:\n" + out)
    check(snapshot(w, "failing") == before, "nothing changed")
    check(w.ledger("failing", "services/api")["before_deploy"]["status"] == "timed_out", "ledger says timed out")


def test_resume_during_migration(w):
    moto_task_transition(w.moto, NEVER_STOP)
    try:
        proc, lines = run_until_event(w, w.apply_cmd("rolling", "api=v3", "--format", "json"),
                                      lambda e: e.get("event") == "task_started")
        time.sleep(0.5)
        proc.kill()
        proc.wait()
        first = json.loads(lines[-1])["task"]
        check(w.ledger("rolling", "deploy")["status"] == "in_progress", "died in progress")
        p = subprocess.run([w.gops, "status", SPEC, "--env", "rolling", "--tf-outputs", w.tf_file("rolling")], env=w.env,
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and "step run_task" in p.stdout and f"before_deploy task {first} running (logs: /gops/migrations/rolling/api"
              in p.stdout, f"status shows the task:\n{p.stdout}{p.stderr}")
        # Another tag is refused, as for any resume.
        code, out, err = w.apply("rolling", "v3", "--resume")
        check(code == 1 and "was deploying image tag api=v3, not v3" in out, f"other tag refused: exit {code}\n{out}{err}")
    finally:
        moto_task_transition(w.moto, None)
    code, out, err = w.apply("rolling", "api=v3", "--resume", "--format", "json")
    check(code == 0, f"resume: exit {code}\n{out}{err}")
    evs = events(out)
    started = next(e for e in evs if e.get("event") == "task_started")
    check(started["resumed"] is True and started["task"] == first, f"waits on the dead apply's task: {started}")
    check(not any(e.get("service") == "worker" for e in evs if e.get("event") == "step"), "worker is not deployed (api=v3 only)")
    runs = [t for t in tasks_of(w, "rolling", "migrations-rolling-api") if t["overrides"]["containerOverrides"][0]["command"] == ["bin/migrate", "--all"]]
    check(sum(1 for t in runs if t["taskArn"] == first) == 1, "the task was not started again")
    check(w.image_of(w.service("rolling", "api")["taskDefinition"]).endswith("migrations/api:v3"), "api runs v3")


def test_waits_for_another_task(w):
    # A task another deploy started (one stopped at once while its task ran) still runs:
    # the next deploy waits for it to stop before it starts its own, never two at once.
    svc = w.service("rolling", "api")
    moto_task_transition(w.moto, NEVER_STOP)
    try:
        other = w.ecs.run_task(cluster=w.plan("rolling")["cluster"], taskDefinition=svc["taskDefinition"], launchType="FARGATE",
                               startedBy="gops-1700000000-1", networkConfiguration=svc["networkConfiguration"],
                               overrides={"containerOverrides": [{"name": "api", "command": ["bin/migrate", "--all"]}]})["tasks"][0]["taskArn"]
        proc, lines = run_until_event(w, w.apply_cmd("rolling", "api=v2", "--format", "json"), lambda e: e.get("event") == "task_waiting")
    finally:
        moto_task_transition(w.moto, None)  # the other task stops now, after a few looks
    out, err = proc.communicate(timeout=120)
    check(proc.returncode == 0, f"exit {proc.returncode}\n{''.join(lines)}{out}{err}")
    evs = events("".join(lines) + out)
    waiting = index_of(evs, lambda e: e.get("event") == "task_waiting", "task_waiting")
    started = index_of(evs, lambda e: e.get("event") == "task_started", "task_started")
    check(waiting < started and other in evs[waiting]["tasks"][0], f"waited for {other} first: {evs[waiting]}")
    check(evs[started]["task"] != other and not evs[started]["resumed"], "then started its own")
    t = w.ecs.describe_tasks(cluster=w.plan("rolling")["cluster"], tasks=[other])["tasks"][0]
    check(t["lastStatus"] == "STOPPED" and not t.get("stoppedReason"), f"the other task was not stopped by gops: {t.get('stoppedReason')}")


def test_image_tag_per_service(w):
    worker_before = w.service("rolling", "worker")["taskDefinition"]
    api_before = w.service("rolling", "api")["taskDefinition"]
    # Only worker: api keeps what runs, and runs no migration.
    tasks_before = len(tasks_of(w, "rolling", "migrations-rolling-api"))
    code, out, err = w.apply("rolling", "worker=v3")
    check(code == 0, f"exit {code}\n{out}{err}")
    check(w.service("rolling", "api")["taskDefinition"] == api_before, "api untouched")
    check(len(tasks_of(w, "rolling", "migrations-rolling-api")) == tasks_before, "no migration of api")
    worker = w.service("rolling", "worker")["taskDefinition"]
    check(worker != worker_before and w.image_of(worker).endswith("migrations/worker:v3"), "worker runs v3")
    dep = w.ledger("rolling", "deploy")
    check(dep["image_tag"] == "worker=v3" and dep["image_tags"] == {"worker": "v3"} and dep["services"] == {"worker": "succeeded"},
          f"deploy record: {dep}")
    check(w.ledger("rolling", "services/worker")["image_tag"] == "v3", "worker's record")
    check("gops apply: migrations rolling deployed worker=v3" in out, out)
    # A tag for all and one of api's own, in one value or two.
    code, out, err = w.apply("rolling", "v1,api=v2")
    check(code == 0, f"exit {code}\n{out}{err}")
    check(w.image_of(w.service("rolling", "api")["taskDefinition"]).endswith("migrations/api:v2"), "api runs its own tag")
    check(w.image_of(w.service("rolling", "worker")["taskDefinition"]).endswith("migrations/worker:v1"), "worker runs v1")
    dep = w.ledger("rolling", "deploy")
    check(dep["image_tag"] == "v1,api=v2" and dep["image_tags"] == {"api": "v2", "worker": "v1"}, f"deploy record: {dep}")
    check(w.ledger("rolling", "last-good/api")["image_tag"] == "v2", "last-good of api")
    # status shows each service's tag.
    p = subprocess.run([w.gops, "status", SPEC, "--env", "rolling", "--tf-outputs", w.tf_file("rolling")], env=w.env,
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and "deployed  v2" in p.stdout and "deployed  v1" in p.stdout, f"status:\n{p.stdout}{p.stderr}")
    # Usage errors: a name the environment does not have, two tags for all, a bad tag.
    cmd = [w.gops, "apply", SPEC, "--env", "rolling", "--tf-outputs", w.tf_file("rolling")]
    p = subprocess.run(cmd + ["--image-tag", "apy=v2"], env=w.env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "environment rolling has no service or job `apy`; did you mean `api`?" in p.stderr, p.stderr)
    p = subprocess.run(cmd + ["--image-tag", "v1", "--image-tag", "v2"], env=w.env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "two image tags for every service: `v1` and `v2`" in p.stderr, p.stderr)
    p = subprocess.run(cmd + ["--image-tag", "api=no/slash"], env=w.env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "`no/slash` is not an image tag" in p.stderr, p.stderr)


TESTS = [test_rolling_migration, test_canary_migration, test_failing_migration, test_failing_migration_later_wave, test_migration_timeout,
         test_resume_during_migration, test_waits_for_another_task, test_image_tag_per_service]


def main():
    return run_suite("migration", __doc__, TESTS, ("rolling", "canary", "failing", "ordered"), spec=SPEC)


if __name__ == "__main__":
    sys.exit(main())
