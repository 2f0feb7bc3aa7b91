#!/usr/bin/env python3
"""Holds the roles the generated workflows run the runtime with to what the runtime does.

1. The calls. Every AWS call in the runtime's sources (runtime/deploy, the driver's
   commands in compiler/driver, the credential providers of runtime/aws):
   `callJson("svc", "Op", ...)`, `callQuery("svc", "Op", ...)` and the paginated
   `collectJson/paginateJson/collectQuery/paginateQuery(client, "svc", "Op", ...)`. A
   call whose service or operation is not a string literal, or a raw `send(...)`, is a
   problem outside runtime/aws's own plumbing: the audit must see every call.
2. The actions. Each (service, operation) is the IAM action `<prefix>:<Op>` (ECS
   `ecs`, ELBv2 `elasticloadbalancing`, CloudWatch `cloudwatch`, ...). Each action is
   either modelled below (REQUESTS: the requests the runtime makes with it in an
   environment, each a resource ARN and the condition keys AWS evaluates, from the
   service authorization reference, with the actions a request implies: tagging on
   create, passing roles), or deliberately not granted (NOT_GRANTED, with the reason).
   An action that is neither fails the check: a call added to the runtime needs its
   permission in compiler/backends/terraform/env_deploy_role.cpp and its model here.
3. The policies. For each environment of each spec (built with `gops build` into a
   temporary directory), every request is evaluated against the deploy role's
   policy as IAM would (actions, resource ARNs with wildcards, conditions): it must be
   allowed. So are the requests the deploy workflows make with it (`terraform init`
   and `terraform output`: the environment's state object, read only). The calls of
   `gops promote --check FROM TO` (promote.cpp, live.h) go against FROM's gates role,
   whose trust must admit TO's GitHub environment, and which TO's deploy workflow
   must name.
4. Least privilege. Every action of every statement of a deploy role must be needed
   by some request of that environment (or be listed in KEPT with the reason), and
   requests no role may make are denied: another environment's state and ledger, the
   state's lock, writing the state, another app's task definitions, secret values.

Usage: deploy_role_check.py --gops GOPS [--root DIR] [--sources DIR] [--self-test] [SPEC...]
  SPEC       the specs to build and check (default: DEFAULT_SPECS, which between them
             make every call the runtime makes, as the check insists)
  --root     the repository (default: this file's parent's parent); SPECs relative to it
  --sources  where to read the runtime's sources (default: --root)
  --self-test  also shows that the check fails when the runtime calls an action no
             role grants, and when a statement the runtime needs is removed
Exit status: 0 clean, 1 problems, 2 usage errors.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iam_audit import allowed, as_list, scan_calls, statement_allows  # noqa: E402

DEFAULT_SPECS = [
    "examples/shop",
    "examples/payments/payments.gops",
    "tests/lit/build/Inputs/infra.gops",
    "tests/lit/build/Inputs/judged.gops",
    "tests/lit/native/Inputs/native.gops",
    "tests/lit/plan/before-deploy.gops",
    "tests/runtime/deploy/migrations.gops",
    "tests/runtime/deploy/testapp.gops",
]

# Where the runtime's calls are (relative to the sources root), and the files of the
# AWS client library whose plumbing passes service and operation through variables.
SCAN = ["runtime/deploy", "compiler/driver", "runtime/aws/src"]
PLUMBING = {"runtime/aws/src/client.cpp", "runtime/aws/src/paginate.cpp"}
# The files whose calls `gops promote --check` makes with FROM's gates role.
PROMOTE_FILES = {"runtime/deploy/src/promote.cpp", "runtime/deploy/src/live.h"}

# The client's service keys (runtime/aws/src/services.cpp) and their IAM prefixes.
IAM_PREFIX = {
    "ecs": "ecs",
    "elasticloadbalancing": "elasticloadbalancing",
    "monitoring": "cloudwatch",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "ecr": "ecr",
    "sts": "sts",
    "logs": "logs",
    "application-autoscaling": "application-autoscaling",
}

NOT_GRANTED = {
    "sts:GetCallerIdentity": "needs no permission: any principal may ask who it is",
    "sts:AssumeRoleWithWebIdentity": "the credentials' own exchange (runtime/aws): the role's trust policy "
    "decides it, not its permissions",
    "sts:AssumeRole": "a profile's role chain on a developer's machine (runtime/aws), never in the workflows",
    "ecs:CreateService": "made only when the service does not exist; Terraform creates every service "
    "(aws_ecs_service) and owns it, so a deploy before the environment's terraform apply stops there",
}

# Grants no request below exercises, kept on purpose: (statement Sid, action) -> why.
KEPT = {
    ("PassEcsInfrastructureRole", "iam:PassRole"): "ECS's own deployments use the infrastructure role the "
    "service's load balancer names; kept for UpdateService of such a service",
}

# Calls of promote.cpp and live.h that `gops promote --check` does not make with the gates role.
GATES_EXEMPT = {
    "ssm:PutParameter": "gops record-tests (promote.cpp) writes TO's own ledger, with TO's deploy role",
}


def action_of(service, operation):
    prefix = IAM_PREFIX.get(service)
    return f"{prefix}:{operation}" if prefix else None


# ---------------------------------------------------------------------------
# The environment as the runtime sees it: plan, ECS files with their placeholders
# filled from the Terraform module's outputs (made up as AWS would name them).

def stable_hex(text, n=16):
    return hashlib.sha256(text.encode()).hexdigest()[:n]


class Env:
    def __init__(self, spec_out, name):
        d = os.path.join(spec_out, name)
        self.spec_out, self.name, self.dir = spec_out, name, d
        with open(os.path.join(d, "plan.json")) as f:
            self.plan = json.load(f)
        with open(os.path.join(d, "terraform", "main.tf.json")) as f:
            self.module = json.load(f)
        self.app, self.account, self.region = self.plan["app"], self.plan["account"], self.plan["region"]
        self.partition = "aws"
        self.cluster = self.plan["cluster"]
        self.cluster_arn = self.arn("ecs", f"cluster/{self.cluster}")
        self.outputs = self.fake_outputs()
        self.files = {}
        for path in sorted(glob.glob(os.path.join(d, "ecs", "*.json"))):
            with open(path) as f:
                self.files["ecs/" + os.path.basename(path)] = json.loads(self.fill(f.read()))

    def arn(self, service, resource, region=None, account=None):
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:" \
               f"{self.account if account is None else account}:{resource}"

    def resource(self, kind, name):
        return self.module.get("resource", {}).get(kind, {}).get(name)

    def load_balancer(self):
        existing = self.module.get("data", {}).get("aws_lb", {}).get("main")
        if existing:
            return existing["arn"].split(":loadbalancer/", 1)[1]
        lb = self.resource("aws_lb", "main")
        return f"app/{lb['name']}/{stable_hex(lb['name'])}" if lb else None

    def fake_outputs(self):
        """Output name -> a value shaped like the one AWS would give (a list for lists)."""
        out = {}
        for name, body in (self.module.get("output") or {}).items():
            value = body.get("value", "")
            lst = re.fullmatch(r"\$\{\[(.*)\]\}", value, re.S)
            if lst:
                out[name] = [f"tf-{name}-{i}" for i, _ in enumerate(lst.group(1).split(","))]
                continue
            m = re.fullmatch(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)\.arn\}", value)
            kind, block = (m.group(1), m.group(2)) if m else (None, None)
            if kind == "aws_iam_role":
                r = self.resource(kind, block)
                out[name] = f"arn:{self.partition}:iam::{self.account}:role{r['path']}{r['name']}"
            elif kind == "aws_lb_target_group":
                r = self.resource(kind, block)
                out[name] = self.arn("elasticloadbalancing", f"targetgroup/{r['name']}/{stable_hex(r['name'])}")
            elif kind == "aws_lb_listener_rule":
                out[name] = self.arn("elasticloadbalancing",
                                     f"listener-rule/{self.load_balancer()}/{stable_hex('https')}/{stable_hex(block)}")
            else:
                out[name] = f"tf-{name}"
        return out

    def fill(self, text):
        def one(m):
            v = self.outputs[m.group(1)]
            return v[int(m.group(2))] if m.group(2) is not None else v
        return re.sub(r"\{\{tf:([A-Za-z0-9_]+)(?:\[(\d+)\])?\}\}", one, text).replace("{{image_tag}}", "v1")

    def fill_str(self, s):
        return self.fill(s)

    # Names the runtime uses.
    def service_arn(self, s):
        return self.arn("ecs", f"service/{self.cluster}/{s['ecs_service']}")

    def task_definition(self, family, revision):
        return self.arn("ecs", f"task-definition/{family}:{revision}")

    def task_set(self, s):
        return self.arn("ecs", f"task-set/{self.cluster}/{s['ecs_service']}/ecs-svc/{int(stable_hex(s['name']), 16) % 10**19}")

    def task(self, s):
        return self.arn("ecs", f"task/{self.cluster}/{stable_hex(s['name'], 32)}")

    def ledger(self, rel):
        return self.arn("ssm", f"parameter{self.plan['ledger']}/{rel}")

    def alarms(self, s):
        w = s.get("watch", {})
        names = list(w.get("alarms", []))
        for color in ("blue", "green"):
            names += (w.get("alarms_by_new_color") or {}).get(color, [])
        return names

    def workloads(self):
        """(name, family, task definition document) of every service and job."""
        for w in self.plan["services"] + self.plan.get("jobs", []):
            step = next(st for st in w["steps"] if st["action"] == "register_task_definition")
            yield w["name"], step["family"], self.files[step["file"]]


# ---------------------------------------------------------------------------
# 2. The requests: per action, what the runtime asks AWS in an environment. Each
# yields (action, resource, context, why); a request implies others (tagging on
# create, passing roles), which come with it.

def req(action, resource, context=None, why=""):
    return (action, resource, context or {}, why)


def pass_roles(e, doc, why):
    for key in ("executionRoleArn", "taskRoleArn"):
        if doc.get(key):
            yield req("iam:PassRole", doc[key], {"iam:PassedToService": "ecs-tasks.amazonaws.com"}, why)


def r_describe_images(e):
    for name, _, doc in e.workloads():
        for c in doc.get("containerDefinitions", []):
            m = re.fullmatch(r"(\d+)\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(.+):([^:/]+)", c.get("image", ""))
            if m:
                yield req("ecr:DescribeImages", e.arn("ecr", f"repository/{m.group(3)}", m.group(2), m.group(1)),
                          why=f"preflight: the image of {name}")


def secret_sources(e):
    for name, _, doc in e.workloads():
        for c in doc.get("containerDefinitions", []):
            for s in c.get("secrets", []):
                yield name, s["valueFrom"]


def r_get_parameters(e):
    for name, src in secret_sources(e):
        if ":ssm:" in src:
            yield req("ssm:GetParameters", src, why=f"preflight: the secret parameter of {name} exists")
        elif src.startswith("/"):
            yield req("ssm:GetParameters", e.arn("ssm", "parameter" + src), why=f"preflight: the secret parameter of {name}")


def secret_arns(e):
    for name, src in secret_sources(e):
        if ":secret:" in src:
            head, rest = src.split(":secret:", 1)
            # The secret's own ARN: its name and the six characters AWS adds.
            yield name, f"{head}:secret:{rest.split(':', 1)[0]}-Ab12Cd"


def r_describe_secret(e):
    for name, arn in secret_arns(e):
        yield req("secretsmanager:DescribeSecret", arn, why=f"preflight: the secret of {name} exists")


def r_describe_clusters(e):
    yield req("ecs:DescribeClusters", e.cluster_arn, why="preflight: the cluster and its capacity providers")


def traffic(e):
    return [s for s in e.plan["services"] if s.get("traffic")]


def r_describe_target_groups(e):
    for s in traffic(e):
        for g in s["traffic"]["target_groups"].values():
            yield req("elasticloadbalancing:DescribeTargetGroups", e.fill_str(g["arn"]), why=f"preflight: {g['name']}")


def r_describe_rules(e):
    for s in traffic(e):
        for rule in s["traffic"]["listener_rules"]:
            yield req("elasticloadbalancing:DescribeRules", e.fill_str(rule), why=f"weights of {s['name']}")


def r_describe_target_health(e):
    for s in traffic(e):
        if s.get("watch", {}).get("target_health"):
            for g in s["traffic"]["target_groups"].values():
                yield req("elasticloadbalancing:DescribeTargetHealth", e.fill_str(g["arn"]), why=f"watching {g['name']}")


def task_set_services(e):
    return [s for s in e.plan["services"] if s.get("controller") == "EXTERNAL"]


def r_modify_rule(e):
    for s in task_set_services(e):
        for rule in s["traffic"]["listener_rules"]:
            yield req("elasticloadbalancing:ModifyRule", e.fill_str(rule), why=f"shifting {s['name']}")


def r_describe_alarms(e):
    for s in e.plan["services"]:
        for a in e.alarms(s):
            yield req("cloudwatch:DescribeAlarms", e.arn("cloudwatch", f"alarm:{a}"), why=f"watching {s['name']}")


LOCK = ["lock", "lock-heartbeat/0f1e2d3c", "lock-takeover/0f1e2d3c"]


def ledger_records(e):
    names = [s["name"] for s in e.plan["services"]]
    return ["deploy"] + [f"services/{n}" for n in names] + [f"last-good/{n}" for n in names] + ["tests/v1"]


def r_get_parameter(e):
    for rel in LOCK + ledger_records(e):
        yield req("ssm:GetParameter", e.ledger(rel), why=f"the ledger's {rel}")


def r_put_parameter(e):
    for rel in LOCK + ledger_records(e):
        yield req("ssm:PutParameter", e.ledger(rel), why=f"the ledger's {rel}")


def r_delete_parameter(e):
    for rel in LOCK:
        yield req("ssm:DeleteParameter", e.ledger(rel), why=f"releasing or taking over {rel}")


def r_get_parameter_history(e):
    for rel in ["deploy"] + [f"services/{s['name']}" for s in e.plan["services"]]:
        yield req("ssm:GetParameterHistory", e.ledger(rel), why=f"history of {rel}")


def r_describe_services(e):
    for s in e.plan["services"]:
        yield req("ecs:DescribeServices", e.service_arn(s), {"ecs:cluster": e.cluster_arn}, why=s["name"])


def r_update_service(e):
    for s in e.plan["services"]:
        if s.get("controller") == "ECS":
            yield req("ecs:UpdateService", e.service_arn(s), {"ecs:cluster": e.cluster_arn}, why=f"deploying {s['name']}")


def r_register_task_definition(e):
    for name, family, doc in e.workloads():
        arn = e.task_definition(family, 2)
        yield req("ecs:RegisterTaskDefinition", arn, why=f"the new revision of {name}")
        if doc.get("tags"):
            yield req("ecs:TagResource", arn, {"ecs:CreateAction": "RegisterTaskDefinition"}, f"tags of {name}'s revision")
        yield from pass_roles(e, doc, f"the roles of {name}'s revision")


def r_describe_task_definition(e):
    for name, family, _ in e.workloads():
        yield req("ecs:DescribeTaskDefinition", e.task_definition(family, 1), why=f"restoring {name}")


def r_deregister_task_definition(e):
    for s in e.plan["services"]:
        yield req("ecs:DeregisterTaskDefinition", e.task_definition(s["task_family"], 2), why=f"{s['name']} rolled back")


def r_create_task_set(e):
    for s in task_set_services(e):
        ts = e.task_set(s)
        context = {"ecs:cluster": e.cluster_arn, "ecs:service": e.service_arn(s),
                   "ecs:task-definition": e.task_definition(s["task_family"], 2)}
        yield req("ecs:CreateTaskSet", ts, context, f"the new version of {s['name']}")
        doc = e.files[s["traffic"]["target_groups"]["blue"]["task_set_file"]]
        if doc.get("tags"):
            yield req("ecs:TagResource", ts, {"ecs:CreateAction": "CreateTaskSet"}, f"tags of {s['name']}'s task set")


def task_set_requests(action, why):
    def gen(e):
        for s in task_set_services(e):
            yield req(action, e.task_set(s), {"ecs:cluster": e.cluster_arn, "ecs:service": e.service_arn(s)},
                      f"{why} of {s['name']}")
    return gen


def r_update_primary(e):
    for s in task_set_services(e):
        yield req("ecs:UpdateServicePrimaryTaskSet", e.service_arn(s), {"ecs:cluster": e.cluster_arn}, f"promoting {s['name']}")


def run_task_services(e):
    for s in e.plan["services"]:
        step = next((st for st in s["steps"] if st["action"] == "run_task"), None)
        if step:
            yield s, step


def r_run_task(e):
    for s, step in run_task_services(e):
        arn = e.task_definition(s["task_family"], 2)
        yield req("ecs:RunTask", arn, {"ecs:cluster": e.cluster_arn}, f"before_deploy of {s['name']}")
        # runTaskInput: tags propagated from the task definition, ECS's managed tags.
        yield req("ecs:TagResource", e.task(s), {"ecs:CreateAction": "RunTask"}, f"tags of {s['name']}'s task")
        reg = next(st for st in s["steps"] if st["action"] == "register_task_definition")
        yield from pass_roles(e, e.files[reg["file"]], f"the roles of {s['name']}'s task")


def task_requests(action, why):
    def gen(e):
        for s, _ in run_task_services(e):
            yield req(action, e.task(s), {"ecs:cluster": e.cluster_arn}, f"{why} of {s['name']}")
    return gen


def r_list_tasks(e):
    for s, _ in run_task_services(e):
        yield req("ecs:ListTasks", e.arn("ecs", f"container-instance/{e.cluster}/*"), {"ecs:cluster": e.cluster_arn},
                  f"before_deploy tasks of {s['name']} left running")


def native_services(e):
    return [s for s in e.plan["services"] if s.get("engine") == "ecs"]


def deployment_requests(action, why):
    def gen(e):
        for s in native_services(e):
            # Both resource types are required: the service and its deployment.
            context = {"ecs:cluster": e.cluster_arn, "ecs:service": e.service_arn(s)}
            yield req(action, e.service_arn(s), context, f"{why} of {s['name']} (service)")
            yield req(action, e.arn("ecs", f"service-deployment/{e.cluster}/{s['ecs_service']}/{stable_hex(s['name'])}"),
                      context, f"{why} of {s['name']} (deployment)")
    return gen


REQUESTS = {
    "ecr:DescribeImages": r_describe_images,
    "ssm:GetParameters": r_get_parameters,
    "secretsmanager:DescribeSecret": r_describe_secret,
    "ecs:DescribeClusters": r_describe_clusters,
    "elasticloadbalancing:DescribeTargetGroups": r_describe_target_groups,
    "elasticloadbalancing:DescribeRules": r_describe_rules,
    "elasticloadbalancing:DescribeTargetHealth": r_describe_target_health,
    "elasticloadbalancing:ModifyRule": r_modify_rule,
    "cloudwatch:DescribeAlarms": r_describe_alarms,
    "ssm:GetParameter": r_get_parameter,
    "ssm:PutParameter": r_put_parameter,
    "ssm:DeleteParameter": r_delete_parameter,
    "ssm:GetParameterHistory": r_get_parameter_history,
    "ecs:DescribeServices": r_describe_services,
    "ecs:UpdateService": r_update_service,
    "ecs:RegisterTaskDefinition": r_register_task_definition,
    "ecs:DescribeTaskDefinition": r_describe_task_definition,
    "ecs:DeregisterTaskDefinition": r_deregister_task_definition,
    "ecs:CreateTaskSet": r_create_task_set,
    "ecs:DescribeTaskSets": task_set_requests("ecs:DescribeTaskSets", "waiting for the task set"),
    "ecs:UpdateTaskSet": task_set_requests("ecs:UpdateTaskSet", "scaling the task set"),
    "ecs:DeleteTaskSet": task_set_requests("ecs:DeleteTaskSet", "retiring the task set"),
    "ecs:UpdateServicePrimaryTaskSet": r_update_primary,
    "ecs:RunTask": r_run_task,
    "ecs:DescribeTasks": task_requests("ecs:DescribeTasks", "waiting for the before_deploy task"),
    "ecs:StopTask": task_requests("ecs:StopTask", "stopping the before_deploy task"),
    "ecs:ListTasks": r_list_tasks,
    "ecs:DescribeServiceDeployments": deployment_requests("ecs:DescribeServiceDeployments", "following ECS's deployment"),
    "ecs:StopServiceDeployment": deployment_requests("ecs:StopServiceDeployment", "ECS's rollback"),
}


def workflow_requests(e):
    """What the deploy workflows do with the deploy role besides gops: terraform init and
    terraform output of the environment's module (its S3 backend, read only, no lock)."""
    s3 = e.module["terraform"]["backend"]["s3"]
    bucket, key = s3["bucket"], s3["key"]
    yield req("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": key}, "terraform init: the state's key")
    yield req("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", why="terraform output: the state")


