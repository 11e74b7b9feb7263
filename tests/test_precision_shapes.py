"""Issue 15, the shapes the precision measurement on real stacks found: each false or noisy
finding with its failing and passing form (hardening summarised per file, test and CI stacks,
values the deployment chooses, env files kept out of Git, bases meant to be combined, one
problem one finding, and what a Redis holds)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run, write
from vantage_lint.findings import Severity

BARE = """\
services:
  api:
    image: myapp:1.4.2
    command: ["gunicorn", "app:wsgi"]
  web:
    image: nginx:1.27.0
  worker:
    image: myapp:1.4.2
    command: celery -A app worker
    environment:
      CELERY_BROKER_URL: redis://redis:6379/0
  redis:
    image: redis:7.2.5
"""


def found(report, code: str) -> list:
    return [f for f in report.findings if f.code == code]


# --- hardening every service lacks: one info per file ------------------------------------------
def test_limits_and_log_rotation_are_summarised_once_per_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": BARE}))
    report = run(["compose.yaml"])
    limits = found(report, "VL102")
    # The worker keeps its own warning; the three others are one info naming them.
    assert sorted((f.severity.label, f.service) for f in limits) == [("info", "api"), ("warning", "worker")]
    summary = next(f for f in limits if f.severity == Severity.INFO)
    assert summary.message == '3 services in this file have no memory or cpus limit: "api", "web", "redis"'
    assert summary.services == ("api", "web", "redis")
    assert summary.hint.endswith("reports each service.")
    (logs,) = found(report, "VL106")
    assert logs.severity == Severity.INFO and logs.services == ("api", "web", "worker", "redis")


def test_production_preset_and_naming_the_rule_report_each_service(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": BARE}))
    production = found(run(["compose.yaml"], preset="production"), "VL106")
    assert [(f.service, f.severity.label) for f in production] == [
        ("api", "warning"), ("web", "warning"), ("worker", "warning"), ("redis", "warning")]
    named = found(run(["compose.yaml"], select=["VL106"]), "VL106")
    assert len(named) == 4 and {f.severity for f in named} == {Severity.WARNING}


def test_a_suppressed_service_leaves_the_summary_and_its_comment_is_used(tmp_path: Path, monkeypatch) -> None:
    text = BARE.replace("  web:\n", "  web:  # vantage-lint: disable=VL106 -- rotated by the daemon\n")
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": text}))
    report = run(["compose.yaml"])
    (logs,) = found(report, "VL106")
    assert "web" not in logs.services and len(logs.services) == 3
    assert found(report, "VL007") == []  # the suppression did its work: not reported as unused


def test_a_logging_block_written_without_rotation_stays_a_warning(tmp_path: Path, monkeypatch) -> None:
    text = BARE.replace("    image: nginx:1.27.0\n", "    image: nginx:1.27.0\n    logging:\n      driver: json-file\n")
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": text}))
    logs = found(run(["compose.yaml"]), "VL106")
    assert [(f.service, f.severity.label) for f in logs if f.severity == Severity.WARNING] == [("web", "warning")]


# --- test and CI stacks are not deployments -----------------------------------------------------
def test_test_and_ci_stacks_are_checked_as_development(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {
        "docker-compose.e2e.yml": BARE,
        "docker-compose.ci-test.yml": BARE,
        ".github/docker-compose.yml": BARE,
        "backend/tests/compose.yaml": BARE,
        "docker-compose.prod.yml": BARE,
    }))
    for name in ("docker-compose.e2e.yml", "docker-compose.ci-test.yml", ".github/docker-compose.yml",
                 "backend/tests/compose.yaml"):
        report = run([name])
        assert report.contexts[0].context == "development", name
        assert found(report, "VL102") == [] and found(report, "VL106") == []
    assert run(["docker-compose.prod.yml"]).contexts[0].context == "production"


# --- values the deployment chooses ----------------------------------------------------------------
def test_a_tag_or_policy_from_a_variable_default_is_information(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n"
        "  app:\n    image: myorg/app:${APP_TAG:-latest}\n    restart: ${RESTART:-no}\n"
        "  tool:\n    image: myorg/tool:latest\n    restart: \"no\"\n")}))
    report = run(["compose.yaml"], select=["VL111", "VL107"])
    by = {(f.code, f.service): f for f in report.findings}
    assert by[("VL111", "app")].severity == Severity.INFO
    assert by[("VL111", "app")].message.endswith("(set through ${APP_TAG}: the deployment chooses the tag)")
    assert by[("VL107", "app")].severity == Severity.INFO
    assert by[("VL111", "tool")].severity == Severity.WARNING  # written in the file: the file's choice
    assert by[("VL107", "tool")].severity == Severity.WARNING


def test_unset_variables_with_no_env_file_at_all_are_information(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": "services:\n  app:\n    image: myorg/app:${TAG}\n"}))
    (unset,) = found(run(["compose.yaml"]), "VL004")
    assert unset.severity == Severity.INFO and "must come from where the stack is deployed" in unset.message
    (tmp_path / ".env").write_text("OTHER=1\n")
    (unset,) = found(run(["compose.yaml"]), "VL004")
    assert unset.severity == Severity.WARNING  # the project's own .env lacks it


# --- env files the repository keeps out on purpose ------------------------------------------------
def test_a_missing_env_file_listed_in_gitignore_is_the_deployments(tmp_path: Path, monkeypatch) -> None:
    files = {"deploy/compose.yaml": "services:\n  app:\n    image: myorg/app:1.0\n    env_file: .env.nginx\n"}
    monkeypatch.chdir(write(tmp_path, files))
    (missing,) = found(run(["deploy/compose.yaml"]), "VL003")
    assert missing.severity == Severity.ERROR and "Compose refuses the project" in missing.message
    (tmp_path / ".gitignore").write_text("node_modules/\n.env*\n!.env.example\n")
    (missing,) = found(run(["deploy/compose.yaml"]), "VL003")
    assert missing.severity == Severity.INFO and "a .gitignore keeps it out on purpose" in missing.message


def test_a_template_named_without_the_dot_counts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {
        "compose.yaml": "services:\n  app:\n    image: myorg/app:1.0\n    env_file: .env.nginx\n",
        "env.nginx.template": "DOMAIN=\n"}))
    (missing,) = found(run(["compose.yaml"]), "VL003")
    assert missing.severity == Severity.INFO and "env.nginx.template is its template" in missing.message


# --- a base meant to be combined with a file beside it -------------------------------------------
def test_a_dependency_defined_by_a_sibling_file_is_information(tmp_path: Path, monkeypatch) -> None:
    base = "services:\n  app:\n    image: myorg/app:1.0\n    depends_on: [db]\n"
    monkeypatch.chdir(write(tmp_path, {"docker-compose.yml": base}))
    (missing,) = found(run(["docker-compose.yml"]), "VL003")
    assert missing.severity == Severity.ERROR
    (tmp_path / "docker-compose.postgres.yml").write_text("services:\n  db:\n    image: postgres:16.3\n")
    (missing,) = found(run(["docker-compose.yml"]), "VL003")
    assert missing.severity == Severity.INFO
    assert "docker-compose.postgres.yml beside this file defines \"db\"" in missing.message
    assert "-f docker-compose.yml -f docker-compose.postgres.yml" in missing.message


# --- one problem, one finding ---------------------------------------------------------------------
def test_redis_open_to_the_network_is_one_finding(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n  redis:\n    image: redis:7.2.5\n    ports: ['6379:6379']\n"
        "  flower:\n    image: mher/flower:2.0.1\n    ports: ['5555:5555']\n"
        "    command: celery --broker=redis://redis:6379/0 flower\n")}))
    report = run(["compose.yaml"])
    assert [f.code for f in report.findings if f.service == "redis" and f.code in ("VL113", "VL216", "VL219")] \
        == ["VL219"]
    assert [f.code for f in report.findings if f.service == "flower" and f.code in ("VL113", "VL315")] == ["VL315"]


def test_an_unpublished_redis_without_a_password_is_information(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": "services:\n  redis:\n    image: redis:7.2.5\n"}))
    (auth,) = found(run(["compose.yaml"]), "VL216")
    assert auth.severity == Severity.INFO and "publishes no port" in auth.message


def test_explicit_service_started_is_information_and_the_short_form_a_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n  db:\n    image: postgres:16.3\n    healthcheck:\n      test: [CMD, pg_isready]\n"
        "  a:\n    image: myorg/a:1.0\n    depends_on: [db]\n"
        "  b:\n    image: myorg/b:1.0\n    depends_on:\n      db:\n        condition: service_started\n")}))
    by = {f.service: f.severity for f in found(run(["compose.yaml"]), "VL108")}
    assert by == {"a": Severity.WARNING, "b": Severity.INFO}


def test_network_mode_host_in_a_test_stack_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    stack = "services:\n  tika:\n    image: apache/tika:2.9.2.1\n    network_mode: host\n"
    monkeypatch.chdir(write(tmp_path, {"docker-compose.ci-test.yml": stack, "docker-compose.prod.yml": stack}))
    (dev,) = found(run(["docker-compose.ci-test.yml"]), "VL406")
    (prod,) = found(run(["docker-compose.prod.yml"]), "VL406")
    assert (dev.severity, prod.severity) == (Severity.WARNING, Severity.ERROR)


# --- what a Redis holds ---------------------------------------------------------------------------
def test_aof_advice_follows_what_the_redis_holds(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n"
        "  broker:\n    image: redis:7.2.5\n"  # paperless feeds it through PAPERLESS_REDIS
        "  kv:\n    image: redis:7.2.5\n"
        "  app:\n    image: myorg/app:1.0\n    environment:\n      PAPERLESS_REDIS: redis://broker:6379\n")}))
    by = {f.service: f for f in found(run(["compose.yaml"]), "VL210")}
    assert by["broker"].severity == Severity.WARNING  # named for queues: never taken for a cache
    assert by["kv"].severity == Severity.INFO and "what it holds is not known" in by["kv"].message


def test_a_one_shot_step_named_so_with_restart_no_is_a_job(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n  setup_or_upgrade:\n    image: myorg/app:1.0\n    restart: \"no\"\n"
        "  web_server:\n    image: myorg/app:1.0\n    restart: \"no\"\n")}))
    restart = found(run(["compose.yaml"], select=["VL107"]), "VL107")
    assert [f.service for f in restart] == ["web_server"]


def test_maxmemory_advice_follows_the_wall_redis_would_hit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n"
        "  queue:\n    image: redis:7.2.5\n"
        "  limited:\n    image: redis:7.2.5\n    mem_limit: 512m\n"
        "  cache:\n    image: redis:7.2.5\n"
        "  app:\n    image: myorg/app:1.0\n    environment:\n      CACHE_URL: redis://cache:6379/0\n")}))
    by = {f.service: f for f in found(run(["compose.yaml"]), "VL213")}
    assert by["queue"].severity == Severity.INFO
    assert "its container no memory limit" in by["queue"].message
    assert by["limited"].severity == Severity.WARNING and "(container limit 512m" in by["limited"].message
    assert by["cache"].severity == Severity.WARNING  # a cache grows with every key it is given


def test_short_form_between_application_services_is_information(tmp_path: Path, monkeypatch) -> None:
    check = "    healthcheck:\n      test: [CMD, curl, -f, http://localhost/]\n"
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n"
        f"  web:\n    image: myorg/web:1.0\n{check}"
        f"  api:\n    image: myorg/api:1.0\n{check}"
        "  admin:\n    image: myorg/admin:1.0\n    depends_on: [web]\n"
        "  proxy:\n    image: myorg/proxy:1.0\n    depends_on: [api]\n    environment:\n"
        "      UPSTREAM: http://api:8000\n")}))
    by = {f.service: f for f in found(run(["compose.yaml"]), "VL108")}
    assert by["admin"].severity == Severity.INFO and 'nothing in "admin" names "web"' in by["admin"].message
    assert by["proxy"].severity == Severity.WARNING  # its UPSTREAM names the api: it connects at start


def test_a_cookiecutter_template_folder_is_not_walked(tmp_path: Path, monkeypatch) -> None:
    template = "services:\n  {{ cookiecutter.project_slug }}:\n    image: {{ cookiecutter.image }}\n"
    monkeypatch.chdir(write(tmp_path, {"boilerplate/{{ cookiecutter.project_slug }}/docker-compose.yml": template,
                                       "compose.yaml": "services:\n  app:\n    image: myorg/app:1.0\n"}))
    report = run(["."])
    assert [f for f in report.findings if f.code == "VL001"] == []
    assert not any("cookiecutter" in name for name in report.files)
    # Named on the command line, the file is linted as given: the user asked for it.
    assert found(run(["boilerplate/{{ cookiecutter.project_slug }}/docker-compose.yml"]), "VL001")


def test_a_demo_folder_is_checked_as_development(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"flask_celery_compose_demo/docker-compose.yml": BARE,
                                       "democracy/docker-compose.yml": BARE}))
    assert run(["flask_celery_compose_demo/docker-compose.yml"]).contexts[0].reason == \
        "flask_celery_compose_demo/docker-compose.yml is named for a demo ('demo')"
    assert run(["democracy/docker-compose.yml"]).contexts[0].context == "production"  # a word, not a prefix


def test_a_provider_key_is_reported_in_a_development_stack_too(tmp_path: Path, monkeypatch) -> None:
    key = "AKIA" + "Q3EXAMPLE7KEYID9"  # the shape of an AWS access key id, not a real one
    stack = ("services:\n  app:\n    image: myorg/app:1.0\n    environment:\n"
             f"      AWS_ACCESS_KEY_ID: {key}\n      DB_PASSWORD: devpassword\n")
    monkeypatch.chdir(write(tmp_path, {"docker-compose.dev.yml": stack, "docker-compose.prod.yml": stack}))
    dev = found(run(["docker-compose.dev.yml"]), "VL410")
    assert [f.message.split(" is set")[0] for f in dev] == ["AWS_ACCESS_KEY_ID"]  # and not DB_PASSWORD
    assert "(an AWS access key id)" in dev[0].message and key not in dev[0].message
    prod = found(run(["docker-compose.prod.yml"]), "VL410")
    assert sorted(f.message.split(" is set")[0] for f in prod) == ["AWS_ACCESS_KEY_ID", "DB_PASSWORD"]


def test_a_provider_key_is_masked_in_every_format(tmp_path: Path, monkeypatch) -> None:
    from vantage_lint.cli import main

    key = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # the shape of a GitHub token
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": (
        "services:\n  app:\n    image: myorg/app:1.0\n    environment:\n"
        f"      GIT_CLONE_HELPER: {key}\n    command: [\"sync\", \"--with\", \"{key}\"]\n")}))
    for fmt in ("text", "json", "sarif", "github", "concise"):
        assert main(["compose.yaml", "--isolated", "--no-cache", "--format", fmt, "-o", f"out.{fmt}"]) == 1
        assert key[4:12] not in (tmp_path / f"out.{fmt}").read_text(), fmt


def test_a_secret_that_is_a_word_of_the_messages_does_not_blank_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(write(tmp_path, {
        ".env": "REDIS_PASSWORD=password\n",
        "compose.yaml": ("services:\n  redis:\n    image: redis:7.2.5\n    ports: ['6379:6379']\n"
                         "  app:\n    image: myorg/app:1.0\n    environment:\n"
                         "      REDIS_URL: redis://:${REDIS_PASSWORD}@redis:6379/0\n")}))
    report = run(["compose.yaml"])
    (open_redis,) = found(report, "VL219")
    assert "has no password and publishes" in open_redis.message
    # Where it stands as a password it is masked as ever: the URL in the text output's code frame.
    from vantage_lint.cli import main

    assert main(["compose.yaml", "--isolated", "--no-cache", "-o", "out.txt"]) == 1
    assert "redis://:password@" not in (tmp_path / "out.txt").read_text()


def test_a_summary_keeps_the_services_fixes(tmp_path: Path, monkeypatch) -> None:
    from vantage_lint.cli import main

    stack = ("services:\n  a:\n    image: myorg/a:1.0\n    command: [serve]\n"
             "  b:\n    image: myorg/b:1.0\n    command: [serve]\n")
    monkeypatch.chdir(write(tmp_path, {"compose.yaml": stack}))
    (logs,) = found(run(["compose.yaml"]), "VL106")
    assert logs.fix is not None and logs.fix.applicability.value == "unsafe" and len(logs.fix.edits) == 2
    assert main(["compose.yaml", "--isolated", "--no-cache", "--fix", "--unsafe-fixes"]) in (0, 1)
    fixed = (tmp_path / "compose.yaml").read_text()
    assert fixed.count('max-size: "10m"') == 2  # both services, from the one summary
    assert found(run(["compose.yaml"]), "VL106") == []
