#!/usr/bin/env python3
"""End-to-end tests of ECS's own strategies (`engine = ecs`) against a private moto_server.

    run_native_tests.py <path to gops> [test name ...]

Builds tests/runtime/deploy/native.gops (a canary, a blue/green and a linear service
that ECS runs itself), creates what its Terraform module would have created from the
generated files (the services from their generated CreateService input, strategy and
advanced configuration included) and runs `gops apply`, `rollback`, `status` and
`drift`.

What moto does not do, and how the tests stand in for it (docs/runtime.md, Tests):
moto accepts `deploymentConfiguration.strategy` and `advancedConfiguration` but neither
enacts nor echoes them, and it has no service-deployments API. gops talks to moto
through EcsDeployments, a proxy that passes everything to moto and adds, for the
services a test scripts, what ECS would say: `currentServiceDeployment` on the service,
DescribeServiceDeployments answered from the test's script (phases, weights, triggered
alarms, ECS's own rollback, during which it puts the service back on its previous
revision as ECS does), StopServiceDeployment (a rollback), and the deployment
configuration echoed by DescribeServices. Services no test scripts run on moto alone:
gops then follows DescribeServices' deployments, whose rollout moto completes at once.
Exit 77 (CTest: skipped) when moto_server or boto3 is missing.
"""
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ACCOUNT, REGION, Failure, check, run_suite, run_until_event  # noqa: E402,F401  (exits 77 without moto/boto3)

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "native.gops")
ENV = "prod"
ECS_TARGET = "AmazonEC2ContainerServiceV20141113."