def must_be_denied(e, requests):
    """Requests no deploy role may make: (action, resource, context, why)."""
    s3 = e.module["terraform"]["backend"]["s3"]
    bucket, key = s3["bucket"], s3["key"]
    other = f"{e.app}/other-{e.name}/terraform.tfstate"
    out = [
        req("s3:GetObject", f"arn:aws:s3:::{bucket}/{other}", why="another environment's state"),
        req("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}.tflock", why="the state's lock file"),
        req("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", why="writing the state"),
        req("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}.tflock", why="taking the state's lock"),
        req("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{key}.tflock", why="removing the state's lock"),
        req("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": ""}, "listing the whole bucket"),
        req("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": f"{e.app}/"}, "listing every environment's state"),
        req("ssm:GetParameter", e.arn("ssm", f"parameter/gops/{e.app}/other-{e.name}/deploy"), why="another ledger"),
        req("ecs:RegisterTaskDefinition", e.task_definition("other-app-api", 1), why="another app's family"),
        req("iam:PassRole", f"arn:aws:iam::{e.account}:role/gops/{e.app}/{e.name}/{e.app}-{e.name}-github-deploy",
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"}, "passing the deploy role itself to a task"),
        req("ecs:UpdateService", e.arn("ecs", f"service/other-cluster/{e.app}-{e.name}-api"),
            {"ecs:cluster": e.arn("ecs", "cluster/other-cluster")}, "a service of another cluster"),
    ]
    for action, resource, _, why in requests:
        if action == "ssm:GetParameters":
            out.append(req("ssm:PutParameter", resource, why="overwriting a secret parameter"))
        if action == "secretsmanager:DescribeSecret":
            out.append(req("secretsmanager:GetSecretValue", resource, why="reading a secret's value"))
    runs = {s["name"] for s, _ in run_task_services(e)}
    for s in e.plan["services"]:
        if s["name"] not in runs:
            out.append(req("ecs:RunTask", e.task_definition(s["task_family"], 2), {"ecs:cluster": e.cluster_arn},
                           f"a task of {s['name']}, which has no before_deploy"))
    return out


