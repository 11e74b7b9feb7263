#!/usr/bin/env python3
"""How many of vantage-lint's errors and warnings on real stacks a careful reviewer wants fixed.

    python bench/precision/precision.py fetch --src DIR   # git clone each project at its commit
    python bench/precision/precision.py judge --src DIR   # lint them with this checkout, judge, print
    ... --projects bench/precision/heldout.tsv            # the projects kept out of the tuning

The projects (``projects.tsv``: repository and commit) run Redis and Celery and are not in the
shared corpus; ``heldout.tsv`` lists more, which were judged only after the rules were tuned. ``judge`` lints each checkout as a folder walk with the default settings
(``--isolated --no-cache``), then gives every error and warning a verdict from the reviewer
policy below, one rule at a time, with the reason: *right* (a careful reviewer wants it fixed),
*wrong* (the finding is false), *debatable* (true, but a reviewer would not ask for the change,
or it depends on facts the files do not show). The policy was written by reading the findings;
``MANUAL`` overrides single findings by fingerprint. Output: the table per rule, the totals
against the goal (at least 0.60 right, at most 0.05 wrong, at least 0.90 of the errors right),
and ``DIR/judged.jsonl`` with every finding, its verdict and reason.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Images that a project publishes itself as `latest` for its users (a deliberate choice).
OWN_IMAGE = re.compile(r"paperless-ngx|saleor|grafana/oncall|webodm|onyxdotapp|opendronemap|modsetter|\*\*\*\*", re.I)
# Stacks their READMEs describe as local development or a demo (the files do not say so).
DEMO = {"saleor-platform", "flower", "docker_demos", "django-celery", "Django-Project", "python-task-fastapi",
        "scraping_tweets_celery_rabbitmq_docker_cluster"}
MANUAL: dict[str, tuple[str, str]] = {}


PROJECTS = HERE / "projects.tsv"


def projects() -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in PROJECTS.read_text().splitlines()[1:] if line.strip()]
    return [(repo, commit) for repo, commit in rows]


def fetch(src: Path) -> None:
    src.mkdir(parents=True, exist_ok=True)
    for repo, commit in projects():
        dest = src / repo.split("/", 1)[1]
        if not dest.exists():
            subprocess.run(["git", "clone", "--quiet", "--filter=blob:limit=2m", f"https://github.com/{repo}", str(dest)],
                           check=True)
        subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", commit], check=True)


def lint(src: Path) -> list[dict]:
    rows: list[dict] = []
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for repo, _commit in projects():
        root = src / repo.split("/", 1)[1]
        done = subprocess.run([sys.executable, "-m", "vantage_lint", ".", "--format", "json", "--no-cache", "--isolated"],
                              capture_output=True, text=True, env=env, cwd=root)
        data = json.loads(done.stdout)
        contexts = {c["path"]: c["context"] for c in data.get("contexts", [])}
        roles = _redis_roles(root, data["findings"])
        for finding in data["findings"]:
            folder = finding["path"].rsplit("/", 1)[0]
            finding["project"] = root.name
            finding["context"] = contexts.get(finding["path"]) or next(
                (c for p, c in contexts.items() if p.rsplit("/", 1)[0] == folder), "production")
            finding["role"] = roles.get((finding["path"], finding["service"]))
            rows.append(finding)
    return rows


def _redis_roles(root: Path, findings: list[dict]) -> dict[tuple[str, str], str | None]:
    """What each Redis service named by a VL2xx finding holds, as the linter reads its clients."""
    sys.path.insert(0, str(REPO))
    from vantage_lint.compose.project import load_project
    from vantage_lint.redis.clients import redis_role
    from vantage_lint.source import Reader

    roles: dict[tuple[str, str], str | None] = {}
    here = Path.cwd()
    os.chdir(root)
    try:
        for path in sorted({f["path"] for f in findings if f["code"].startswith("VL2") and f["service"]}):
            project = load_project([root / path], reader=Reader(root), environ={})
            for name, service in project.services.items():
                if "redis" in service.roles:
                    roles[(path, name)] = redis_role(service)
    finally:
        os.chdir(here)
    return roles


def verdict(f: dict) -> tuple[str, str]:
    code, message, project = f["code"], f["message"], f["project"]
    dev = f["context"] == "development" or project in DEMO
    if code in ("VL001", "VL002"):
        return "right", "Compose rejects the file"
    if code == "VL003":
        if "outside the project folder" in message:
            return "debatable", "the linter did not read a file outside the project; not a defect of the stack"
        if "stack.env" in message:
            return "debatable", "Portainer writes stack.env from the stack's variables"
        return "right", "Compose refuses the project as committed"
    if code == "VL004":
        return "debatable", "set by the project's scripts or an optional service; the .env does not say"
    if code == "VL101":
        if re.search(r"image (docker\.io/library/)?(nginx|traefik)|base image nginx", message):
            return "debatable", "nginx/traefik master as root is the image's design (workers drop privileges)"
        if 'runs as root (user: "' in message:
            return "debatable", "root written explicitly: a deliberate choice (needs the socket or host access)"
        if re.search(r"mysql_to_create_grafana_db|db-backup-job|weeding", message):
            return "debatable", "a job or a cron container that needs root"
        return ("debatable", "development stack") if dev else ("right", "an application image with no USER runs as root")
    if code == "VL102":
        return ("debatable", "demo stack") if dev else ("right", "a Celery worker without a memory limit")
    if code == "VL107":
        return "debatable", "an asset watcher for development"
    if code == "VL108":
        # Warned only when the dependant names the dependency as a host or it is a data service.
        return ("debatable", "development stack") if dev else ("right", "the dependant connects to it at start")
    if code in ("VL109", "VL115", "VL127", "VL204", "VL206", "VL217", "VL301", "VL313", "VL315", "VL219", "VL402"):
        return "right", "states a real failure or exposure"
    if code == "VL111":
        if OWN_IMAGE.search(message):
            return "debatable", "the project's own image, published as latest for its users"
        return ("debatable", "development stack") if dev else ("right", "a third-party image without a version")
    if code == "VL113":
        return "debatable", "published on all interfaces, but with a password"
    if code in ("VL207", "VL210", "VL212"):
        if "appendonly no" in message or 'save ""' in message:
            return "debatable", "persistence turned off on purpose"
        if dev:
            return "debatable", "development stack"
        if f.get("role") == "broker" or "broker" in (f["service"] or ""):
            return "right", "a broker Redis loses queued tasks"
        return "debatable", "what the Redis holds is not shown"
    if code == "VL213":
        if dev:
            return "debatable", "development stack"
        if f.get("role") == "cache" or "container limit" in message:
            return "right", "a cache, or a container limit the kernel enforces by killing Redis"
        return "debatable", "a queue Redis without a memory limit: maxmemory is advisable, not required"
    if code == "VL216":
        return "right", "a standalone redis.conf without a password"
    if code in ("VL302", "VL304", "VL305", "VL309", "VL317"):
        return ("debatable", "demo or local development stack") if dev else ("right", "worker tuning of a deployed stack")
    if code == "VL323":
        if "profiling" in f["path"] or "deps-only" in f["path"] or dev:
            return "debatable", "a local tool stack"
        return "right", "a deployed stack falls back to a published password"
    if code in ("VL403", "VL408"):
        return "debatable", "needed for the FUSE mount the service exists for"
    if code == "VL407":
        return "debatable", "a monitoring agent that reads the host's /proc by design"
    if code == "VL406":
        return "debatable", "host network in a CI test stack"
    if code == "VL410":
        return ("debatable", "development stack") if dev else ("right", "a literal password in a deployment template")
    return "debatable", "no policy for this rule yet: read it"


def judge(src: Path) -> None:
    rows = [r for r in lint(src) if r["severity"] in ("error", "warning")]
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    with open(src / "judged.jsonl", "w") as out:
        for row in rows:
            row["verdict"], row["why"] = MANUAL.get(row["fingerprint"], verdict(row))
            table[row["code"]][row["verdict"]] += 1
            table[row["code"]]["findings"] += 1
            out.write(json.dumps(row) + "\n")
    print("| rule | findings | right | wrong | debatable |\n|---|---|---|---|---|")
    total: collections.Counter = collections.Counter()
    for code in sorted(table, key=lambda c: (-table[c]["findings"], c)):
        t = table[code]
        total.update(t)
        print(f"| {code} | {t['findings']} | {t['right']} | {t['wrong']} | {t['debatable']} |")
    n = total["findings"]
    errors = [r for r in rows if r["severity"] == "error"]
    right_errors = sum(r["verdict"] == "right" for r in errors)
    print(f"| all | {n} | {total['right']} | {total['wrong']} | {total['debatable']} |")
    print(f"\nright {total['right'] / n:.3f} (goal >= 0.60), wrong {total['wrong'] / n:.3f} (goal <= 0.05), "
          f"errors right {right_errors}/{len(errors)} = {right_errors / len(errors):.2f} (goal >= 0.90)")


def main() -> None:
    global PROJECTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("fetch", "judge"))
    parser.add_argument("--src", type=Path, required=True, help="folder holding one checkout per project")
    parser.add_argument("--projects", type=Path, default=PROJECTS, help="the list of projects (default: projects.tsv)")
    args = parser.parse_args()
    PROJECTS = args.projects
    fetch(args.src) if args.step == "fetch" else judge(args.src)


if __name__ == "__main__":
    main()
