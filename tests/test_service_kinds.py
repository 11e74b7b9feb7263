"""Service kinds decided from evidence: which rules a one-shot job skips and what it is told."""

from __future__ import annotations

import pytest

from tests.helpers import run
from vantage_lint.compose.kind import service_kind
from vantage_lint.compose.project import load_project
from vantage_lint.source import read_source

LONG_RUNNING_RULES = ["VL102", "VL103", "VL104", "VL106", "VL107", "VL118"]


def _kinds(lint_dir, text: str) -> dict[str, tuple[str, str]]:
    folder = lint_dir({"compose.yaml": text})
    project = load_project([folder / "compose.yaml"], reader=lambda p: read_source(p, str(p)), environ={})
    return {name: (service_kind(s).kind, service_kind(s).evidence) for name, s in project.services.items()}


@pytest.mark.parametrize("service,kind,evidence", [
    ("migrate:\n    image: app:1\n    command: python manage.py migrate", "job", "manage.py migrate"),
    ("migrate:\n    image: app:1\n    command: [alembic, upgrade, head]\n    restart: on-failure", "job",
     "alembic upgrade"),
    ("createdb:\n    image: postgres:16\n    entrypoint: [createdb, -h, db, app]", "job", "its entrypoint runs createdb"),
    ("tool:\n    image: app:1\n    deploy: {replicas: 0}", "job", "deploy.replicas: 0"),
    ("tool:\n    image: app:1\n    scale: 0", "job", "scale: 0"),
    ("shell:\n    image: app:1\n    profiles: [tools, cli]", "job", 'profile "tools"'),
    ("x:\n    image: app:1\n    x-vantage: {kind: job}", "job", "x-vantage kind: job"),
    ("web:\n    image: app:1\n    profiles: [tools, web]", "service", ""),
    ("web:\n    image: app:1\n    command: sh -c 'python manage.py migrate && gunicorn app'", "service", ""),
    ("migrate:\n    image: app:1\n    command: python manage.py migrate\n    restart: always", "service", ""),
    ("migrate:\n    image: app:1\n    command: python manage.py migrate\n    x-vantage: {kind: service}", "service",
     "x-vantage kind: service"),
    ("worker:\n    image: app:1\n    command: celery -A app worker", "service", ""),
])
def test_kind_from_evidence(lint_dir, service, kind, evidence):
    name = service.split(":", 1)[0]
    found = _kinds(lint_dir, "services:\n  " + service + "\n")[name]
    assert found[0] == kind
    assert evidence in found[1]


def test_waited_on_to_complete_is_a_job_unless_restarted(lint_dir):
    text = ("services:\n  init:\n    image: app:1\n    command: [./bin/seed-tenant]\n{restart}"
            "  api:\n    image: app:1\n    depends_on:\n      init:\n        condition: service_completed_successfully\n")
    assert _kinds(lint_dir, text.format(restart=""))["init"] == (
        "job", '"api" waits for it with condition: service_completed_successfully')
    assert _kinds(lint_dir, text.format(restart="    restart: unless-stopped\n"))["init"][0] == "service"


def test_a_job_gets_no_long_running_findings_and_one_note(lint_dir, monkeypatch):
    folder = lint_dir({"compose.yaml": "services:\n  migrate:\n    image: python:3.12-slim\n"
                                       "    command: python manage.py migrate\n    restart: \"no\"\n"})
    monkeypatch.chdir(folder)
    report = run(["."], select=LONG_RUNNING_RULES + ["VL119"])
    (note,) = report.findings
    assert note.code == "VL119" and note.severity.name == "INFO"
    assert note.message == ('service "migrate" is taken for a one-shot job (its command runs manage.py migrate and '
                            'exits (restart: "no")); healthcheck, restart policy, resource limits and log rotation '
                            "are not checked")
    assert (note.span.line, note.span.column) == (4, 14)


def test_declaring_service_brings_the_checks_back(lint_dir, monkeypatch):
    folder = lint_dir({"compose.yaml": "services:\n  migrate:\n    image: python:3.12-slim\n"
                                       "    command: python manage.py migrate\n    x-vantage: {kind: service}\n"})
    monkeypatch.chdir(folder)
    codes = {f.code for f in run(["."], select=LONG_RUNNING_RULES + ["VL119"]).findings}
    assert codes == {"VL102", "VL103", "VL104", "VL106", "VL107"}


def test_unread_worker_start_is_said_once(lint_dir, monkeypatch):
    folder = lint_dir({"compose.yaml": "services:\n  worker:\n    image: app:1\n    command: ./scripts/start-worker\n"
                                       "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0\n"
                                       "  redis:\n    image: redis:7.2\n"})
    monkeypatch.chdir(folder)
    report = run(["."], select=["VL3"])
    (finding,) = [f for f in report.findings if f.service == "worker"]
    assert finding.code == "VL340"
    assert "worker options could not be read: started through ./scripts/start-worker" in finding.message


def test_declared_worker_started_through_a_script_gets_no_unset_option_findings(lint_dir, monkeypatch):
    """Options the linter cannot read are unknown, not unset: only VL340 speaks about them."""
    folder = lint_dir({"compose.yaml": "services:\n  tasks:\n    image: app:1\n    entrypoint: [/entrypoint.sh]\n"
                                       "    x-vantage: {role: celery-worker}\n    healthcheck:\n"
                                       "      test: [CMD-SHELL, celery -A app inspect ping -d celery@$$HOSTNAME]\n"})
    monkeypatch.chdir(folder)
    codes = sorted(f.code for f in run(["."], select=["VL3"]).findings)
    assert codes == ["VL340"]
