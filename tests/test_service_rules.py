"""VL101-VL116: positions (anchors, merge keys, override files), messages, severities, fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.findings import Applicability, Severity

pytestmark = pytest.mark.usefixtures("_cwd_tmp")


@pytest.fixture
def _cwd_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def lint(lint_dir, files: dict[str, str], code: str, **settings):
    folder = lint_dir(files)
    report = run([folder], select=[code], **settings)
    return [f for f in report.findings if f.code == code]


def at(finding) -> tuple[str, int, int]:
    return Path(finding.span.path).name, finding.span.line, finding.span.column


def source_at(folder: Path, finding) -> str:
    text = (folder / Path(finding.span.path).name).read_text()
    return text[finding.span.start : finding.span.end]


# --- positions ---------------------------------------------------------------------------------
ANCHORED_LOGGING = """\
x-logging: &logging
  driver: json-file
  options:
    max-file: "3"
services:
  api:
    image: myapp:1.4.2
    logging: *logging
  worker:
    image: myapp:1.4.2
    logging: *logging
"""


def test_finding_on_an_alias_is_one_finding_at_the_anchor_naming_every_service(lint_dir):
    (found,) = lint(lint_dir, {"compose.yaml": ANCHORED_LOGGING}, "VL106")
    assert found.services == ("api", "worker")
    assert at(found) == ("compose.yaml", 4, 5)
    assert found.message.endswith('(this line is shared by 2 services: "api", "worker")')


MERGE_KEY = """\
x-base: &base
  image: myapp:1.4.2
  user: root
services:
  api:
    <<: *base
    ports: ["8000:8000"]
  worker:
    <<: *base
    user: "1000:1000"
