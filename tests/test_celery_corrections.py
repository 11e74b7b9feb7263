"""Issue 16, Celery half: severities and messages of the corrected VL3xx rules."""

from __future__ import annotations

import pytest

from tests.test_celery_rules import lint, only
from vantage_lint.findings import Severity

FLOWER = "services:\n  flower:\n    image: {image}\n    command: celery flower\n{env}    ports: ['5555:5555']\n"


@pytest.mark.parametrize("image,env,severity", [
    ("mher/flower:2.0", "", Severity.WARNING),
    ("mher/flower:2.0", "    environment:\n      FLOWER_UNAUTHENTICATED_API: 'yes'\n", Severity.ERROR),
    ("mher/flower:2.0", "    environment:\n      FLOWER_UNAUTHENTICATED_API: 'false'\n", Severity.WARNING),
    ("mher/flower:1.2.0", "", Severity.ERROR),
    ("mher/flower:0.9.7", "", Severity.ERROR),
])
def test_flower_severity_follows_the_control_api(lint_dir, image, env, severity):
    _, findings = lint(lint_dir, FLOWER.format(image=image, env=env), ["VL315"])
    assert only(findings, "VL315").severity is severity


WORKER = "services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker {flags}\n{extra}"


def test_concurrency_advice_per_pool(lint_dir):
    _, findings = lint(lint_dir, WORKER.format(flags="-P gevent", extra=""), ["VL302"])
    finding = only(findings, "VL302")
    assert "greenlets" in finding.message and "per CPU" not in finding.message
    _, findings = lint(lint_dir, WORKER.format(flags="", extra=""), ["VL302"])
    assert "one pool process per CPU" in only(findings, "VL302").message


def test_cpus_part_of_vl303_is_info_memory_part_warning(lint_dir):
    limits = "    deploy:\n      resources:\n        limits: {cpus: '1', memory: 256M}\n"
    _, findings = lint(lint_dir, WORKER.format(flags="-c 8", extra=limits), ["VL303"])
    assert sorted(f.severity.value for f in findings) == sorted([Severity.INFO.value, Severity.WARNING.value])


def test_gevent_needs_only_a_hard_limit(lint_dir):
    _, findings = lint(lint_dir, WORKER.format(flags="-P gevent --time-limit=60", extra=""), ["VL305"])
    assert not findings
    _, findings = lint(lint_dir, WORKER.format(flags="-P gevent", extra=""), ["VL305"])
    assert "soft" not in only(findings, "VL305").message


@pytest.mark.parametrize("pool", ["threads", "solo", "eventlet", "gevent"])
def test_soft_not_below_hard_only_where_both_exist(lint_dir, pool):
    _, findings = lint(lint_dir, WORKER.format(flags=f"-P {pool} --time-limit=10 --soft-time-limit=20", extra=""),
                       ["VL307"])
    assert not findings


def test_soft_above_hard_message_says_the_mechanism(lint_dir):
    _, findings = lint(lint_dir, WORKER.format(flags="--time-limit=10 --soft-time-limit=20", extra=""), ["VL307"])
    message = only(findings, "VL307").message
    assert "hard timer starts only when the soft one fires" in message and "until 20s" in message


def test_queues_unset_says_every_declared_queue(lint_dir):
    _, findings = lint(lint_dir, WORKER.format(flags="", extra=""), ["VL312"])
    assert "every queue in the app's task_queues" in only(findings, "VL312").message


# --- VL319 forms -------------------------------------------------------------------------------

@pytest.mark.parametrize("command,reported", [
    ('sh -c "celery -A app worker"', True),                       # dash does not exec even one command
    ('sh -c "cd /app && exec celery -A app worker"', False),
    ('bash -c "cd /app && celery -A app worker"', False),         # bash execs the last command
    ('bash -c "trap \'echo bye\' TERM; celery -A app worker"', True),
    ('bash -c "celery -A app worker & celery -A app beat"', True),
    ('bash -c "celery -A app worker; echo done"', True),
    ('bash -c "if true; then celery -A app worker; fi"', True),
    ('["tini", "--", "sh", "-c", "celery -A app worker"]', True),
    ('celery -A app worker', False),
])
def test_shell_forms(lint_dir, command, reported):
    text = f"services:\n  worker:\n    image: myapp:1.4.2\n    command: {command}\n"
    _, findings = lint(lint_dir, text, ["VL319"])
    assert bool(findings) == reported, [f.message for f in findings]


def test_grace_period_against_the_hard_limit(lint_dir):
    text = WORKER.format(flags="--time-limit=300", extra="")
    _, findings = lint(lint_dir, text, ["VL319"])
    assert "default stop_grace_period of 10s" in only(findings, "VL319").message
    _, findings = lint(lint_dir, text + "    stop_grace_period: 6m\n", ["VL319"])
    assert not findings
