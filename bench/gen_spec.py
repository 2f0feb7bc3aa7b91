#!/usr/bin/env python3
"""Writes a gops spec with N services (and N/10 jobs) over 3 environments, shaped
like the shop example: templates, overrides, secrets, public and internal services.
Usage: gen_spec.py N OUT.gops"""
import sys

n = int(sys.argv[1])
out = open(sys.argv[2], "w")
w = out.write
w('app bench {\n  region     = "us-east-1"\n  repository = "acme/bench"\n  registry   = "111111111111"\n}\n\n')
w('import "std/rollouts"\n\n')
envs = [("dev", "111111111111", "on_push(\"develop\")", 10), ("staging", "222222222222", "on_push(\"main\")", 20),
        ("prod", "333333333333", "manual", 30)]
for name, acct, deploy, net in envs:
    w(f'environment {name} {{\n  account = "{acct}"\n  deploy  = {deploy}\n')
    w(f'  network {{ cidr = 10.{net}.0.0/16  zones = 3  nat = single }}\n')
    if name == "prod":
        w('  approval { reviewers = ["acme/sre"]  required = 1 }\n')
        w('  rollout = canary {\n    step 10% for 5m\n    step 50% for 10m\n    rollback when http_5xx_rate > 1% for 2m\n  }\n')
    elif name == "staging":
        w('  rollout = blue_green { test_traffic = 10%  bake = 10m }\n')
    w('}\n\n')
w('promote dev -> staging { after = [tests_passed] }\npromote staging -> prod { after = [approval, soak(24h)] }\n\n')
w('template web {\n  port   = 8080\n  health { path = "/healthz"  interval = 15s  timeout = 5s }\n  env    { LOG_LEVEL = "info" }\n}\n\n')
for i in range(n):
    public = i % 3 == 0
    w(f'service svc{i} extends web {{\n')
    w(f'  image    = ecr("bench/svc{i}")\n  cpu      = 0.5 vcpu\n  memory   = 1 GiB\n  replicas = 2\n')
    if public:
        w(f'  expose   = public("svc{i}.bench.example.com")\n')
    else:
        w('  expose   = internal\n')
    w(f'  env {{\n    PEER_URL = "http://svc{(i + 1) % n}.${{env.name}}.bench.internal:8080"\n  }}\n')
    w(f'  secrets {{\n    DATABASE_URL = ssm("/bench/${{env.name}}/svc{i}/database-url")\n  }}\n')
    w('  autoscale { min = 2  max = 10  cpu = 60% }\n')
    w('  in prod {\n    replicas = 4\n    autoscale { min = 4  max = 20 }\n  }\n}\n\n')
for j in range(max(1, n // 10)):
    w(f'job job{j} {{\n  image    = ecr("bench/job{j}")\n  schedule = cron("{j % 60} 3 * * *")\n  cpu      = 0.25 vcpu\n  memory   = 512 MiB\n}}\n\n')