"""


def test_merge_key_value_points_at_the_anchor_and_local_keys_win(lint_dir):
    found = lint(lint_dir, {"compose.yaml": MERGE_KEY}, "VL101")
    assert [(f.service, at(f)) for f in found] == [("api", ("compose.yaml", 3, 9))]
    assert 'user: "root"' in found[0].message


def test_value_from_override_file_points_into_the_override(lint_dir):
    folder = lint_dir({
        "docker-compose.yml": "services:\n  api:\n    image: myapp:1.4.2\n    user: \"999:999\"\n",
        "docker-compose.override.yml": "services:\n  api:\n    image: myapp:latest\n    user: \"0\"\n",
    })
    report = run([folder], select=["VL101", "VL111"])
    where = {f.code: at(f) for f in report.findings}
    assert where == {"VL101": ("docker-compose.override.yml", 4, 11),
                     "VL111": ("docker-compose.override.yml", 3, 12)}


def test_missing_key_points_at_the_nearest_written_parent(lint_dir):
    files = {"compose.yaml": "services:\n  api:\n    image: myapp:1.4.2\n    deploy:\n      resources:\n"
                             "        limits:\n          memory: 512M\n"}
    (limits,) = lint(lint_dir, files, "VL102")
    assert at(limits) == ("compose.yaml", 6, 9)
    assert limits.message == 'service "api" has no cpus limit (its memory limit is 512M)'
    (reservation,) = lint(lint_dir, files, "VL103")
    assert at(reservation) == ("compose.yaml", 5, 7)


# --- VL101 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command,expected", [
    ('sh -c "redis-server --appendonly yes"', 'only when the command starts with redis-server, and this command '
                                              'starts with "sh"'),
    ('["/usr/local/bin/redis-server", "--appendonly", "yes"]', 'starts with "/usr/local/bin/redis-server"'),
])
def test_redis_user_message_follows_the_official_entrypoint(lint_dir, command, expected):
    files = {"compose.yaml": f"services:\n  cache:\n    image: redis:7.2\n    command: {command}\n"}
    (finding,) = lint(lint_dir, files, "VL101")
    assert expected in finding.message
    assert finding.message.endswith("so it runs as root")
    assert finding.hint.startswith('Set user: "999:999"')
    assert finding.severity == Severity.WARNING


@pytest.mark.parametrize("command", ['["redis-server", "/etc/redis.conf"]', '["/etc/redis.conf"]',
                                     '["--appendonly", "yes"]', "redis-server --save 60 1"])
def test_redis_entrypoint_drops_root_for_these_commands(lint_dir, command):
    files = {"compose.yaml": f"services:\n  cache:\n    image: redis:7.2\n    command: {command}\n"}
    assert not lint(lint_dir, files, "VL101")
    assert not lint(lint_dir, files, "VL117")


def test_redis_with_custom_entrypoint_runs_as_root(lint_dir):
    files = {"compose.yaml": "services:\n  cache:\n    image: redis:7.2\n    entrypoint: [redis-server]\n"}
    (finding,) = lint(lint_dir, files, "VL101")
    assert "its entrypoint: replaces the entrypoint of the image redis:7.2, which would switch to redis" \
        in finding.message


def test_user_root_on_an_image_whose_entrypoint_drops_root_is_not_root(lint_dir):
    files = {"compose.yaml": "services:\n  db:\n    image: postgres:16\n    user: root\n"
                             "  flower:\n    image: mher/flower:2.0\n    user: root\n"}
    assert [f.service for f in lint(lint_dir, files, "VL101")] == ["flower"]


def test_root_user_is_an_error_in_production(lint_dir):
    files = {"compose.yaml": "services:\n  api:\n    image: myapp:1.4.2\n    user: \"root:app\"\n"}
    (finding,) = lint(lint_dir, files, "VL101", preset="production")
    assert finding.severity == Severity.ERROR


# --- VL126 / VL109 / VL112: severities set by the rule -----------------------------------------
def test_reservation_above_limit_is_an_error(lint_dir):
    files = {"compose.yaml": "services:\n  api:\n    image: myapp:1.4.2\n    mem_limit: 256m\n"
                             "    mem_reservation: 300m\n"}
    (finding,) = lint(lint_dir, files, "VL126")
    assert finding.severity == Severity.ERROR
    assert at(finding) == ("compose.yaml", 5, 22)


@pytest.mark.parametrize("dependency,severity", [
    ("  redis:\n    image: redis:7.2\n", Severity.ERROR),
    ("  redis:\n    image: docker.io/library/redis:7.2\n    healthcheck:\n      test: [\"NONE\"]\n", Severity.ERROR),
    ("  redis:\n    image: bitnami/redis:7.2\n", Severity.ERROR),
    ("  redis:\n    image: registry.example.com/redis:7.2\n", Severity.INFO),  # the image may declare one: cannot tell
    ("  redis:\n    build: ./redis\n", Severity.INFO),
])
def test_service_healthy_on_a_dependency_without_healthcheck(lint_dir, dependency, severity):
    files = {"compose.yaml": "services:\n  worker:\n    image: myapp:1.4.2\n    depends_on:\n      redis:\n"
                             "        condition: service_healthy\n" + dependency}
    (finding,) = lint(lint_dir, files, "VL109")
    assert finding.severity == severity
    assert at(finding) == ("compose.yaml", 6, 20)


def test_service_healthy_not_required_is_a_warning(lint_dir):
    files = {"compose.yaml": "services:\n  worker:\n    image: myapp:1.4.2\n    depends_on:\n      redis:\n"
                             "        condition: service_healthy\n        required: false\n"
                             "  redis:\n    image: redis:7.2\n"}
    (finding,) = lint(lint_dir, files, "VL109")
    assert finding.severity == Severity.WARNING
    assert "required: false" in finding.message


def test_images_with_healthcheck_option(lint_dir):
    files = {"compose.yaml": "services:\n  api:\n    image: registry.example.com/team/api:2.0\n    restart: always\n"}
    assert lint(lint_dir, files, "VL118")
    assert not lint(lint_dir, files, "VL118", rule_options={"VL118": {"images-with-healthcheck": ["team/*"]}})


def test_scaling_blocker_severity(lint_dir):
    files = {"compose.yaml": "services:\n"
                             "  web:\n    image: myapp:1.4.2\n    container_name: web\n    scale: 3\n"
                             "  worker:\n    image: myapp:1.4.2\n    container_name: worker\n"
                             "    x-vantage: {role: celery-worker}\n"}
    found = {f.service: f.severity for f in lint(lint_dir, files, "VL112")}
    assert found == {"web": Severity.ERROR, "worker": Severity.WARNING}


# --- one-shot services -------------------------------------------------------------------------
ONE_SHOT = """\
services:
  migrate:
    image: python:3.12-slim
    command: ["python", "manage.py", "migrate"]
  api:
    image: myapp:1.4.2
    restart: always
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
    depends_on:
      migrate:
        condition: service_completed_successfully
