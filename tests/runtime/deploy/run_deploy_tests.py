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
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "testapp.gops")
ACCOUNT = "123456789012"
REGION = "us-east-1"
RUNNING = 2  # MOTO_ECS_SERVICE_RUNNING: the replicas of the test spec's services
FAST = ["--settle-seconds", "0.5", "--poll-seconds", "0.2"]

try:
    import boto3
except ImportError:
    print("run_deploy_tests.py: boto3 is not installed; skipping", file=sys.stderr)
    sys.exit(77)
if shutil.which("moto_server") is None:
    print("run_deploy_tests.py: moto_server is not installed; skipping", file=sys.stderr)
    sys.exit(77)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Moto:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="gops-moto-", suffix=".log", delete=False)
        env = dict(os.environ, MOTO_ECS_SERVICE_RUNNING=str(RUNNING))
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError("moto_server exited early: " + open(self.log.name).read())
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("moto_server did not answer")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.unlink(self.log.name)


class FaultProxy:
    """An HTTP proxy in front of moto that answers some requests with a throttling error
    (ThrottlingException for JSON protocols, Throttling for query protocols) or a 500,
    deterministically: request n is throttled when n % 5 == 0, answered 500 when n % 7 == 0,
    but one request (its operation and body: a retry sends the same) at most once, so
    none fails three times in a row (the client's default attempts) even when the
    services of a wave call concurrently and their requests interleave."""

    def __init__(self, target_port):
        proxy = self
        self.count = 0
        self.injected = 0
        self.lock = threading.Lock()
        self.faulted = set()  # (operation, body) of each request answered with a fault

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = (self.headers.get("X-Amz-Target", self.path), body)
                with proxy.lock:
                    proxy.count += 1
                    n = proxy.count
                    fault = (n % 5 == 0 or n % 7 == 0) and key not in proxy.faulted
                    if fault:
                        proxy.faulted.add(key)
                        proxy.injected += 1
                json_protocol = "X-Amz-Target" in self.headers
                if fault:
                    if n % 5 == 0 and json_protocol:
                        status, ctype = 400, "application/x-amz-json-1.1"
                        payload = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
                    elif n % 5 == 0:
                        status, ctype = 400, "text/xml"
                        payload = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                   b"<Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
                    else:
                        status, ctype, payload = 500, "text/plain", b"injected internal error"
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class World:
    """The AWS side of the tests: clients, and what Terraform created per environment."""

    def __init__(self, moto, gops, work):
        self.moto = moto
        self.gops = gops
        self.work = work
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIAGOPSTEST", AWS_SECRET_ACCESS_KEY="gops-test-secret",
                        AWS_ENDPOINT_URL=moto.endpoint, AWS_REGION=REGION, CI="true")
        self.env.pop("AWS_PROFILE", None)
        self.env.pop("AWS_SESSION_TOKEN", None)
        kw = dict(endpoint_url=moto.endpoint, region_name=REGION, aws_access_key_id="AKIAGOPSTEST",
                  aws_secret_access_key="gops-test-secret")
        self.ecs = boto3.client("ecs", **kw)
        self.elb = boto3.client("elbv2", **kw)
        self.ec2 = boto3.client("ec2", **kw)
        self.cw = boto3.client("cloudwatch", **kw)
        self.ssm = boto3.client("ssm", **kw)
        self.sm = boto3.client("secretsmanager", **kw)
        self.ecr = boto3.client("ecr", **kw)
        self.out = os.path.join(work, "out")
        subprocess.run([gops, "build", SPEC, "-o", self.out], check=True, capture_output=True)
        self.tf = {}       # env -> terraform outputs
        self.plans = {}    # env -> plan
        self.repos = set()

    def plan(self, env):
        if env not in self.plans:
            with open(os.path.join(self.out, env, "plan.json")) as f:
                self.plans[env] = json.load(f)
        return self.plans[env]

    def ecs_doc(self, env, rel, tag):
        with open(os.path.join(self.out, env, rel)) as f:
            text = f.read()
        doc = json.loads(text)
        return fill(doc, self.tf[env], tag)

    def push_image(self, repo, tag):
        if (repo, tag) in self.repos:
            return
        if repo not in self.repos:
            try:
                self.ecr.create_repository(repositoryName=repo)
            except self.ecr.exceptions.RepositoryAlreadyExistsException:
                pass
            self.repos.add(repo)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"digest": "sha256:" + format(abs(hash(repo + tag)), "064x")[:64], "size": 1,
                                          "mediaType": "application/vnd.docker.container.image.v1+json"},
                               "layers": []})
        self.ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)
        self.repos.add((repo, tag))

    def terraform(self, env, tags=("v0", "v1", "v2", "v3")):
        """Creates what env's Terraform module creates; writes its `terraform output -json`."""
        plan = self.plan(env)
        names = set()
        for root, _, files in os.walk(os.path.join(self.out, env, "ecs")):
            for name in files:
                with open(os.path.join(root, name)) as f:
                    names.update(m.group(1) for m in re.finditer(r"\{\{tf:([A-Za-z0-9_]+)", f.read()))
        with open(os.path.join(self.out, env, "plan.json")) as f:
            names.update(m.group(1) for m in re.finditer(r"\{\{tf:([A-Za-z0-9_]+)", f.read()))
        out = {}
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        private = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        public = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                  for i, z in ((11, "a"), (12, "b"))]
        out["vpc_id"] = vpc
        out["private_subnet_ids"] = private
        out["public_subnet_ids"] = public
        for n in sorted(names):
            if n.endswith("_security_group_id"):
                out[n] = self.ec2.create_security_group(GroupName=f"{env}-{n}", Description=n, VpcId=vpc)["GroupId"]
        cluster = plan["cluster"]
        out["cluster_name"] = cluster
        out["cluster_arn"] = self.ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"]
        public_services = [s for s in plan["services"] if any(n.startswith(s["name"] + "_target_group") for n in names) or s["traffic"]]
        if public_services:
            lb = self.elb.create_load_balancer(Name=f"{plan['app']}-{env}", Subnets=public, Type="application")["LoadBalancers"][0]
            out["alb_arn"] = lb["LoadBalancerArn"]
            out["alb_dns_name"] = lb["DNSName"]
            listener = self.elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])
            out["https_listener_arn"] = listener["Listeners"][0]["ListenerArn"]
            for prio, s in enumerate(public_services, start=1):
                name = s["name"]
                if s["traffic"]:
                    tgs = {c: self.elb.create_target_group(Name=s["traffic"]["target_groups"][c]["name"], Protocol="HTTP", Port=8080,
                                                           VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
                           for c in ("blue", "green")}
                    out[f"{name}_target_group_blue_arn"] = tgs["blue"]
                    out[f"{name}_target_group_green_arn"] = tgs["green"]
                    out[f"{name}_target_group_arn"] = tgs["blue"]
                    forward = [{"TargetGroupArn": tgs["blue"], "Weight": 100}, {"TargetGroupArn": tgs["green"], "Weight": 0}]
                else:
                    tg = self.elb.create_target_group(Name=f"{plan['app']}-{env}-{name}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
                    out[f"{name}_target_group_arn"] = tg
                    forward = [{"TargetGroupArn": tg, "Weight": 100}]
                rule = self.elb.create_rule(ListenerArn=out["https_listener_arn"], Priority=prio,
                                            Conditions=[{"Field": "host-header", "Values": [f"{name}.example.com"]}],
                                            Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": forward}}])
                out[f"{name}_listener_rule_arn"] = rule["Rules"][0]["RuleArn"]
        for n in names:
            if n.endswith("_discovery_service_arn"):
                out[n] = f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:service/srv-{n}"
        self.tf[env] = {k: {"sensitive": False, "type": "list" if isinstance(v, list) else "string", "value": v}
                        for k, v in sorted(out.items())}
        with open(self.tf_file(env), "w") as f:
            json.dump(self.tf[env], f, indent=2)
        # Images, secrets and alarms the task definitions and the plan name.
        for s in plan["services"] + plan["jobs"]:
            td = self.ecs_doc(env, s["steps"][0]["file"], "v0")
            for c in td["containerDefinitions"]:
                repo = c["image"].split("/", 1)[1].rsplit(":", 1)[0]
                for t in tags:
                    self.push_image(repo, t)
                for sec in c.get("secrets", []):
                    self.create_secret(sec["valueFrom"])
        for s in plan["services"]:
            for alarm in s["watch"]["alarms"]:
                self.cw.put_metric_alarm(AlarmName=alarm, MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB",
                                         Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                         ComparisonOperator="GreaterThanThreshold")
                self.cw.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="created by the test")
        # The services, as aws_ecs_service (and the first task set) would have made them.
        for s in plan["services"]:
            td = self.ecs_doc(env, s["steps"][0]["file"], "v0")
            arn = self.ecs.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"]
            svc = self.ecs_doc(env, s["service_file"], "v0")
            if s["controller"] == "EXTERNAL":
                svc.pop("taskDefinition", None)
                self.ecs.create_service(**svc)
                ts = self.ecs_doc(env, s["traffic"]["target_groups"]["blue"]["task_set_file"], "v0")
                ts["taskDefinition"] = arn
                t = self.ecs.create_task_set(**ts)["taskSet"]["taskSetArn"]
                self.ecs.update_service_primary_task_set(cluster=cluster, service=s["ecs_service"], primaryTaskSet=t)
            else:
                svc["taskDefinition"] = arn
                self.ecs.create_service(**svc)

    def create_secret(self, value_from):
        if ":ssm:" in value_from:
            name = "/" + value_from.split(":parameter/", 1)[1]
            self.ssm.put_parameter(Name=name, Value="postgres://test", Type="SecureString", Overwrite=True)
        elif ":secretsmanager:" in value_from:
            sid = value_from.split(":secret:", 1)[1].split(":", 1)[0]
            try:
                self.sm.create_secret(Name=sid, SecretString=json.dumps({"key": "test"}))
            except self.sm.exceptions.ResourceExistsException:
                pass

    def tf_file(self, env):
        return os.path.join(self.work, f"{env}.tf-outputs.json")

    def apply_cmd(self, env, tag, *extra):
        return [self.gops, "apply", SPEC, "--env", env, "--image-tag", tag, "--tf-outputs", self.tf_file(env),
                "--journal", os.path.join(self.work, f"{env}.journal.jsonl"), *FAST, *extra]

    def apply(self, env, tag, *extra):
        p = subprocess.run(self.apply_cmd(env, tag, *extra), env=self.env, capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def rollback(self, env, *extra):
        cmd = [self.gops, "rollback", SPEC, "--env", env, "--tf-outputs", self.tf_file(env),
               "--journal", os.path.join(self.work, f"{env}.journal.jsonl"), *FAST, *extra]
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    # --- observations
    def service(self, env, name):
        plan = self.plan(env)
        s = next(x for x in plan["services"] if x["name"] == name)
        return self.ecs.describe_services(cluster=plan["cluster"], services=[s["ecs_service"]])["services"][0]

    def weights(self, env, name):
        rule = self.tf[env][f"{name}_listener_rule_arn"]["value"]
        r = self.elb.describe_rules(RuleArns=[rule])["Rules"][0]
        fwd = next(a for a in r["Actions"] if a["Type"] == "forward")
        return {tg["TargetGroupArn"]: tg.get("Weight", 0) for tg in fwd["ForwardConfig"]["TargetGroups"]}

    def ledger(self, env, rel):
        plan = self.plan(env)
        try:
            return json.loads(self.ssm.get_parameter(Name=f"{plan['ledger']}/{rel}")["Parameter"]["Value"])
        except self.ssm.exceptions.ParameterNotFound:
            return None

    def image_of(self, td_arn):
        return self.ecs.describe_task_definition(taskDefinition=td_arn)["taskDefinition"]["containerDefinitions"][0]["image"]

    def task_def_count(self, family):
        return len(self.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])


PLACEHOLDER = re.compile(r"\{\{tf:([A-Za-z0-9_]+)(?:\[(\d+)\])?\}\}|\{\{image_tag\}\}")


def fill(doc, outputs, tag):
    if isinstance(doc, str):
        def sub(m):
            if m.group(0) == "{{image_tag}}":
                return tag
            v = outputs[m.group(1)]["value"]
            return v[int(m.group(2))] if m.group(2) is not None else v
        return PLACEHOLDER.sub(sub, doc)
    if isinstance(doc, list):
        return [fill(x, outputs, tag) for x in doc]
    if isinstance(doc, dict):
        return {k: fill(v, outputs, tag) for k, v in doc.items()}
    return doc


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# --- the tests -----------------------------------------------------------------------

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


def run_until_event(w, cmd, predicate, timeout=120):
    """Starts cmd (json events); returns (proc, lines so far) once predicate(event) holds."""
    proc = subprocess.Popen(cmd, env=w.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if predicate(json.loads(line)):
            return proc, lines
    proc.kill()
    raise Failure("the event never came:\n" + "".join(lines) + proc.stderr.read())


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
    check("stale" in out, "the dead apply's lock is taken over:\n" + out)
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


def run_in_pty(cmd, env, timeout=120):
    """Runs cmd with a pseudo-terminal as stdout; returns (exit code, everything it wrote)."""
    import pty
    import select
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            data += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    proc.wait(timeout=30)
    return proc.returncode, data.decode(errors="replace")


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


def run_suite(name, doc, tests, envs, prepare=None):
    """Runs `tests` (or those named on the command line) against one moto_server and a
    World with the Terraform-like resources of `envs`; `prepare(world)` runs first.
    Prints PASS/FAIL per test; returns the exit code. Shared with run_gates_tests.py."""
    if len(sys.argv) < 2:
        print(doc, file=sys.stderr)
        return 2
    gops = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    moto = Moto()
    work = tempfile.mkdtemp(prefix=f"gops-{name}-")
    failed = 0
    try:
        w = World(moto, gops, work)
        if prepare:
            prepare(w)
        try:
            for env in envs:
                w.terraform(env)
        except Exception:
            with open(moto.log.name) as f:
                print("".join(f.readlines()[-30:]), file=sys.stderr)
            raise
        print(f"run_{name}_tests.py: moto_server on {moto.endpoint}, work in {work}")
        for t in tests:
            if only and t.__name__ not in only:
                continue
            start = time.time()
            try:
                t(w)
                print(f"PASS {t.__name__} ({time.time() - start:.1f} s)")
            except Failure as e:
                failed += 1
                print(f"FAIL {t.__name__}: {e}")
    finally:
        moto.stop()
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
    print(f"run_{name}_tests.py: {failed} failed")
    return 1 if failed else 0


def main():
    return run_suite("deploy", __doc__, TESTS, ("rolling", "bluegreen", "canary"))


if __name__ == "__main__":
    sys.exit(main())
