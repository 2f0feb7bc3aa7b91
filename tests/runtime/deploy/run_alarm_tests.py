#!/usr/bin/env python3
"""The rollback alarms of a canary judged on the new version, end to end against a
private moto_server (CTest `runtime.alarms`), on the spec judgedapp.gops:

  - every alarm the environment's Terraform module defines is accepted by CloudWatch's
    PutMetricAlarm (moto), with the `notify` topic as its ALARM and OK action;
  - each rollback alarm's value, computed from metrics put with PutMetricData: moto
    answers GetMetricData for each metric the alarm's `metric_query` names, and
    metric_math.py evaluates the alarm's expressions and its threshold, since moto
    evaluates neither metric math (an expression only returns the query it names) nor
    alarms. The per-colour alarm crosses its threshold only when the new version fails,
    at a 10% canary too; a minute with fewer than `min_requests` requests gives no
    verdict; a comparison with the stable version ignores errors both versions share;
  - `gops apply` watches the alarms of the colour its new version goes behind: the
    other colour's in ALARM does not roll it back, its own does; a leftover ALARM of the
    colour it would deploy into refuses it before anything changes.

Usage: run_alarm_tests.py GOPS [test_name ...]   (exit 77 when moto_server or boto3 is missing)
"""
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import HERE, arn_suffix, check, run_suite, run_until_event  # noqa: E402  (exits 77 without moto/boto3)
from metric_math import evaluate_alarm, evaluate_queries  # noqa: E402

SPEC = os.path.join(HERE, "judgedapp.gops")
ENV = "canary"
TOPIC = "arn:aws:sns:us-east-1:123456789012:judged-oncall"
MIN_REQUESTS = 20  # judgedapp.gops


def alarm_defs(w):
    """The environment module's alarms by Terraform block name."""
    return w.alarm_defs(ENV)


def put_metric_alarm_params(w, body):
    return w.alarm_request(ENV, body)


def put_alarms(w):
    w.put_alarms(ENV)


def dimensions(w, dims):
    return [{"Name": k, "Value": w.resolve(ENV, v)} for k, v in sorted(dims.items())]


def test_alarms_accepted(w):
    """Every alarm of the module, as CloudWatch takes it: metric math, SNS actions."""
    defs = alarm_defs(w)
    for name, body in sorted(defs.items()):
        check(body.get("alarm_actions") == [TOPIC] and body.get("ok_actions") == [TOPIC],
              f"{name}: alarm_actions and ok_actions are the notify topic: {body.get('alarm_actions')} {body.get('ok_actions')}")
    put_alarms(w)
    live = {a["AlarmName"]: a for a in w.cw.describe_alarms(AlarmNames=[b["alarm_name"] for b in defs.values()])["MetricAlarms"]}
    check(len(live) == len(defs), f"{len(defs)} alarms defined, CloudWatch has {len(live)}")
    for body in defs.values():
        a = live[body["alarm_name"]]
        check(a.get("AlarmActions") == [TOPIC] and a.get("OKActions") == [TOPIC], f"{a['AlarmName']}: actions {a}")
        if "metric_query" in body:
            check(sorted(m["Id"] for m in a["Metrics"]) == sorted(q["id"] for q in body["metric_query"]),
                  f"{a['AlarmName']}: the metric queries")
    # Every alarm the plan watches is one of them.
    watch = w.plan(ENV)["services"][0]["watch"]
    for name in watch["alarms"] + watch["alarms_by_new_color"]["blue"] + watch["alarms_by_new_color"]["green"]:
        check(name in live, f"the plan watches {name}, which the module does not define")


# --- the alarms' values, from metrics put with PutMetricData -------------------------