"""


@pytest.mark.parametrize("code", ["VL104", "VL107"])
def test_one_shot_service_is_exempt(lint_dir, code):
    assert not lint(lint_dir, {"compose.yaml": ONE_SHOT}, code)
    always = ONE_SHOT.replace('    command: ["python"', '    restart: always\n    command: ["python"')
    if code == "VL104":  # restarted after it completes: no longer a one-shot service
        assert [f.service for f in lint(lint_dir, {"compose.yaml": always}, code)] == ["migrate"]


# --- VL105 -------------------------------------------------------------------------------------
def test_healthcheck_timing_uses_docker_defaults(lint_dir):
    files = {"compose.yaml": "services:\n  api:\n    image: myapp:1.4.2\n    healthcheck:\n"
                             "      test: [\"CMD\", \"true\"]\n      timeout: 45s\n"}
    (finding,) = lint(lint_dir, files, "VL105")
    assert finding.message == ('service "api": healthcheck timeout 45s is not shorter than the default interval of 30s: '
                               "a hung probe delays the next one")
    assert finding.severity.label == "info"  # slower detection of a hang, the check still works
    assert at(finding) == ("compose.yaml", 6, 16)


# --- VL113 / VL115 -----------------------------------------------------------------------------
@pytest.mark.parametrize("port,reported", [
    ('"6379:6379"', True),
    ('"[::]:6379:6379"', True),
    ('"6379"', True),
    ('"127.0.0.1:6379:6379"', False),
    ('"[::1]:6379:6379"', False),
    ('"10.0.0.5:6379:6379"', False),
])
def test_redis_port_interfaces(lint_dir, port, reported):
    files = {"compose.yaml": f"services:\n  redis:\n    image: redis:7.2\n    ports:\n      - {port}\n"}
    found = lint(lint_dir, files, "VL113")
    assert bool(found) == reported
    if found:
        assert at(found[0]) == ("compose.yaml", 5, 9)


@pytest.mark.parametrize("first,second,conflict", [
    ('"8080:80"', '"127.0.0.1:8080:80"', True),
    ('"0.0.0.0:8080:80"', '"127.0.0.1:8080:80"', True),
    ('"0.0.0.0:8080:80"', '"[::1]:8080:80"', False),
    ('"8080:80/udp"', '"8080:80"', False),
    ('"8000-8010:8000-8010"', '"8010:80"', True),
    ('"8000-8010:8000-8010"', '"8011:80"', False),
])
def test_published_port_conflicts(lint_dir, first, second, conflict):
    files = {"compose.yaml": f"services:\n  a:\n    image: x:1\n    ports: [{first}]\n"
                             f"  b:\n    image: x:1\n    ports: [{second}]\n"}
    found = lint(lint_dir, files, "VL115")
    assert bool(found) == conflict
    if found:
        assert found[0].service == "b" and '"a"' in found[0].message


# --- VL114 -------------------------------------------------------------------------------------
def test_host_variable_fix_escapes_the_dollar(lint_dir):
    text = ('services:\n  worker:\n    image: myapp:1.4.2\n    healthcheck:\n'
            '      test: ["CMD-SHELL", "celery -A app inspect ping -d celery@$HOSTNAME"]\n')
    folder = lint_dir({"compose.yaml": text})
    (finding,) = run([folder], select=["VL114"]).findings
    assert source_at(folder, finding) == "$HOSTNAME"
    assert finding.fix is not None and finding.fix.applicability == Applicability.UNSAFE
    (edit,) = finding.fix.edits
    fixed = text[: edit.start] + edit.content + text[edit.end :]
    assert "celery@$$HOSTNAME" in fixed
    (folder / "compose.yaml").write_text(fixed)
    assert not run([folder], select=["VL114"]).findings


def test_host_variable_in_exec_form_has_no_fix(lint_dir):
    text = ('services:\n  worker:\n    image: myapp:1.4.2\n'
            '    command: ["celery", "-A", "app", "worker", "-n", "w@$HOSTNAME"]\n')
    folder = lint_dir({"compose.yaml": text})
    (finding,) = run([folder], select=["VL114"]).findings
    assert finding.fix is None
    assert "%h" in finding.hint and "no shell reads this argument" in finding.message
    assert source_at(folder, finding) == "$HOSTNAME"


def test_host_variable_in_sh_c_list_and_folded_scalar(lint_dir):
    text = ("services:\n  redis:\n    image: redis:7.2\n    environment:\n      REDIS_PASSWORD: s3cret-value-123\n"
            "    command: [\"sh\", \"-c\", \"redis-server --requirepass $REDIS_PASSWORD\"]\n"
            "    healthcheck:\n      test: >\n        redis-cli -a $REDIS_PASSWORD\n        ping\n")
    folder = lint_dir({"compose.yaml": text})
    found = run([folder], select=["VL114"]).findings
    assert [(f.span.line, f.fix is not None) for f in found] == [(6, True), (8, False)]
    assert all("s3cret" not in f.message for f in found)


def test_variable_from_dotenv_is_host_side(lint_dir):
    files = {
        ".env": "REDIS_PASSWORD=from-dotenv-1234\n",
        "compose.yaml": "services:\n  redis:\n    image: redis:7.2\n    environment:\n"
                        "      REDIS_PASSWORD: ${REDIS_PASSWORD}\n"
                        "    command: sh -c 'redis-server --requirepass \"$REDIS_PASSWORD\"'\n",
    }
    assert not lint(lint_dir, files, "VL114")


# --- VL110 / VL116 -----------------------------------------------------------------------------
def test_default_network_finding_is_project_wide(lint_dir):
    files = {"compose.yaml": "services:\n  a:\n    image: x:1\n  b:\n    image: x:1\n  c:\n    image: x:1\n"
                             "    network_mode: host\n"}
    (finding,) = lint(lint_dir, files, "VL110")
    assert finding.service is None and "all 2 services" in finding.message
    assert at(finding) == ("compose.yaml", 1, 1)


def test_duplicate_container_name_names_the_first(lint_dir):
    files = {"compose.yaml": "services:\n  a:\n    image: x:1\n    container_name: app\n"
                             "  b:\n    image: x:1\n    container_name: app\n"
                             "  c:\n    image: x:1\n    container_name: app\n"}
    found = lint(lint_dir, files, "VL116")
    assert [(f.service, f.span.line) for f in found] == [("b", 7), ("c", 10)]
    assert all('service "a"' in f.message for f in found)


def test_broken_stack_shows_every_service_rule():
    broken = Path(__file__).resolve().parent.parent / "fixtures" / "broken"
    report = run([broken], select=["VL1"], preset="production")
    assert {f.code for f in report.findings} == {f"VL1{n:02d}" for n in range(1, 19)}
