#!/usr/bin/env python3
"""End-to-end tests of `gops apply` on Fargate Spot against a private moto_server.

    run_spot_tests.py <path to gops> [test name ...]

Builds tests/runtime/deploy/spotapp.gops, whose services run on Fargate Spot (a
capacity provider strategy in their service and task set files), and creates what
its environments' Terraform modules would have (harness.py): `rolling` creates its
cluster with the FARGATE and FARGATE_SPOT capacity providers; `shared` runs in an
existing cluster the test makes without them. Checks that moto's ECS takes the
service and task set documents as generated, that the preflight refuses a cluster
without FARGATE_SPOT (nothing changed), and that deploys pass the strategy through.
Exit 77 (CTest: skipped) when moto_server or boto3 is missing.

moto places a task set that names no launch type on container instances (it takes it
for EC2), so the test registers one in the existing cluster; real ECS runs the tasks
on Fargate Spot.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, run_suite  # noqa: E402  (exits 77 without moto/boto3)

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spotapp.gops")
EXISTING = "spotapp-platform"
SPOT = [{"capacityProvider": "FARGATE", "weight": 3, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 7, "base": 0}]


def prepare(w):
    # The platform team's cluster, without Fargate Spot; an instance moto can place task sets on.
    w.ecs.create_cluster(clusterName=EXISTING)
    image = w.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = w.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    w.ecs.register_container_instance(cluster=EXISTING, instanceIdentityDocument=json.dumps({"instanceId": instance}))


def test_generated_documents(w):
    # What Terraform (and a first deploy) created from the generated files took the strategy.
    for env in ("rolling", "shared"):
        doc = w.ecs_doc(env, "ecs/worker.service.json", "v0")
        check(doc["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}], str(doc))
        check("launchType" not in doc, "no launch type beside the strategy")
        check(w.service(env, "worker")["status"] == "ACTIVE", f"{env}: CreateService took the service file")
    ts = w.ecs_doc("shared", "ecs/web.blue.taskset.json", "v0")
    check(ts["capacityProviderStrategy"] == SPOT, str(ts))
    plan = w.plan("shared")
    svc = next(s for s in plan["services"] if s["name"] == "web")
    sets = w.ecs.describe_task_sets(cluster=EXISTING, service=svc["ecs_service"])["taskSets"]
    check(len(sets) == 1 and sets[0].get("capacityProviderStrategy") == SPOT, f"the first task set: {sets}")
    cluster = w.ecs.describe_clusters(clusters=["spotapp-rolling"])["clusters"][0]
    check(sorted(cluster.get("capacityProviders") or []) == ["FARGATE", "FARGATE_SPOT"], f"created with the providers: {cluster}")


def test_preflight_refuses_cluster_without_spot(w):
    family = "spotapp-shared-worker"
    before = len(w.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])
    code, out, err = w.apply("shared", "v1")
    check(code == 1, f"exit {code}, expected 1\n{out}{err}")
    # A strategy may name only providers of the cluster: FARGATE_SPOT for both, FARGATE
    # for web's on-demand share.
    check(f"the ECS cluster {EXISTING} has no capacity provider FARGATE_SPOT, which services web, worker run on" in out,
          "names the cluster, the provider and the services:\n" + out)
    check(f"the ECS cluster {EXISTING} has no capacity provider FARGATE, which service web runs on" in out, out)
    check("nothing was changed" in out, out)
    check(len(w.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]) == before, "no task definition registered")


def test_canary_on_spot(w):
    # Once the cluster has the providers, the deploy creates the new task set with the strategy.
    w.ecs.put_cluster_capacity_providers(cluster=EXISTING, capacityProviders=["FARGATE", "FARGATE_SPOT"],
                                         defaultCapacityProviderStrategy=[])
    code, out, err = w.apply("shared", "v1")
    check(code == 0, f"exit {code}\n{out}{err}")
    plan = w.plan("shared")
    svc = next(s for s in plan["services"] if s["name"] == "web")
    current = w.ecs.describe_services(cluster=EXISTING, services=[svc["ecs_service"]])["services"][0]
    sets = current["taskSets"]
    check(len(sets) == 1 and sets[0]["status"] == "PRIMARY", f"one task set left, the new one: {sets}")
    check(sets[0].get("capacityProviderStrategy") == SPOT, f"created with the strategy: {sets[0]}")
    check(w.image_of(sets[0]["taskDefinition"]).endswith("spotapp/web:v1"), "runs v1")
    worker = w.service("shared", "worker")
    check(w.image_of(worker["taskDefinition"]).endswith("spotapp/worker:v1"), "the worker rolled to v1")


def test_rolling_on_spot(w):
    # No worker service yet: the deploy creates it from its file (CreateService with the strategy).
    w.ecs.delete_service(cluster="spotapp-rolling", service="spotapp-rolling-worker", force=True)
    code, out, err = w.apply("rolling", "v1")
    check(code == 0, f"exit {code}\n{out}{err}")
    for name in ("web", "worker"):
        svc = w.service("rolling", name)
        check(w.image_of(svc["taskDefinition"]).endswith(f"spotapp/{name}:v1"), f"{name} runs v1")


TESTS = [test_generated_documents, test_preflight_refuses_cluster_without_spot, test_canary_on_spot, test_rolling_on_spot]


def main():
    return run_suite("spot", __doc__, TESTS, ("rolling", "shared"), prepare=prepare, spec=SPEC)


if __name__ == "__main__":
    sys.exit(main())