class Scenario:
    """Five minutes of load balancer metrics per colour, in a time window of their own
    (scenarios never share a minute), and the alarms evaluated on them."""
    count = 0

    def __init__(self, w, blue, green, minutes=5):
        """blue, green: (requests, 5xx, latency seconds) per minute, or None for a colour
        serving nothing."""
        Scenario.count += 1
        self.w = w
        base = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(days=1)
        self.start = base + datetime.timedelta(hours=Scenario.count)
        self.grid = [int((self.start + datetime.timedelta(minutes=i)).timestamp()) for i in range(minutes)]
        tf = w.tf[ENV]
        alb = arn_suffix(tf["alb_arn"]["value"])
        data = []
        for color, load in (("blue", blue), ("green", green)):
            if load is None:
                continue
            requests, errors, latency = load
            dims = [{"Name": "LoadBalancer", "Value": alb},
                    {"Name": "TargetGroup", "Value": arn_suffix(tf[f"web_target_group_{color}_arn"]["value"])}]
            for ts in self.grid:
                at = datetime.datetime.fromtimestamp(ts + 10, datetime.timezone.utc)
                data.append({"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at, "Value": requests})
                if errors:  # the load balancer publishes no datapoint for 0
                    data.append({"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": at, "Value": errors})
                # One response time a minute: its p99 is itself (see fetch).
                data.append({"MetricName": "TargetResponseTime", "Dimensions": dims, "Timestamp": at, "Value": latency})
        for i in range(0, len(data), 20):
            w.cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[i:i + 20])

    def fetch(self, queries):
        """Each metric query's series from moto's GetMetricData. moto computes no
        percentiles (`p99` gives nothing): each minute holds one response time, whose
        p99 is that value, so the test asks for its Maximum."""
        requests = []
        for q in queries:
            if "metric" not in q:
                continue
            m = q["metric"]
            stat = "Maximum" if m["stat"].startswith("p") else m["stat"]
            requests.append({"Id": q["id"], "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": m["namespace"], "MetricName": m["metric_name"], "Dimensions": dimensions(self.w, m["dimensions"])},
                "Period": m["period"], "Stat": stat}})
        r = self.w.cw.get_metric_data(MetricDataQueries=requests, StartTime=self.start,
                                      EndTime=self.start + datetime.timedelta(minutes=len(self.grid)))
        data = {}
        for res in r["MetricDataResults"]:
            data[res["Id"]] = {int(t.timestamp()): v for t, v in zip(res["Timestamps"], res["Values"])}
        return data

    def alarm(self, block):
        """(state, the alarm's series) of the module's alarm `block` on this scenario."""
        body = alarm_defs(self.w)[block]
        series = evaluate_queries(body["metric_query"], self.grid, self.fetch(body["metric_query"]))
        return evaluate_alarm(body, series, self.grid), series


THRESHOLD = "web_rollback_http_5xx_rate"                  # > 2%, the worse colour
VS_STABLE_GREEN = "web_rollback_http_5xx_rate_2_new_green"  # > stable + 1%, new version behind green
VS_STABLE_BLUE = "web_rollback_http_5xx_rate_2_new_blue"
LATENCY_GREEN = "web_rollback_p99_latency_new_green"      # p99 > stable + 200ms for 2m


def expect(s, block, state, why):
    got, series = s.alarm(block)
    check(got == state, f"{block}: {got}, expected {state}: {why}\n  values by minute: {series}")
    return series


def test_threshold_judges_each_color(w):
    """At a 10% canary the new version's own rate decides, not the service's."""
    # Blue serves 900 requests a minute with 0.5% errors, green (the canary) 100 with 5%.
    s = Scenario(w, blue=(900, 4.5, 0.2), green=(100, 5, 0.2))
    series = expect(s, THRESHOLD, "ALARM", "the canary fails 5% of its requests, over the 2% threshold")
    check(all(abs(v - 5) < 1e-9 for v in series.values()), f"the worse colour is green at 5%: {series}")
    whole = 100 * (4.5 + 5) / (900 + 100)
    check(whole < 2, f"the whole service's rate is {whole:.2f}%: a rate over both colours would not have fired")
    # The same canary failing 1% of its requests: no rollback.
    expect(Scenario(w, blue=(900, 4.5, 0.2), green=(100, 1, 0.2)), THRESHOLD, "OK", "1% is under the threshold")
    # Before any canary: green serves nothing, blue is judged alone.
    expect(Scenario(w, blue=(1000, 5, 0.2), green=None), THRESHOLD, "OK", "blue alone at 0.5%")


