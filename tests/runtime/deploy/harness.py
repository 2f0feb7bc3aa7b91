#!/usr/bin/env python3
"""The harness of the runtime's end-to-end tests (run_deploy_tests.py,
run_gates_tests.py, run_spot_tests.py, run_native_tests.py, demo_canary.py): a private moto_server, a
proxy that injects faults, the World (the environments' Terraform-created resources
built from the generated files of a spec, and the gops commands run against them),
and the suite runner.
Importing it exits 77 (CTest: skipped) when moto_server or boto3 is missing."""
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
    print("harness.py: boto3 is not installed; skipping", file=sys.stderr)
    sys.exit(77)
if shutil.which("moto_server") is None:
    print("harness.py: moto_server is not installed; skipping", file=sys.stderr)
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


def forward(handler, port, body, rewrite=None):
    """Passes the request `handler` received (its body read) to moto on `port`, and moto's
    answer back; `rewrite(data)` changes a successful answer's body on the way."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
    conn.request("POST", handler.path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if rewrite and resp.status == 200:
        data = rewrite(data)
    reply(handler, resp.status, data, [(k, v) for k, v in resp.getheaders()
                                       if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date")])
    conn.close()


def reply(handler, status, data, headers=()):
    """Answers the request `handler` received with `status`, `data` and `headers`."""
    handler.send_response(status)
    for k, v in headers:
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


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
                forward(self, target_port, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ContainerProxy:
    """An HTTP proxy in front of moto that stands in for a container's process, where moto
    has none: moto's ECS never runs a container, and a task it starts stops after a few
    DescribeTasks with exit code 0 on its container. On DescribeTasks answers only, a
    STOPPED task whose container override runs `sh -c 'exit N'` gets exit code N on that
    container and, for N != 0, the stop code and reason ECS gives when an essential
    container exits. Every other request and answer is moto's, unchanged (the task's
    state, its stop, its overrides, network and revision are moto's own)."""

    EXIT = re.compile(r"^exit ([0-9]{1,3})$")

    def __init__(self, target_port):
        proxy = self
        self.rewritten = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                describe_tasks = self.headers.get("X-Amz-Target", "").endswith(".DescribeTasks")
                forward(self, target_port, body, proxy.exit_codes if describe_tasks else None)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def exit_codes(self, data):
        doc = json.loads(data)
        for task in doc.get("tasks", []):
            # Stopped by StopTask (moto then sets the reason): the process did not exit by itself.
            if task.get("lastStatus") != "STOPPED" or task.get("stoppedReason"):
                continue
            for override in task.get("overrides", {}).get("containerOverrides", []):
                cmd = override.get("command") or []
                m = self.EXIT.match(cmd[2]) if len(cmd) == 3 and cmd[:2] == ["sh", "-c"] else None
                if not m:
                    continue
                code = int(m.group(1))
                for c in task.get("containers", []):
                    if c.get("name") == override.get("name"):
                        c["exitCode"] = code
                        c["lastStatus"] = "STOPPED"
                if code != 0:
                    task["stopCode"] = "EssentialContainerExited"
                    task["stoppedReason"] = "Essential container in task exited"
                self.rewritten += 1
        return json.dumps(doc).encode()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def moto_task_transition(moto, transition):
    """Sets (a dict) or unsets (None) how moto moves ECS tasks from RUNNING to STOPPED,
    through moto's own state manager: by default each DescribeTasks moves a task one
    state on (four to STOPPED); `{"progression": "manual", "times": 10**6}` keeps it
    RUNNING until StopTask."""
    path, body = (("set-transition", {"model_name": "ecs::task", "transition": transition}) if transition
                  else ("unset-transition", {"model_name": "ecs::task"}))
    req = urllib.request.Request(f"{moto.endpoint}/moto-api/state-manager/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def arn_suffix(arn):
    """CloudWatch's LoadBalancer and TargetGroup dimensions: the ARN after `:loadbalancer/` or `:`."""
    return arn.split(":loadbalancer/", 1)[1] if ":loadbalancer/" in arn else arn.rsplit(":", 1)[1]


class World:
    """The AWS side of the tests: clients, and what Terraform created per environment."""

    def __init__(self, moto, gops, work, spec=SPEC, endpoint=None):
        self.moto = moto
        self.gops = gops
        self.work = work
        self.spec = spec
        # gops talks to `endpoint` (a proxy in front of moto, say); the test's own clients to moto.
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIAGOPSTEST", AWS_SECRET_ACCESS_KEY="gops-test-secret",
                        AWS_ENDPOINT_URL=endpoint or moto.endpoint, AWS_REGION=REGION, CI="true")
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
        subprocess.run([gops, "build", spec, "-o", self.out], check=True, capture_output=True)
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
        zones = 2  # subnets of each tier: as many as the files index (`zones`), at least 2
        texts = []
        for root, _, files in os.walk(os.path.join(self.out, env, "ecs")):
            for name in files:
                with open(os.path.join(root, name)) as f:
                    texts.append(f.read())
        with open(os.path.join(self.out, env, "plan.json")) as f:
            texts.append(f.read())
        for text in texts:
            for m in PLACEHOLDER.finditer(text):
                if m.group(1):
                    names.add(m.group(1))
                if m.group(2) is not None:
                    zones = max(zones, int(m.group(2)) + 1)
        out = {}
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        azs = "abcdef"
        private = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{1 + i}.0/24", AvailabilityZone=f"{REGION}{azs[i]}")["Subnet"]["SubnetId"]
                   for i in range(zones)]
        public = [self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{11 + i}.0/24", AvailabilityZone=f"{REGION}{azs[i]}")["Subnet"]["SubnetId"]
                  for i in range(zones)]
        out["vpc_id"] = vpc
        out["private_subnet_ids"] = private
        out["public_subnet_ids"] = public
        for n in sorted(names):
            if n.endswith("_security_group_id"):
                out[n] = self.ec2.create_security_group(GroupName=f"{env}-{n}", Description=n, VpcId=vpc)["GroupId"]
        cluster = plan["cluster"]
        out["cluster_name"] = cluster
        with open(os.path.join(self.out, env, "terraform", "main.tf.json")) as f:
            module = json.load(f)
        if "aws_ecs_cluster" in module["resource"]:
            # With the capacity providers the module associates (Fargate Spot).
            providers = module["resource"].get("aws_ecs_cluster_capacity_providers", {}).get("main", {})
            extra = {"capacityProviders": providers["capacity_providers"]} if providers else {}
            out["cluster_arn"] = self.ecs.create_cluster(clusterName=cluster, **extra)["cluster"]["clusterArn"]
        else:  # `cluster = existing(...)`: the module reads it; the test made it
            out["cluster_arn"] = self.ecs.describe_clusters(clusters=[cluster])["clusters"][0]["clusterArn"]
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
            by_color = s["watch"].get("alarms_by_new_color", {})
            for alarm in s["watch"]["alarms"] + by_color.get("blue", []) + by_color.get("green", []):
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

    # --- the environment's alarms as its Terraform module defines them
    def module(self, env):
        """The environment's Terraform module (main.tf.json), parsed."""
        with open(os.path.join(self.out, env, "terraform", "main.tf.json")) as f:
            return json.load(f)

    def alarm_defs(self, env):
        """The module's alarms by Terraform block name."""
        return self.module(env)["resource"].get("aws_cloudwatch_metric_alarm", {})

    def resolve(self, env, ref):
        """A Terraform reference of an alarm's dimensions, as `terraform apply` fills it:
        the load balancer's ARN suffix (created, or read from an existing one) and a
        target group's."""
        tf = self.tf[env]
        if ref in ("${aws_lb.main.arn_suffix}", "${data.aws_lb.main.arn_suffix}"):
            return arn_suffix(tf["alb_arn"]["value"])
        if ref.startswith("${aws_lb_target_group.") and ref.endswith(".arn_suffix}"):
            label = ref[len("${aws_lb_target_group."):-len(".arn_suffix}")]
            service, _, color = label.rpartition("_")
            if color in ("blue", "green"):
                return arn_suffix(tf[f"{service}_target_group_{color}_arn"]["value"])
            return arn_suffix(tf[f"{label}_target_group_arn"]["value"])
        if ref.startswith("${"):
            raise Failure(f"an alarm dimension the test cannot resolve: {ref}")
        return ref

    def alarm_request(self, env, body):
        """The PutMetricAlarm request of a Terraform aws_cloudwatch_metric_alarm."""
        def dims(d):
            return [{"Name": k, "Value": self.resolve(env, v)} for k, v in sorted(d.items())]
        p = {"AlarmName": body["alarm_name"], "AlarmDescription": body["alarm_description"],
             "ComparisonOperator": body["comparison_operator"], "EvaluationPeriods": body["evaluation_periods"],
             "Threshold": float(body["threshold"]), "TreatMissingData": body["treat_missing_data"]}
        if "datapoints_to_alarm" in body:
            p["DatapointsToAlarm"] = body["datapoints_to_alarm"]
        if "alarm_actions" in body:
            p["AlarmActions"] = body["alarm_actions"]
        if "ok_actions" in body:
            p["OKActions"] = body["ok_actions"]
        if "metric_query" in body:
            p["Metrics"] = []
            for q in body["metric_query"]:
                m = {"Id": q["id"], "ReturnData": q["return_data"]}
                if "expression" in q:
                    m["Expression"] = q["expression"]
                    if "label" in q:
                        m["Label"] = q["label"]
                else:
                    mm = q["metric"]
                    m["MetricStat"] = {"Metric": {"Namespace": mm["namespace"], "MetricName": mm["metric_name"],
                                                  "Dimensions": dims(mm["dimensions"])},
                                       "Period": mm["period"], "Stat": mm["stat"]}
                p["Metrics"].append(m)
        else:
            p.update(MetricName=body["metric_name"], Namespace=body["namespace"], Period=body["period"],
                     Dimensions=dims(body.get("dimensions", {})))
            if "extended_statistic" in body:
                p["ExtendedStatistic"] = body["extended_statistic"]
            else:
                p["Statistic"] = body["statistic"]
        return p

    def put_alarms(self, env):
        """Creates every alarm of the module as `terraform apply` would (terraform() made
        placeholders of the watched ones), each OK."""
        for body in self.alarm_defs(env).values():
            self.cw.put_metric_alarm(**self.alarm_request(env, body))
            self.cw.set_alarm_state(AlarmName=body["alarm_name"], StateValue="OK", StateReason="created by the test")

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
        return [self.gops, "apply", self.spec, "--env", env, "--image-tag", tag, "--tf-outputs", self.tf_file(env),
                "--journal", os.path.join(self.work, f"{env}.journal.jsonl"), *FAST, *extra]

    def apply(self, env, tag, *extra):
        p = subprocess.run(self.apply_cmd(env, tag, *extra), env=self.env, capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def rollback(self, env, *extra):
        cmd = [self.gops, "rollback", self.spec, "--env", env, "--tf-outputs", self.tf_file(env),
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


def run_suite(name, doc, tests, envs, prepare=None, spec=SPEC, proxy=None):
    """Runs `tests` (or those named on the command line) against one moto_server and a
    World of `spec` with the Terraform-like resources of `envs`; `prepare(world)` runs
    first. With `proxy(moto port)`, gops talks to the proxy it returns (which has an
    `endpoint` and `stop()`), the test's clients to moto. Prints PASS/FAIL per test;
    returns the exit code. Shared with run_gates_tests.py, run_spot_tests.py, run_native_tests.py,
    run_alarm_tests.py and run_migration_tests.py."""
    if len(sys.argv) < 2:
        print(doc, file=sys.stderr)
        return 2
    gops = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    moto = Moto()
    front = proxy(moto.port) if proxy else None
    work = tempfile.mkdtemp(prefix=f"gops-{name}-")
    failed = 0
    try:
        w = World(moto, gops, work, spec, front.endpoint if front else None)
        w.proxy = front
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
        if front:
            front.stop()
        moto.stop()
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
    print(f"run_{name}_tests.py: {failed} failed")
    return 1 if failed else 0