# The calls of `gops promote --check FROM TO` (promote.cpp, live.h): FROM's ledger,
# services and alarms, with FROM's gates role.
GATES_ACTIONS = {"ssm:GetParameterHistory", "ssm:GetParameter", "ecs:DescribeServices", "cloudwatch:DescribeAlarms"}


def gates_requests(e):
    yield req("ssm:GetParameterHistory", e.ledger("deploy"), why="the deploys of FROM")
    for s in e.plan["services"]:
        yield req("ssm:GetParameter", e.ledger(f"services/{s['name']}"), why=f"{s['name']}'s last deploy")
        yield req("ecs:DescribeServices", e.service_arn(s), {"ecs:cluster": e.cluster_arn}, f"what {s['name']} runs")
        for a in e.alarms(s):
            yield req("cloudwatch:DescribeAlarms", e.arn("cloudwatch", f"alarm:{a}"), why=f"{s['name']}'s alarms")
    yield req("ssm:GetParameter", e.ledger("tests/v1"), why="the tests' result")


def gates_denied(e):
    return [
        req("ssm:PutParameter", e.ledger("deploy"), why="writing FROM's ledger"),
        req("ssm:DeleteParameter", e.ledger("lock"), why="deleting FROM's lock"),
        req("ecs:UpdateService", e.service_arn(e.plan["services"][0]), {"ecs:cluster": e.cluster_arn}, "changing FROM"),
    ] if e.plan["services"] else []