def test_min_requests(w):
    """A colour's minute with fewer than min_requests requests gives no verdict."""
    # 10 requests a minute at the canary, half failing: no verdict on green.
    s = Scenario(w, blue=(990, 0, 0.2), green=(10, 5, 0.2))
    series = expect(s, THRESHOLD, "OK", f"green served under {MIN_REQUESTS} requests a minute; blue's 0% decides")
    check(all(v == 0 for v in series.values()), f"only blue's rate counts: {series}")
    expect(s, VS_STABLE_GREEN, "INSUFFICIENT_DATA", "no minute in which both colours have a verdict")
    # Exactly min_requests counts.
    expect(Scenario(w, blue=(980, 0, 0.2), green=(MIN_REQUESTS, 10, 0.2)), THRESHOLD, "ALARM",
           f"{MIN_REQUESTS} requests a minute, half failing")


def test_baseline_ignores_shared_errors(w):
    """`> stable + 1%`: errors both versions have (a failing dependency) do not roll back."""
    s = Scenario(w, blue=(900, 54, 0.2), green=(100, 6, 0.2))  # both 6%
    expect(s, VS_STABLE_GREEN, "OK", "green is no worse than blue")
    expect(s, THRESHOLD, "ALARM", "while the 2% threshold fires on either colour at 6%")
    # The new version worse by 3 points: its own alarm fires, the other colour's does not.
    s = Scenario(w, blue=(900, 9, 0.2), green=(100, 4, 0.2))  # 1% and 4%
    series = expect(s, VS_STABLE_GREEN, "ALARM", "green is 3 points worse than blue")
    check(all(abs(v - 3) < 1e-9 for v in series.values()), f"green minus blue is 3: {series}")
    expect(s, VS_STABLE_BLUE, "OK", "blue minus green is -3: a deploy into blue would be better, not worse")
    # Worse by less than the margin.
    expect(Scenario(w, blue=(900, 9, 0.2), green=(100, 1.5, 0.2)), VS_STABLE_GREEN, "OK", "0.5 points over blue")


def test_baseline_latency(w):
    """`p99_latency > stable + 200ms for 2m`, on the new colour's p99 minus the stable one's."""
    expect(Scenario(w, blue=(900, 0, 0.30), green=(100, 0, 0.35)), LATENCY_GREEN, "OK", "50 ms slower")
    expect(Scenario(w, blue=(900, 0, 0.30), green=(100, 0, 0.80)), LATENCY_GREEN, "ALARM", "500 ms slower for 5 minutes")
    expect(Scenario(w, blue=(900, 0, 0.30), green=(10, 0, 0.80)), LATENCY_GREEN, "INSUFFICIENT_DATA",
           f"green served under {MIN_REQUESTS} requests a minute")


# --- what a deploy watches -------------------------------------------------------------

def names(w, color):
    return w.plan(ENV)["services"][0]["watch"]["alarms_by_new_color"][color]


def set_state(w, alarms, state):
    for a in alarms:
        w.cw.set_alarm_state(AlarmName=a, StateValue=state, StateReason="the test sets it")


def apply_setting(w, tag, alarms):
    """Applies TAG; once the canary holds at 10%, sets `alarms` to ALARM."""
    proc, lines = run_until_event(w, w.apply_cmd(ENV, tag, "--format", "json"),
                                  lambda e: e["event"] == "weights" and e.get("service") == "web" and e["weight"] == 10)
    set_state(w, alarms, "ALARM")
    rest, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(lines) + rest, err


def stable_color(w):
    tgs = {w.tf[ENV][f"web_target_group_{c}_arn"]["value"]: c for c in ("blue", "green")}
    weights = w.weights(ENV, "web")
    return next(tgs[arn] for arn, weight in weights.items() if weight == 100)


def test_other_color_alarm_ignored(w):
    """Blue stable, the new version behind green: the blue alarms in ALARM change nothing."""
    check(stable_color(w) == "blue", "blue serves before the first deploy")
    code, out, err = apply_setting(w, "v1", names(w, "blue"))
    check(code == 0, f"exit {code}, expected 0: the blue alarms compare blue with green, not this deploy\n{out}{err}")
    check(stable_color(w) == "green", "green serves after the deploy")
    # gops status shows every alarm, both colours'.
    st = subprocess.run([w.gops, "status", SPEC, "--env", ENV, "--tf-outputs", w.tf_file(ENV), "--format", "json"],
                        env=w.env, capture_output=True, text=True, timeout=60)
    check(st.returncode == 0, st.stdout + st.stderr)
    alarms = json.loads(st.stdout)["services"][0]["alarms"]
    check(all(alarms.get(a) == "ALARM" for a in names(w, "blue")) and all(alarms.get(a) == "OK" for a in names(w, "green")),
          f"status shows both colours' alarms: {alarms}")


