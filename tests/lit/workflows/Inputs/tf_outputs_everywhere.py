"""For each workflow that runs `gops apply` or `gops rollback` (but `--if-dead --check`,
which reads only the ledger): how many, and whether each one is given the Terraform
outputs (--tf-outputs) by a job that read them before (a `Terraform outputs` step
earlier in the same job). Prints one line per such workflow; exits 1 on a miss."""
import pathlib
import re
import sys

import yaml

TF = '--tf-outputs "$RUNNER_TEMP/tf-outputs.json"'
ok = True
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.yml")):
    doc = yaml.safe_load(path.read_text())
    counts = {"apply": 0, "rollback": 0}
    problems = []
    for job_id, job in (doc.get("jobs") or {}).items():
        read = False
        for step in job.get("steps", []):
            if str(step.get("name", "")).startswith("Terraform outputs of "):
                read = True
            for line in str(step.get("run", "")).splitlines():
                m = re.search(r"\bgops (apply|rollback) \"\$GOPS_SPEC\"", line)
                if not m or line.lstrip().startswith("#") or "--check" in line:
                    continue
                counts[m.group(1)] += 1
                if TF not in line:
                    problems.append(f"{job_id}: {line.strip()}: no --tf-outputs")
                elif not read:
                    problems.append(f"{job_id}: {line.strip()}: no Terraform outputs step before it")
    if not any(counts.values()):
        continue
    if problems:
        ok = False
        for p in problems:
            print(f"{path.name}: {p}")
    else:
        print(f"{path.name}: gops apply {counts['apply']}, gops rollback {counts['rollback']}, "
              "all with --tf-outputs after the Terraform outputs")
sys.exit(0 if ok else 1)