class EcsDeployments:
    """A proxy in front of moto that plays ECS's service deployments for scripted services."""

    def __init__(self, target_port):
        proxy = self
        self.lock = threading.Lock()
        self.scripts = {}      # ECS service name -> the states of its next deployment
        self.deployments = {}  # ARN -> {"service", "states", "i", "source", "target", "reverted"}
        self.current = {}      # ECS service name -> ARN of its current deployment
        self.configs = {}      # ECS service name -> the deployment configuration last sent
        self.calls = []        # (operation, request) of every ECS call gops made
        self.services_before = {}  # ECS service name -> its revision when last described
        self.target_port = target_port

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                try:
                    self.serve()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a gops the test killed

            def serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                op = target[len(ECS_TARGET):] if target.startswith(ECS_TARGET) else ""
                req = json.loads(body or b"{}") if op else {}
                if op:
                    with proxy.lock:
                        proxy.calls.append((op, req))
                if op == "DescribeServiceDeployments":
                    return self.answer(200, proxy.describe(req))
                if op == "StopServiceDeployment":
                    return self.answer(*proxy.stop(req))
                status, headers, data = proxy.forward(self.path, self.headers, body)
                if op and status == 200:
                    data = proxy.amend(op, req, json.loads(data))
                    data = json.dumps(data).encode()
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def answer(self, status, doc):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self, req=None):
        if req is None:  # the harness stops the proxy
            self.server.shutdown()
            self.server.server_close()
            return None
        arn = req.get("serviceDeploymentArn", "")
        with self.lock:
            d = self.deployments.get(arn)
            if d is None:
                return 400, {"__type": "ServiceDeploymentNotFoundException", "message": f"{arn} not found"}
            if d["states"][d["i"]]["status"] not in ("PENDING", "IN_PROGRESS"):
                return 400, {"__type": "ConflictException", "message": "the deployment is not in progress"}
            d["states"] = d["states"][: d["i"] + 1] + [
                {"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "weight": 0,
                 "rollback": "Stopped with a rollback by the caller"},
                {"status": "ROLLBACK_SUCCESSFUL", "lifecycleStage": "CLEAN_UP", "weight": 0,
                 "rollback": "Stopped with a rollback by the caller"}]
        return 200, {"serviceDeploymentArn": arn}

    def forward(self, path, headers, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=60)
        conn.request("POST", path, body=body, headers={k: v for k, v in headers.items() if k.lower() not in ("host", "connection")})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), data

    def moto_ecs(self, op, req):
        body = json.dumps(req).encode()
        headers = {"X-Amz-Target": ECS_TARGET + op, "Content-Type": "application/x-amz-json-1.1",
                   "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIAGOPSTEST/20260101/{REGION}/ecs/aws4_request"}
        status, _, data = self.forward("/", headers, body)
        if status != 200:
            raise RuntimeError(f"moto {op}: {status} {data[:200]}")
        return json.loads(data)

    def amend(self, op, req, res):
        """What ECS says and moto does not: the deployment a scripted update started, and
        the deployment configuration."""
        name = req.get("service", req.get("serviceName", "")).split("/")[-1]
        with self.lock:
            if op in ("CreateService", "UpdateService") and "deploymentConfiguration" in req:
                self.configs[name] = req["deploymentConfiguration"]
            if op == "UpdateService" and req.get("taskDefinition") and name not in self.scripts:
                self.current.pop(name, None)  # a deployment of moto's alone
            if op == "UpdateService" and req.get("taskDefinition") and name in self.scripts:
                arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{req.get('cluster', 'default')}/{name}/{uuid.uuid4().hex[:12]}"
                before = self.services_before.get(name, "")
                self.deployments[arn] = {"service": name, "cluster": req.get("cluster"), "states": self.scripts.pop(name), "i": -1,
                                         "source": before, "target": req["taskDefinition"], "reverted": False}
                self.current[name] = arn
            services = [res["service"]] if "service" in res else res.get("services", [])
            for svc in services:
                n = svc.get("serviceName", "")
                if n in self.current:
                    svc["currentServiceDeployment"] = self.current[n]
                if n in self.configs:
                    svc["deploymentConfiguration"] = dict(svc.get("deploymentConfiguration", {}), **self.configs[n])
                if op == "DescribeServices":
                    self.services_before[n] = svc.get("taskDefinition", "")
        return res

    def describe(self, req):
        out = []
        revert = []
        with self.lock:
            for arn in req.get("serviceDeploymentArns", []):
                d = self.deployments.get(arn)
                if d is None:
                    continue
                d["i"] = min(d["i"] + 1, len(d["states"]) - 1)
                st = d["states"][d["i"]]
                doc = {"serviceDeploymentArn": arn, "status": st["status"], "lifecycleStage": st.get("lifecycleStage", ""),
                       "targetServiceRevision": {"arn": d["target"], "requestedProductionTrafficWeight": st.get("weight", 0)},
                       "alarms": {"status": "TRIGGERED" if st.get("triggered") else "MONITORING",
                                  "triggeredAlarmNames": st.get("triggered", [])}}
                if "rollback" in st:
                    doc["rollback"] = {"reason": st["rollback"]}
                    doc["statusReason"] = st.get("reason", "")
                    if not d["reverted"] and d["source"]:
                        d["reverted"] = True
                        revert.append(d)
                out.append(doc)
        for d in revert:  # ECS's rollback puts the previous revision back
            self.moto_ecs("UpdateService", {"cluster": d["cluster"], "service": d["service"], "taskDefinition": d["source"]})
        return {"serviceDeployments": out, "failures": []}

    def ops(self, op, service=None):
        with self.lock:
            return [r for o, r in self.calls if o == op and (service is None or r.get("service", "").split("/")[-1] == service)]


def ecs_name(w, name):
    return next(s for s in w.plan(ENV)["services"] if s["name"] == name)["ecs_service"]


def image_tag(w, name):
    return w.image_of(w.service(ENV, name)["taskDefinition"]).rsplit(":", 1)[1]