def test_leftover_alarm_refuses(w):
    """Green stable: the next new version goes behind blue, whose alarm is still in ALARM
    from before: refused before anything changes, naming it."""
    set_state(w, names(w, "blue")[:1], "ALARM")
    before = w.service(ENV, "web")["taskSets"]
    code, out, err = w.apply(ENV, "v2")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    check(names(w, "blue")[0] in out and "left by an earlier deploy into blue" in out, "names the alarm and why:\n" + out)
    check(len(w.service(ENV, "web")["taskSets"]) == len(before), "nothing changed")
    set_state(w, names(w, "blue"), "OK")


def test_own_color_alarm_rolls_back(w):
    """Green stable, the new version behind blue: blue's comparison in ALARM rolls it back."""
    check(stable_color(w) == "green", "green serves before this deploy")
    code, out, err = apply_setting(w, "v2", names(w, "blue")[:1])
    try:
        check(code == 3, f"exit {code}, expected 3 (rolled back)\n{out}{err}")
        events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        rollback = [e for e in events if e["event"] == "rollback"]
        check(rollback and names(w, "blue")[0] in json.dumps(rollback[0]), f"the rollback names the alarm: {rollback}")
        check(stable_color(w) == "green", "all traffic back on green")
        check(w.ledger(ENV, "services/web")["status"] == "rolled_back", "the ledger says rolled back")
    finally:
        set_state(w, names(w, "blue"), "OK")


def test_own_color_alarm_green(w):
    """And the other way round: blue stable again after a deploy into blue, then green's
    alarm rolls back a deploy into green. (Green is stable here: deploy once into blue.)"""
    code, out, err = w.apply(ENV, "v3")
    check(code == 0, f"deploy into blue: exit {code}\n{out}{err}")
    check(stable_color(w) == "blue", "blue serves")
    code, out, err = apply_setting(w, "v1", names(w, "green")[1:])  # the latency comparison
    try:
        check(code == 3, f"exit {code}, expected 3\n{out}{err}")
        check(names(w, "green")[1] in out, "names the latency alarm:\n" + out)
        check(stable_color(w) == "blue", "all traffic back on blue")
    finally:
        set_state(w, names(w, "green"), "OK")


def test_drift_compares_color_alarms(w):
    """`gops drift` compares every alarm, both colours', with the module's definitions."""
    put_alarms(w)
    w.cw.put_metric_alarm(**dict(put_metric_alarm_params(w, alarm_defs(w)[VS_STABLE_GREEN]), Threshold=5.0))
    p = subprocess.run([w.gops, "drift", SPEC, "--env", ENV, "--tf-outputs", w.tf_file(ENV), "--format", "json"],
                       env=w.env, capture_output=True, text=True, timeout=60)
    items = json.loads(p.stdout)["items"] if p.stdout.startswith("{") else []
    alarm_items = [i for i in items if i["field"].startswith("alarm ")]
    check(p.returncode == 2 and [i["field"] for i in alarm_items] == [f"alarm {names(w, 'green')[0]} Threshold"],
          f"exit {p.returncode}, the drifted threshold and nothing else of the alarms: {alarm_items}\n{p.stdout}{p.stderr}")
    w.cw.put_metric_alarm(**put_metric_alarm_params(w, alarm_defs(w)[VS_STABLE_GREEN]))


TESTS = [test_alarms_accepted, test_threshold_judges_each_color, test_min_requests, test_baseline_ignores_shared_errors,
         test_baseline_latency, test_other_color_alarm_ignored, test_leftover_alarm_refuses, test_own_color_alarm_rolls_back,
         test_own_color_alarm_green, test_drift_compares_color_alarms]

if __name__ == "__main__":
    sys.exit(run_suite("alarm", __doc__, TESTS, [ENV], spec=SPEC))