# ---------------------------------------------------------------------------

def policy_of(e, block):
    r = e.module["resource"]
    return json.loads(r["aws_iam_role_policy"][block]["policy"]), json.loads(r["aws_iam_role"][block]["assume_role_policy"]), \
        f"arn:aws:iam::{e.account}:role{r['aws_iam_role'][block]['path']}{r['aws_iam_role'][block]['name']}"


def trusted_subjects(trust):
    subs = []
    for st in trust["Statement"]:
        for keys in (st.get("Condition") or {}).values():
            subs += as_list(keys.get("token.actions.githubusercontent.com:sub", []))
    return subs


def workflow(out, name):
    import yaml
    path = os.path.join(out, ".github", "workflows", name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return yaml.safe_load(f)


def check_spec(label, out, actions, promote_actions, problems, mutate_policy=None):
    """Checks every environment of one built spec; returns a summary line per environment."""
    envs = {os.path.basename(os.path.dirname(p)): Env(out, os.path.basename(os.path.dirname(p)))
            for p in sorted(glob.glob(os.path.join(out, "*", "plan.json")))}
    lines = []
    for name, e in envs.items():
        where = f"{label}/{name}"
        policy, trust, role_arn = policy_of(e, "github_deploy")
        if mutate_policy:
            policy = mutate_policy(policy)
        repo = None
        subs = trusted_subjects(trust)
        if len(subs) != 1 or not subs[0].endswith(f":environment:{name}"):
            problems.append(f"{where}: the deploy role trusts {subs}, not the GitHub environment {name} alone")
        else:
            repo = subs[0].split(":")[1]
        requests = []
        for action in sorted(actions):
            requests += list(REQUESTS[action](e))
        requests += list(workflow_requests(e))
        for action, resource, context, why in requests:
            if not allowed(policy, action, resource, context):
                problems.append(f"{where}: the deploy role does not allow {action} on {resource}"
                                f"{' with ' + json.dumps(context) if context else ''} ({why})")
        # Least privilege: every granted action is needed here.
        for st in policy["Statement"]:
            for action in as_list(st["Action"]):
                if (st.get("Sid"), action) in KEPT:
                    continue
                if not any(a == action and statement_allows(st, a, r, c) for a, r, c, _ in requests):
                    problems.append(f"{where}: statement {st.get('Sid')} grants {action}, which no call of the runtime "
                                    "or of the workflows needs in this environment")
        denied = must_be_denied(e, requests)
        for action, resource, context, why in denied:
            if allowed(policy, action, resource, context):
                problems.append(f"{where}: the deploy role allows {action} on {resource} ({why})")
        # The state is read with S3's own keys: the bucket is AES256, no KMS key to use.
        s3 = e.module["terraform"]["backend"]["s3"]
        if "kms_key_id" in s3 or not s3["bucket"].endswith("-" + e.account):
            problems.append(f"{where}: the state is in {s3['bucket']} (kms_key_id {s3.get('kms_key_id')}): the deploy role "
                            "reads it with S3 permissions only, in its own account, without KMS")
        # The deploy workflow assumes this role.
        wf = workflow(out, f"deploy-{name}.yml")
        if wf:
            arns = {st.get("with", {}).get("role-to-assume") for st in wf["jobs"]["deploy"]["steps"]}
            if role_arn not in arns:
                problems.append(f"{where}: deploy-{name}.yml does not assume {role_arn}")
        gated = 0
        for p in e.plan.get("gates", []):
            gated += check_gates(label, envs[p["from"]], name, repo, promote_actions, out, problems, mutate_policy)
        lines.append(f"{where}: {len(requests)} requests allowed, {sum(len(as_list(s['Action'])) for s in policy['Statement'])} "
                     f"granted actions all needed, {len(denied)} requests denied; {gated} promotion gate requests")
    return lines


def check_gates(label, src, to, repo, promote_actions, out, problems, mutate_policy):
    where = f"{label}/{src.name} -> {to}"
    if "github_gates" not in src.module["resource"].get("aws_iam_role", {}):
        problems.append(f"{where}: {src.name} has no gates role for gops promote --check")
        return 0
    policy, trust, role_arn = policy_of(src, "github_gates")
    if mutate_policy:
        policy = mutate_policy(policy)
    if repo and f"repo:{repo}:environment:{to}" not in trusted_subjects(trust):
        problems.append(f"{where}: the gates role of {src.name} does not trust the GitHub environment {to}")
    requests = list(gates_requests(src))
    for action, resource, context, why in requests:
        if not allowed(policy, action, resource, context):
            problems.append(f"{where}: the gates role does not allow {action} on {resource} ({why})")
    for action, resource, context, why in gates_denied(src):
        if allowed(policy, action, resource, context):
            problems.append(f"{where}: the gates role allows {action} on {resource} ({why})")
    for name in (f"deploy-{to}.yml", "release.yml"):
        wf = workflow(out, name)
        if not wf:
            continue
        for job_id, job in wf["jobs"].items():
            if name == "release.yml" and job_id != f"deploy-{to}":
                continue
            for st in job.get("steps", []):
                if str(st.get("name", "")).startswith(f"Promotion gates {src.name} -> {to}"):
                    env = st.get("env", {})
                    if env.get("AWS_ROLE_ARN") != role_arn or env.get("GATES_REGION") != src.region:
                        problems.append(f"{where}: {name} checks the gates with {env.get('AWS_ROLE_ARN')} in "
                                        f"{env.get('GATES_REGION')}, not {role_arn} in {src.region}")
    return len(requests)


def audit(sources, built, problems, mutate_policy=None, coverage=True):
    """The whole check on the sources and the specs built already; returns its report lines."""
    calls, scan_problems = scan_calls(sources, SCAN, PLUMBING)
    problems += scan_problems
    actions, promote_actions, lines = set(), set(), []
    by_action = {}
    for rel, line, service, operation in calls:
        action = action_of(service, operation)
        if not action:
            problems.append(f"{rel}:{line}: service `{service}` has no IAM prefix in this check; add it to IAM_PREFIX")
            continue
        by_action.setdefault(action, []).append(f"{rel}:{line}")
        if rel in PROMOTE_FILES:
            promote_actions.add(action)
        if action in NOT_GRANTED:
            continue
        if action not in REQUESTS:
            problems.append(f"{action} ({rel}:{line}) is called by the runtime but neither modelled here (REQUESTS: the "
                            "resources it touches) nor listed as not granted (NOT_GRANTED: why): grant it in "
                            "compiler/backends/terraform/env_deploy_role.cpp and model it")
            continue
        actions.add(action)
    for action in sorted(promote_actions - GATES_ACTIONS - set(GATES_EXEMPT)):
        problems.append(f"{action} ({', '.join(l for l in by_action[action] if l.split(':')[0] in PROMOTE_FILES)}) is called "
                        "by gops promote --check, but the gates role's requests do not model it (gates_requests)")
    for action in sorted(set(REQUESTS) - actions):
        problems.append(f"{action} is modelled here but the runtime no longer calls it: remove it, and its grant")
    for label, out in built:
        lines += check_spec(label, out, actions, promote_actions, problems, mutate_policy)
    # Every modelled action is exercised by some spec (else its model is untested).
    if coverage:
        envs = [Env(out, os.path.basename(os.path.dirname(p))) for _, out in built
                for p in sorted(glob.glob(os.path.join(out, "*", "plan.json")))]
        for action in sorted(actions):
            if not any(next(iter(REQUESTS[action](e)), None) for e in envs):
                problems.append(f"{action}: no environment of the specs makes this call; add a spec that does")
    lines.append(f"{len(calls)} calls of {len(by_action)} actions in the runtime: {len(actions)} granted and checked, "
                 f"{len(set(by_action) & set(NOT_GRANTED))} not granted on purpose:")
    for action in sorted(set(by_action) & set(NOT_GRANTED)):
        lines.append(f"  {action}: {NOT_GRANTED[action]}")
    return lines


def build(gops, root, specs, tmp):
    built = []
    for spec in specs:
        path = os.path.join(root, spec)
        if not os.path.exists(path):
            raise SystemExit(f"deploy_role_check: no spec {spec}")
        out = os.path.join(tmp, re.sub(r"[^A-Za-z0-9]+", "-", spec))
        r = subprocess.run([gops, "build", path, "-o", out], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"deploy_role_check: gops build {spec} failed:\n{r.stderr}")
        built.append((spec, out))
    return built


def self_test(root, built):
    """The check fails when the runtime calls an action no role grants, and when a
    statement the runtime needs is gone from the policy."""
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for top in SCAN:
            shutil.copytree(os.path.join(root, top), os.path.join(tmp, top))
        with open(os.path.join(tmp, "runtime/deploy/src/status.cpp"), "a") as f:
            f.write('\nvoid selfTestAddedCall(gops::aws::AwsClient& aws) {\n'
                    '  aws.callJson("ecs", "DeleteService", {{"service", "x"}});\n}\n')
        problems = []
        audit(tmp, built, problems)
        if not any(p.startswith("ecs:DeleteService (runtime/deploy/src/status.cpp:") for p in problems):
            failures.append("a call of ecs:DeleteService added to status.cpp went unnoticed")
        else:
            print("self-test: an added call is refused:", next(p for p in problems if "DeleteService" in p))

    def drop(sid):
        def mutate(policy):
            return {**policy, "Statement": [s for s in policy["Statement"] if s.get("Sid") != sid]}
        return mutate

    for sid, what in (("PreflightSecrets", "secretsmanager:DescribeSecret"), ("TerraformStateRead", "s3:GetObject"),
                      ("ReadLedger", "ssm:GetParameter")):
        problems = []
        audit(root, built, problems, drop(sid))
        hit = [p for p in problems if f"does not allow {what}" in p]
        if not hit:
            failures.append(f"removing {sid} went unnoticed")
        else:
            print(f"self-test: without {sid}: {hit[0]}")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gops", required=True)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--sources")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("specs", nargs="*")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        built = build(args.gops, args.root, args.specs or DEFAULT_SPECS, tmp)
        problems = []
        for line in audit(args.sources or args.root, built, problems, coverage=not args.specs):
            print(line)
        if args.self_test and not problems:
            problems += self_test(args.root, built)
    for p in problems:
        print("problem:", p)
    print(f"deploy_role_check: {len(built)} specs, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
