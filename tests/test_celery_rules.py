"""VL301-VL318: positions in every command form, messages, severities and cross-service cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.findings import Applicability, Severity

ROOT = Path(__file__).parent.parent
VANTAGE = ROOT / "fixtures" / "vantage"
VL3 = [f"VL3{n:02d}" for n in range(1, 19)]


def lint(lint_dir, text: str, select: list[str], environ: dict[str, str] | None = None, **settings):
    folder = lint_dir({"compose.yaml": text})
    report = run([folder], select=select, environ=environ, **settings)
    return folder, report.findings


def at(folder: Path, finding) -> str:
    text = (folder / Path(finding.span.path).name).read_text()
    return text[finding.span.start : finding.span.end]


def only(findings, code: str):
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [(f.code, f.message) for f in findings]
    return found[0]


# --- the VANTAGE stack -----------------------------------------------------------------------

def test_vantage_worker():
    findings = [f for f in run([VANTAGE], select=VL3).findings if f.service == "celery-worker"]
    codes = {f.code for f in findings}
    assert not codes & {"VL301", "VL302", "VL303", "VL304", "VL305", "VL307", "VL308", "VL309", "VL312"}
    env_not_read = [f for f in findings if f.code == "VL306"]
    assert [f.severity for f in env_not_read] == [Severity.INFO, Severity.INFO]
    assert "CELERY_TASK_TIME_LIMIT" in env_not_read[0].message
    assert "CELERY_WORKER_TIME_LIMIT" in env_not_read[0].message
    assert "CELERY_WORKER_SOFT_TIME_LIMIT" in env_not_read[1].message


def test_vantage_app_maps_env_silences_vl306():
    report = run([VANTAGE], select=["VL306"], rule_options={"VL306": {"app-maps-env": True}})
    assert not report.findings


# --- positions: every command form ---------------------------------------------------------

FORMS = {
    "string": 'command: celery -A app worker --concurency=4\n',
    "quoted": 'command: "celery -A app worker --concurency=4"\n',
    "list": 'command: ["celery", "-A", "app", "worker", "--concurency=4"]\n',
    "block list": 'command:\n      - celery\n      - worker\n      - --concurency=4\n',
    "folded": 'command: >\n      celery -A app worker\n      --loglevel=INFO\n      --concurency=4\n',
    "literal sh -c": 'command:\n      - sh\n      - -c\n      - |\n        python manage.py migrate\n'
                     '        exec celery -A app worker --concurency=4\n',
    "sh -c string": "command: sh -c 'cd /srv && exec celery -A app worker --concurency=4'\n",
    "python -m, exec, VAR=": 'command: env C_FORCE_ROOT=1 python -m celery -A app worker --concurency=4\n',
    "entrypoint list + command string": 'entrypoint: ["python", "-m", "celery"]\n    command: -A app worker --concurency=4\n',
    "entrypoint string + command list": 'entrypoint: celery -A app\n    command: ["worker", "--concurency=4"]\n',
    "entrypoint sh -c + command item": 'entrypoint: ["sh", "-c"]\n    command: ["exec celery -A app worker --concurency=4"]\n',
    "dollars before": 'command: celery -A app worker -n w@$$HOSTNAME --concurency=4\n',
    "resolved variable before": 'command: celery -A ${APP:-app} worker --concurency=4\n',
}


@pytest.mark.parametrize("form", list(FORMS))
def test_option_position_in_every_form(lint_dir, form):
    text = "services:\n  worker:\n    image: myapp:1.4.2\n    " + FORMS[form]
    folder, findings = lint(lint_dir, text, ["VL301"])
    finding = only(findings, "VL301")
    assert at(folder, finding) == "--concurency=4"
    assert "did you mean --concurrency?" in finding.message


def test_entrypoint_sh_c_with_a_string_command_runs_no_celery(lint_dir):
    # Compose splits the string: `sh -c exec celery ...` runs the script "exec" alone.
    text = ('services:\n  worker:\n    image: myapp:1.4.2\n    entrypoint: ["sh", "-c"]\n'
            '    command: "exec celery -A app worker --concurency=4"\n')
    _, findings = lint(lint_dir, text, ["VL301", "VL302"])
    assert not findings


def test_setting_value_position_through_yaml_escapes(lint_dir):
    text = ('services:\n  worker:\n    image: myapp:1.4.2\n'
            '    command: "sh -c \\"exec celery -A app worker --max-task-per-child 10\\""\n')
    folder, findings = lint(lint_dir, text, ["VL301"])
    assert at(folder, only(findings, "VL301")) == "--max-task-per-child"


def test_env_setting_positions(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker --time-limit=300\n"
            "    environment:\n      - CELERY_WORKER_SOFT_TIME_LIMIT=600\n      - CELERY_TASK_ACKS_LATE=true\n")
    folder, findings = lint(lint_dir, text, ["VL307", "VL306"])
    assert at(folder, only(findings, "VL307")) == "600"
    assert at(folder, only(findings, "VL306")) == "CELERY_TASK_ACKS_LATE"


# --- VL301 -----------------------------------------------------------------------------------

def test_global_option_after_subcommand_message_is_not_masked(lint_dir):
    text = "services:\n  worker:\n    image: myapp:1.4.2\n    command: celery worker -A myapp\n"
    folder, findings = lint(lint_dir, text, ["VL301"])
    finding = only(findings, "VL301")
    assert at(folder, finding) == "-A"
    assert "must come before the subcommand `worker`" in finding.message


def test_unresolved_variables_are_not_validated(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n"
            "    command: celery -A app worker --time-limit=${LIMIT} -l $${LEVEL} -c ${C:-4}\n")
    _, findings = lint(lint_dir, text, ["VL301"])
    assert not findings


def test_plugin_subcommand_without_suggestion_passes(lint_dir):
    text = "services:\n  x:\n    image: myapp:1.4.2\n    command: celery -A app healthcheck-server\n"
    _, findings = lint(lint_dir, text, ["VL301"])
    assert not findings


# --- VL302 / VL303 ----------------------------------------------------------------------------

def test_concurrency_hint_uses_the_cpus_limit(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "    cpus: 3\n")
    folder, findings = lint(lint_dir, text, ["VL302"])
    finding = only(findings, "VL302")
    assert at(folder, finding) == "worker"
    assert "--concurrency=3" in finding.hint


def test_concurrency_vs_limits_options(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker -c 4\n"
            "    deploy:\n      resources:\n        limits: {cpus: '2', memory: 1G}\n")
    _, findings = lint(lint_dir, text, ["VL303"])
    assert not findings
    _, findings = lint(lint_dir, text, ["VL303"],
                       rule_options={"VL303": {"max-per-cpu": 1, "min-memory-per-process": 512}})
    assert len(findings) == 2
    assert any("under 512 MiB" in f.message for f in findings)
    assert any("--concurrency=2" in f.hint for f in findings)


# --- VL305 / VL307 / VL308 -------------------------------------------------------------------

@pytest.mark.parametrize("hard,soft", [
    ("--time-limit=300", "--soft-time-limit=400"),
    ("--time-limit=300", "CELERY_WORKER_SOFT_TIME_LIMIT=400"),
    ("CELERY_WORKER_TIME_LIMIT=300", "--soft-time-limit 400"),
    ("CELERY_TASK_TIME_LIMIT=300", "CELERY_TASK_SOFT_TIME_LIMIT=400"),
    ("CELERY_TASK_TIME_LIMIT=300", "CELERY_WORKER_SOFT_TIME_LIMIT=400"),
])
def test_soft_above_hard_is_an_error_whichever_way_given(lint_dir, hard, soft):
    flags = " ".join(x for x in (hard, soft) if x.startswith("-"))
    env = [x for x in (hard, soft) if not x.startswith("-")]
    text = f"services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker {flags}\n"
    if env:
        text += "    environment:\n" + "".join(f"      - {e}\n" for e in env)
    _, findings = lint(lint_dir, text, ["VL307"])
    finding = only(findings, "VL307")
    assert finding.severity == Severity.ERROR
    assert "400s" in finding.message and "300s" in finding.message


def test_equal_limits_are_a_warning(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n"
            "    command: celery -A app worker --time-limit=300 --soft-time-limit=300.0\n")
    _, findings = lint(lint_dir, text, ["VL307"])
    assert only(findings, "VL307").severity == Severity.WARNING


def test_flag_beats_variable_for_the_limits(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker --soft-time-limit=200\n"
            "    environment:\n      CELERY_WORKER_SOFT_TIME_LIMIT: '900'\n      CELERY_WORKER_TIME_LIMIT: '300'\n")
    _, findings = lint(lint_dir, text, ["VL307"])
    assert not findings


def test_prefetch_severities(lint_dir):
    text = "services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker --time-limit=600\n"
    _, findings = lint(lint_dir, text, ["VL308"])
    assert only(findings, "VL308").severity == Severity.WARNING
    _, findings = lint(lint_dir, text, ["VL308"], rule_options={"VL308": {"long-task-seconds": 900}})
    assert only(findings, "VL308").severity == Severity.INFO


# --- VL309 -----------------------------------------------------------------------------------

HOST_INTERPOLATED = ('services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n'
                     '    healthcheck:\n      test: ["CMD-SHELL", "celery -A app inspect ping -d celery@$HOSTNAME"]\n'
                     '      timeout: 10s\n')


# HOSTNAME unset where the linter runs: the host's value at deploy time, shown as written
@pytest.mark.parametrize("environ,asked", [({}, '"celery@${HOSTNAME}"'), ({"HOSTNAME": "buildbox"}, '"celery@buildbox"')])
def test_host_interpolated_destination(lint_dir, environ, asked):
    folder, findings = lint(lint_dir, HOST_INTERPOLATED, ["VL309", "VL114"], environ=environ)
    finding = only(findings, "VL309")
    assert at(folder, finding) == "-d celery@$HOSTNAME"
    assert asked in finding.message and "$$HOSTNAME" in finding.message
    assert len([f for f in findings if f.code == "VL114"]) == 1


def test_probe_with_node_name_and_inspect_timeout(lint_dir):
    text = ('services:\n  worker:\n    image: myapp:1.4.2\n    hostname: worker-1\n'
            '    command: celery -A app worker -n reports@%h\n'
            '    healthcheck:\n      test: celery -A app inspect ping -d reports@worker-1 -t 8\n      timeout: 9s\n')
    folder, findings = lint(lint_dir, text, ["VL309"])
    finding = only(findings, "VL309")
    assert at(folder, finding) == "9s"
    assert "9.5s" in finding.message


def test_disabled_healthcheck(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "    healthcheck:\n      disable: true\n")
    folder, findings = lint(lint_dir, text, ["VL309"])
    assert at(folder, only(findings, "VL309")) == "true"


# --- VL310 / VL311 -----------------------------------------------------------------------------

def test_events_with_default_flower_are_info(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "  flower:\n    image: mher/flower:2.0\n")
    _, findings = lint(lint_dir, text, ["VL310", "VL311"])
    assert [(f.code, f.severity) for f in findings] == [("VL310", Severity.INFO)]


def test_event_monitor_silences_small_deployment_flags(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "  exporter:\n    image: danihodovic/celery-exporter:0.10\n")
    _, findings = lint(lint_dir, text, ["VL311"])
    assert not findings


# --- VL313 / VL314 ---------------------------------------------------------------------------

def test_beat_env_variable_counts_as_embedded_beat(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "    environment:\n      CELERY_WORKER_BEAT: '1'\n    deploy:\n      replicas: 2\n")
    folder, findings = lint(lint_dir, text, ["VL313"])
    finding = only(findings, "VL313")
    assert at(folder, finding) == "2" and finding.severity == Severity.ERROR


def test_schedule_relative_to_workdir_option(lint_dir):
    text = ("services:\n  beat:\n    image: myapp:1.4.2\n"
            "    command: celery -A app --workdir /srv beat -s data/schedule\n"
            "    volumes:\n      - beat:/srv/data\nvolumes:\n  beat:\n")
    _, findings = lint(lint_dir, text, ["VL314"])
    assert not findings


# --- VL315 -----------------------------------------------------------------------------------

def test_flower_auth_from_a_misspelt_option_does_not_count(lint_dir):
    text = ("services:\n  flower:\n    image: mher/flower:2.0\n    command: celery flower --basic-aut=a:b\n"
            "    ports: ['5555:5555']\n")
    _, findings = lint(lint_dir, text, ["VL315", "VL301"])
    assert {f.code for f in findings} == {"VL315", "VL301"}


# --- VL316 / VL317 / VL318 -------------------------------------------------------------------

REDIS = ('  redis:\n    image: redis:7.2\n    healthcheck:\n      test: ["CMD-SHELL", "redis-cli ping | grep PONG"]\n')


def test_broker_host_position_and_masked_password(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "    environment:\n      - CELERY_BROKER_URL=redis://:sup3rs3cretpw@redsi:6379/0\n" + REDIS)
    folder, findings = lint(lint_dir, text, ["VL316"])
    finding = only(findings, "VL316")
    assert at(folder, finding) == "redsi"
    assert "sup3rs3cretpw" not in finding.message


def test_failover_list_and_read_url(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
            "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0;redis://replica:6379/0\n" + REDIS)
    folder, findings = lint(lint_dir, text, ["VL316"])
    assert at(folder, only(findings, "VL316")) == "replica"


@pytest.mark.parametrize("depends_on,expected", [
    ("", "    depends_on:\n      redis:\n        condition: service_healthy\n"),
    ("    depends_on: [db]\n", "    depends_on:\n      db:\n        condition: service_started\n"
                               "      redis:\n        condition: service_healthy\n"),
    ("    depends_on:\n      redis:\n        condition: service_started\n",
     "    depends_on:\n      redis:\n        condition: service_healthy\n"),
])
def test_wait_for_broker_fix(lint_dir, depends_on, expected):
    worker = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker\n"
              "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0\n")
    db = "  db:\n    image: postgres:16\n"
    text = worker + depends_on + REDIS + db
    folder, findings = lint(lint_dir, text, ["VL317"])
    finding = only(findings, "VL317")
    assert finding.fix is not None and finding.fix.applicability == Applicability.UNSAFE
    fixed = text
    for edit in sorted(finding.fix.edits, key=lambda e: -e.start):
        fixed = fixed[: edit.start] + edit.content + fixed[edit.end :]
    assert expected in fixed
    (folder / "compose.yaml").write_text(fixed)
    assert not run([folder], select=["VL317"]).findings


def test_broker_without_healthcheck_has_no_fix(lint_dir):
    text = ("services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -b redis://redis -A app worker\n"
            "  redis:\n    image: redis:7.2\n")
    _, findings = lint(lint_dir, text, ["VL317"])
    finding = only(findings, "VL317")
    assert finding.fix is None and finding.fix_applicability == Applicability.UNSAFE
    assert "no healthcheck" in finding.message


def test_broker_found_through_other_services(lint_dir):
    text = ("services:\n  api:\n    image: myapp:1.4.2\n    environment:\n"
            "      CELERY_BROKER_URL: redis://redis:6379/0\n"
            "  worker:\n    image: myapp:1.4.2\n    command: celery -A app worker --time-limit=5400\n" + REDIS)
    _, findings = lint(lint_dir, text, ["VL317", "VL318"])
    assert {f.code for f in findings} == {"VL317", "VL318"}
    assert "5400s" in only(findings, "VL318").message