def events_of(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def apply_json(w, tag, *extra):
    code, out, err = w.apply(ENV, tag, "--format", "json", *extra)
    return code, events_of(out), out + err


# --- the tests -----------------------------------------------------------------------


def test_service_json_accepted(w):
    """The harness created each service from its generated CreateService input."""
    for name, strategy in (("shop", "CANARY"), ("pay", "BLUE_GREEN"), ("feed", "LINEAR")):
        with open(os.path.join(w.out, ENV, "ecs", f"{name}.service.json")) as f:
            doc = json.load(f)
        check(doc["deploymentConfiguration"]["strategy"] == strategy, f"{name}: {doc['deploymentConfiguration']}")
        check("advancedConfiguration" in doc["loadBalancers"][0], f"{name}: {doc['loadBalancers']}")
        svc = w.service(ENV, name)
        check(svc["status"] == "ACTIVE" and svc["deploymentController"]["type"] == "ECS", f"{name}: {svc}")
        blue = w.tf[ENV][f"{name}_target_group_blue_arn"]["value"]
        check(svc["loadBalancers"][0]["targetGroupArn"] == blue, f"{name} starts on blue: {svc['loadBalancers']}")
    check(not os.path.exists(os.path.join(w.out, ENV, "ecs", "shop.blue.taskset.json")), "no task set files")


def test_apply_follows_to_completion(w):
    """No service-deployments API (moto): gops follows DescribeServices' deployments."""
    code, events, text = apply_json(w, "v1")
    check(code == 0, f"exit {code}\n{text}")
    for name in ("shop", "pay", "feed"):
        check(image_tag(w, name) == "v1", f"{name} runs v1")
        rec = w.ledger(ENV, f"services/{name}")
        check(rec["status"] == "succeeded" and rec["image_tag"] == "v1", f"ledger of {name}: {rec}")
        started = [e for e in events if e["event"] == "deployment_started" and e.get("service") == name]
        check(len(started) == 1, f"{name}: one deployment started: {started}")
        done = [e for e in events if e["event"] == "deployment_succeeded" and e.get("service") == name]
        check(len(done) == 1, f"{name}: ECS's deployment followed to its end\n{text}")
        steps = [e["action"] for e in events if e["event"] == "step" and e.get("service") == name]
        check(steps == ["register_task_definition", "start_deployment", "follow_deployment"], f"{name}: {steps}")
    # gops started each deployment with the compiled strategy.
    update = w.proxy.ops("UpdateService", ecs_name(w, "shop"))[-1]
    config = update["deploymentConfiguration"]
    check(config["strategy"] == "CANARY" and config["canaryConfiguration"] == {"canaryPercent": 10, "canaryBakeTimeInMinutes": 1},
          f"shop's update: {update}")
    check(config["alarms"] == {"alarmNames": ["native-prod-shop-errors"], "rollback": True, "enable": True}, f"{config}")
    check("loadBalancers" not in update, "the load balancers stay as ECS left them")
    follow = next(e for e in events if e["event"] == "step" and e.get("service") == "shop" and e["action"] == "follow_deployment")
    check(follow["time_left"] == 60, f"time left of the follow: the canary's bake: {follow}")
    check(events[-1]["event"] == "result" and events[-1]["status"] == "succeeded", f"{events[-1]}")


def test_ecs_deployment_progress(w):
    """ECS's account of its deployment: phases and weights as it shifts, then success."""
    w.proxy.scripts[ecs_name(w, "shop")] = [
        {"status": "IN_PROGRESS", "lifecycleStage": "SCALE_UP", "weight": 0},
        {"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "weight": 10},
        {"status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME", "weight": 10},
        {"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "weight": 100},
        {"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP", "weight": 100}]
    code, events, text = apply_json(w, "v2")
    check(code == 0, f"exit {code}\n{text}")
    mine = [e for e in events if e.get("service") == "shop"]
    phases = [e["phase"] for e in mine if e["event"] == "phase"]
    check(phases == ["SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "PRODUCTION_TRAFFIC_SHIFT", "CLEAN_UP"], f"phases {phases}")
    weights = [e["weight"] for e in mine if e["event"] == "weights"]
    check(weights == [0, 10, 100], f"weights {weights}")
    started = next(e for e in mine if e["event"] == "deployment_started")
    check(started["service_deployment"].startswith("arn:aws:ecs:"), f"{started}")
    check(image_tag(w, "shop") == "v2", "shop runs v2")
    st = subprocess.run([w.gops, "status", SPEC, "--env", ENV, "--tf-outputs", w.tf_file(ENV), "--format", "json"], env=w.env,
                        capture_output=True, text=True, timeout=60)
    check(st.returncode == 0, st.stdout + st.stderr)
    shop = next(s for s in json.loads(st.stdout)["services"] if s["name"] == "shop")
    check(shop["engine"] == "ecs" and shop["ecs_deployment"]["status"] == "SUCCESSFUL" and shop["ecs_deployment"]["weight"] == 100,
          f"status: {shop}")
    check(shop["ecs_deployment"]["strategy"] == "CANARY", f"status: {shop}")
    text = subprocess.run([w.gops, "status", SPEC, "--env", ENV, "--tf-outputs", w.tf_file(ENV)], env=w.env, capture_output=True,
                          text=True, timeout=60).stdout
    check("ECS       CANARY deployment SUCCESSFUL (CLEAN_UP), 100% of production traffic on its revision" in text, text)


def test_ecs_rolls_back(w):
    """ECS rolls back on its alarm: gops reports what ECS said, exit 3, the wave rolled back."""
    before = {n: image_tag(w, n) for n in ("shop", "pay", "feed")}
    w.proxy.scripts[ecs_name(w, "shop")] = [
        {"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "weight": 10},
        {"status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME", "weight": 10, "triggered": ["native-prod-shop-errors"]},
        {"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "weight": 0,
         "triggered": ["native-prod-shop-errors"], "rollback": "CloudWatch alarm native-prod-shop-errors is in ALARM"},
        {"status": "ROLLBACK_SUCCESSFUL", "lifecycleStage": "CLEAN_UP", "weight": 0, "triggered": ["native-prod-shop-errors"],
         "rollback": "CloudWatch alarm native-prod-shop-errors is in ALARM"}]
    code, events, text = apply_json(w, "v3", "--max-parallel", "1")
    check(code == 3, f"exit {code}, expected 3\n{text}")
    rb = next(e for e in events if e["event"] == "rollback" and e.get("service") == "shop")
    check(rb["trigger"] == "ecs_rollback" and "native-prod-shop-errors" in rb["reason"] and "ECS rolled the deployment back" in rb["reason"],
          f"{rb}")
    check(any(e["event"] == "alarm" and e.get("service") == "shop" and e["alarm"] == "native-prod-shop-errors" for e in events),
          "the triggered alarm is reported")
    rec = w.ledger(ENV, "services/shop")
    check(rec["status"] == "rolled_back" and "native-prod-shop-errors" in rec["reason"], f"ledger {rec}")
    for n in ("shop", "pay", "feed"):
        check(image_tag(w, n) == before[n], f"{n} runs {before[n]} again, not {image_tag(w, n)}")
    check(not w.proxy.ops("StopServiceDeployment"), "ECS rolled back by itself: gops stopped nothing")


def test_alarm_asks_ecs_to_roll_back(w):
    """gops sees the alarm first: it stops ECS's deployment with a rollback."""
    before = image_tag(w, "shop")
    w.proxy.scripts[ecs_name(w, "shop")] = [{"status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME", "weight": 10}]
    w.cw.set_alarm_state(AlarmName="native-prod-shop-errors", StateValue="ALARM", StateReason="the test sets it")
    try:
        code, events, text = apply_json(w, "v3", "--max-parallel", "1")
    finally:
        w.cw.set_alarm_state(AlarmName="native-prod-shop-errors", StateValue="OK", StateReason="the test resets it")
    check(code == 3, f"exit {code}, expected 3\n{text}")
    stops = w.proxy.ops("StopServiceDeployment")
    check(len(stops) == 1 and stops[0]["stopType"] == "ROLLBACK", f"StopServiceDeployment calls: {stops}")
    check(image_tag(w, "shop") == before, "shop runs its previous revision")
    rb = next(e for e in events if e["event"] == "rollback" and e.get("service") == "shop")
    check(rb["trigger"] == "alarm", f"{rb}")


def test_alarm_rollback_without_deployment_api(w):
    """No deployment to stop (moto alone): the previous revision at once, alarms off, then the configuration back."""
    before = {n: w.service(ENV, n)["taskDefinition"] for n in ("shop", "pay", "feed")}
    calls = len(w.proxy.ops("UpdateService", ecs_name(w, "pay")))
    w.cw.set_alarm_state(AlarmName="native-prod-pay-errors", StateValue="ALARM", StateReason="the test sets it")
    try:
        code, events, text = apply_json(w, "v3")
    finally:
        w.cw.set_alarm_state(AlarmName="native-prod-pay-errors", StateValue="OK", StateReason="the test resets it")
    check(code == 3, f"exit {code}, expected 3\n{text}")
    for n in ("shop", "pay", "feed"):
        check(w.service(ENV, n)["taskDefinition"] == before[n], f"{n} runs {before[n]} again")
    updates = w.proxy.ops("UpdateService", ecs_name(w, "pay"))[calls:]
    check(len(updates) == 3, f"pay: the deploy, the way back and the configuration back: {updates}")
    back, config = updates[1], updates[2]
    check(back["taskDefinition"] == before["pay"], f"{back}")
    check(back["deploymentConfiguration"]["strategy"] == "BLUE_GREEN" and back["deploymentConfiguration"]["bakeTimeInMinutes"] == 0
          and back["deploymentConfiguration"]["alarms"]["enable"] is False, f"the way back switches at once, alarms off: {back}")
    check("taskDefinition" not in config and config["deploymentConfiguration"]["alarms"]["enable"] is True
          and config["deploymentConfiguration"]["bakeTimeInMinutes"] == 1, f"the configuration back: {config}")
    check(w.ledger(ENV, "services/pay")["status"] == "rolled_back", "ledger")


def test_rollback_command(w):
    """`gops rollback` of a native service: the previous revision, switched at once."""
    code, events, text = apply_json(w, "v1")
    check(code == 0, f"exit {code}\n{text}")
    deployed = w.service(ENV, "feed")["taskDefinition"]
    previous = w.ledger(ENV, "services/feed")["previous_task_definition"]
    check(previous and previous != deployed, f"a previous revision: {previous}")
    code, out, err = w.rollback(ENV, "--service", "feed")
    check(code == 0, f"exit {code}\n{out}{err}")
    check(w.service(ENV, "feed")["taskDefinition"] == previous, "feed runs the previous revision")
    check("ECS deployment started (LINEAR, to restore)" not in out, out)
    check("ECS deployment started (BLUE_GREEN, to restore)" in out, out)
    rec = w.ledger(ENV, "services/feed")
    check(rec["status"] == "restored", f"ledger {rec}")


def test_drift(w):
    """The deployment configuration's strategy as ECS reports it (the proxy echoes it)."""
    code, _, text = apply_json(w, "v2")
    check(code == 0, f"exit {code}\n{text}")
    cmd = [w.gops, "drift", SPEC, "--env", ENV, "--tf-outputs", w.tf_file(ENV), "--format", "json"]
    p = subprocess.run(cmd, env=w.env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"no drift right after an apply: exit {p.returncode}\n{p.stdout}{p.stderr}")
    import boto3
    ecs = boto3.client("ecs", endpoint_url=w.proxy.endpoint, region_name=REGION, aws_access_key_id="AKIAGOPSTEST",
                       aws_secret_access_key="gops-test-secret")
    config = dict(w.proxy.configs[ecs_name(w, "pay")], strategy="ROLLING")
    ecs.update_service(cluster=w.plan(ENV)["cluster"], service=ecs_name(w, "pay"), deploymentConfiguration=config)
    p = subprocess.run(cmd, env=w.env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2, f"drift found: exit {p.returncode}\n{p.stdout}{p.stderr}")
    items = json.loads(p.stdout)["items"]
    check(any(i["service"] == "pay" and i["field"] == "deployment configuration strategy" and i["desired"] == "BLUE_GREEN"
              and i["live"] == "ROLLING" for i in items), f"{items}")


def test_resume_follows_again(w):
    """An apply killed while ECS deploys: ECS goes on; --resume follows the same deployment."""
    w.proxy.scripts[ecs_name(w, "shop")] = (
        [{"status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME", "weight": 10}] * 40
        + [{"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP", "weight": 100}])
    proc, lines = run_until_event(w, w.apply_cmd(ENV, "v3", "--format", "json"),
                                  lambda e: e["event"] == "phase" and e.get("service") == "shop")
    proc.kill()
    proc.wait(timeout=30)
    started = [json.loads(x) for x in lines if '"deployment_started"' in x and '"shop"' in x]
    check(len(started) == 1, "".join(lines))
    check(w.ledger(ENV, "deploy")["status"] == "in_progress", "the dead apply's record")
    updates = len([u for u in w.proxy.ops("UpdateService", ecs_name(w, "shop")) if "taskDefinition" in u])
    code, events, text = apply_json(w, "v3", "--resume")
    check(code == 0, f"exit {code}\n{text}")
    resume = next(e for e in events if e["event"] == "resume" and e.get("service") == "shop")
    check(resume["index"] == 3, f"re-entered at follow_deployment: {resume}")
    again = len([u for u in w.proxy.ops("UpdateService", ecs_name(w, "shop")) if "taskDefinition" in u])
    check(again == updates, "no second deployment started")
    check(any(e["event"] == "deployment_succeeded" and e.get("service") == "shop" for e in events), text)
    check(image_tag(w, "shop") == "v3" and w.ledger(ENV, "services/shop")["status"] == "succeeded", "shop deployed v3")


TESTS = [test_service_json_accepted, test_apply_follows_to_completion, test_ecs_deployment_progress, test_ecs_rolls_back,
         test_alarm_asks_ecs_to_roll_back, test_alarm_rollback_without_deployment_api, test_rollback_command, test_drift,
         test_resume_follows_again]


def main():
    return run_suite("native", __doc__, TESTS, (ENV,), spec=SPEC, proxy=EcsDeployments)


if __name__ == "__main__":
    sys.exit(main())
