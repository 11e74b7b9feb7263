"""VL401-VL410: every spelling in the fixtures, positions, messages (secrets masked), severities,
and the VL405 fix."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.engine import Inputs
from vantage_lint.findings import Applicability, Severity
from vantage_lint.rules.security_secrets import is_placeholder, names_secret
from vantage_lint.settings import Settings

RULES_DIR = Path(__file__).parent / "rules"

pytestmark = pytest.mark.usefixtures("_cwd_tmp")


@pytest.fixture
def _cwd_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def lint(folder: Path, code: str, **settings):
    report = run([folder], select=[code], **settings)
    return [f for f in report.findings if f.code == code]


def at(finding) -> tuple[str, int, int]:
    return Path(finding.span.path).name, finding.span.line, finding.span.column


def written(folder: Path, finding) -> str:
    """The value a finding points at. A span over a secret is shrunk to its first character
    (its width would tell the secret's length), so the value is read from there to its end."""
    text = (folder / Path(finding.span.path).name).read_text()
    span = finding.span
    if span.end > span.start:
        return text[span.start : span.end]
    return re.match(r"[^\s\"'@]*", text[span.start :]).group(0)


# --- every spelling of a failing fixture is reported ---------------------------------------------
# fixture -> how many findings it must give (one per spelling written in it)
EXPECTED_COUNTS = {
    "VL402_docker-socket-mount/fail_short_options.yml": 1,
    "VL403_dangerous-capability/fail_among_safe_ones.yml": 1,
    "VL403_dangerous-capability/fail_all_lowercase.yml": 1,
    "VL405_no-new-privileges-unset/fail_false_equals.yml": 1,
    "VL406_host-namespace/fail_service_joins_host.yml": 2,
    "VL406_host-namespace/fail_container_joins_host.yml": 2,
    "VL407_sensitive-host-mount/fail_read_only_short.yml": 2,
    "VL407_sensitive-host-mount/fail_every_directory.yml": 5,
    "VL408_security-profile-disabled/fail_apparmor.yml": 1,
    "VL410_secret-in-environment/fail_token_and_api_key.yml": 2,
    "VL410_secret-in-environment/fail_short_names.yml": 2,
    "VL410_secret-in-environment/fail_anchor.yml": 1,
    "VL410_secret-in-environment/fail_env_file": 2,
}


@pytest.mark.parametrize("entry,count", sorted(EXPECTED_COUNTS.items()))
def test_each_spelling_in_a_fixture_is_reported(entry, count, monkeypatch):
    path = RULES_DIR / entry
    monkeypatch.chdir(path.parent)
    code = entry.split("_", 1)[0]
    report = run([path.name], select=[code])
    assert len([f for f in report.findings if f.code == code]) == count


def test_every_security_rule_has_fail_and_pass_fixtures():
    for code in [f"VL4{n:02d}" for n in range(1, 11)]:
        (folder,) = RULES_DIR.glob(f"{code}_*")
        names = [p.name for p in folder.iterdir()]
        assert sum(n.startswith("fail_") for n in names) >= 2, code
        assert any(n.startswith("pass_") for n in names), code


# --- VL401 ---------------------------------------------------------------------------------------
def test_privileged_points_at_the_value(lint_dir):
    folder = lint_dir({"compose.yaml": 'services:\n  mon:\n    image: m:1\n    privileged: "true"\n'})
    (finding,) = lint(folder, "VL401")
    assert at(finding) == ("compose.yaml", 4, 17)
    assert finding.message.startswith('service "mon" runs privileged (privileged: true)')
    assert finding.severity == Severity.ERROR


# --- VL402 / VL407 -------------------------------------------------------------------------------
def test_socket_is_vl402_only_and_directory_is_vl407_only(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  c:\n    image: c:1\n    volumes:\n"
                                       "      - /var/run/docker.sock:/var/run/docker.sock:ro\n"
                                       "      - /var/run:/var/run\n"})
    report = run([folder], select=["VL402", "VL407"])
    assert [(f.code, f.span.line) for f in report.findings] == [("VL402", 5), ("VL407", 6)]
    socket, directory = report.findings
    assert "read-only makes no difference" in socket.message
    assert "Docker socket among them" in directory.message


def test_sensitive_mount_severity_follows_read_only(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  c:\n    image: c:1\n    volumes:\n"
                                       "      - /etc:/host/etc:ro\n      - /etc:/host/etc2\n"})
    ro, rw = lint(folder, "VL407")
    assert (ro.severity, ro.explicit_severity) == (Severity.WARNING, True)
    assert "read-only" in ro.message and "/etc" in ro.message
    assert rw.severity == Severity.ERROR
    assert "writable" in rw.message


def test_sensitive_mount_read_only_stays_a_warning_in_production(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  c:\n    image: c:1\n    volumes: [\"/sys:/sys:ro\"]\n"})
    (finding,) = lint(folder, "VL407", preset="production")
    assert finding.severity == Severity.WARNING


# --- VL403 / VL404 -------------------------------------------------------------------------------
def test_capability_message_names_the_normalized_capability(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  v:\n    image: v:1\n    cap_add: [cap_sys_admin]\n"})
    (finding,) = lint(folder, "VL403")
    assert "adds capability SYS_ADMIN (cap_add: cap_sys_admin)" in finding.message
    assert at(finding) == ("compose.yaml", 4, 15)


def test_partial_cap_drop_points_at_cap_drop(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n    cap_drop: [NET_RAW]\n"})
    (finding,) = lint(folder, "VL404")
    assert at(finding) == ("compose.yaml", 4, 5)
    assert "drops only NET_RAW" in finding.message


def test_missing_cap_drop_is_an_error_in_production(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n"})
    (finding,) = lint(folder, "VL404", preset="production")
    assert finding.severity == Severity.ERROR
    assert at(finding) == ("compose.yaml", 2, 3)


# --- VL406 ---------------------------------------------------------------------------------------
def test_join_chain_is_followed_to_the_host(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n    network_mode: host\n"
                                       "  b:\n    image: b:1\n    network_mode: service:a\n"
                                       "  c:\n    image: c:1\n    network_mode: service:b\n"})
    messages = {f.service: f.message for f in lint(folder, "VL406")}
    assert set(messages) == {"a", "b", "c"}
    assert 'joins the network namespace of service "b" → "a" (network_mode: service:b)' in messages["c"]


def test_service_form_without_host_passes(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n"
                                       "  b:\n    image: b:1\n    network_mode: service:a\n    pid: service:a\n"})
    assert lint(folder, "VL406") == []


# --- VL408 / VL409 -------------------------------------------------------------------------------
def test_profile_message_and_position(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  b:\n    image: b:1\n    security_opt:\n"
                                       "      - no-new-privileges:true\n      - seccomp:unconfined\n"})
    (finding,) = lint(folder, "VL408")
    assert at(finding) == ("compose.yaml", 6, 9)
    assert "(seccomp:unconfined)" in finding.message


def test_read_only_false_points_at_the_value(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n    read_only: false\n"})
    (finding,) = lint(folder, "VL409")
    assert at(finding) == ("compose.yaml", 4, 16)
    assert finding.severity == Severity.INFO


# --- VL410 ---------------------------------------------------------------------------------------
SECRETS = ["s3cr3t-db-pass", "brokerpass"]


def test_secret_is_masked_and_the_value_is_pointed_at(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  db:\n    image: postgres:16\n    environment:\n"
                                       "      POSTGRES_PASSWORD: s3cr3t-db-pass\n"})
    (finding,) = lint(folder, "VL410")
    assert at(finding) == ("compose.yaml", 5, 26)
    assert written(folder, finding) == "s3cr3t-db-pass"
    assert finding.message == ('POSTGRES_PASSWORD is set to a literal secret ("s3****") '
                               'in the environment of service "db"')


def test_list_form_points_at_the_value_not_the_name(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  api:\n    image: a:1\n    environment:\n"
                                       '      - "DJANGO_SECRET_KEY=8f2b1c9e77a04d3f"\n'})
    (finding,) = lint(folder, "VL410")
    assert written(folder, finding) == "8f2b1c9e77a04d3f"


def test_url_password_is_pointed_at_and_masked(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  w:\n    image: a:1\n    environment:\n"
                                       "      - CELERY_BROKER_URL=redis://:brokerpass@redis:6379/0\n"})
    (finding,) = lint(folder, "VL410")
    assert written(folder, finding) == "brokerpass"
    assert "redis://:****@redis:6379/0" in finding.message
    assert "brokerpass" not in finding.message


def test_env_file_entry_is_reported_in_the_env_file_once_for_all_services(lint_dir):
    folder = lint_dir({
        "compose.yaml": "services:\n  web:\n    image: a:1\n    env_file: app.env\n"
                        "  worker:\n    image: a:1\n    env_file: [app.env]\n",
        "app.env": "# settings\nDEBUG=1\nSECRET_KEY=8f2b1c9e77a04d3f\n",
    })
    (finding,) = lint(folder, "VL410")
    assert at(finding) == ("app.env", 3, 12)
    assert written(folder, finding) == "8f2b1c9e77a04d3f"
    assert finding.message.endswith('in the env file of services "web", "worker"')
    assert finding.service == "web"


def test_env_file_entry_overridden_by_environment_is_still_reported(lint_dir):
    folder = lint_dir({
        "compose.yaml": "services:\n  web:\n    image: a:1\n    env_file: app.env\n"
                        "    environment:\n      SECRET_KEY: ${SECRET_KEY}\n",
        "app.env": "SECRET_KEY=8f2b1c9e77a04d3f\n",
    })
    (finding,) = lint(folder, "VL410")
    assert at(finding)[0] == "app.env"


def test_no_secret_in_any_output_format(lint_dir):
    from vantage_lint.report import render

    folder = lint_dir({"compose.yaml": (RULES_DIR / "VL410_secret-in-environment/fail_url_list.yml").read_text()
                       + "      - POSTGRES_PASSWORD=s3cr3t-db-pass\n"})
    report = run([folder], select=["VL410"])
    assert len(report.findings) == 2
    for fmt in ("text", "concise", "json", "sarif", "github", "gitlab", "junit"):
        out = io.StringIO()
        render(report, fmt, out)
        for secret in SECRETS:
            assert secret not in out.getvalue(), (fmt, secret)


def test_secret_is_an_error_in_production(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n    environment:\n"
                                       "      API_TOKEN: abcdef123\n"})
    (finding,) = lint(folder, "VL410", preset="production")
    assert finding.severity == Severity.ERROR


@pytest.mark.parametrize("name", [
    "POSTGRES_PASSWORD", "SECRET_KEY", "GITHUB_TOKEN", "OPENAI_API_KEY", "openai_apikey", "JWT_PRIVATE_KEY",
    "DB_PASS", "MYSQL_PWD", "PGPASSWORD", "REDISCLI_AUTH", "FLOWER_BASIC_AUTH", "GITLAB_SECRETS_DB_KEY_BASE",
    "client-secret", "DB_PASSWD", "SECRET_KEY_BASE", "AWS_SECRET_ACCESS_KEY",
])
def test_secret_names(name):
    assert names_secret(name)


@pytest.mark.parametrize("name", [
    "POSTGRES_PASSWORD_FILE", "TOKEN_EXPIRY", "PASSWORD_MIN_LENGTH", "API_KEY_HEADER", "SECRETARY_EMAIL",
    "TOKENIZER_PATH", "BREACHED_PASSWORDS", "PWD", "PASS", "AUTH_RATELIMIT", "POSTGRES_HOST_AUTH_METHOD",
    "REGISTRY_AUTH_TOKEN_SERVICE", "BYPASS_CACHE", "UWSGI_PASS_TIMEOUT", "ACCESS_TOKEN_LIFETIME", "KEY",
])
def test_not_secret_names(name):
    assert not names_secret(name)


@pytest.mark.parametrize("value,placeholder", [
    ("", True), ("yes", True), ("<your-token>", True), ("{{ db_password }}", True), ("xxx", True),
    ("****", True), ("changeme", True), ("CHANGE_ME", True), ("your-secret-here", True), ("replace-me", True),
    ("@{ADMIN_PASSWORD}", True), ("#{Octopus.Token}", True), ("${{ secrets.X }}", True), ("__APP_SECRET__", True),
    ("@db.password@", True), ("%DB_PASS%", True), ("[[token]]", True),
    ("password", False), ("s3cr3t", False), ("changeit", False), ("@dmin2024", False), ("my_s3cret_p4ss", False),
    ("{not-a-template}", False), ("changeme2", False), ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", False),
])
def test_placeholders(value, placeholder):
    assert is_placeholder(value) is placeholder


# --- VL405 and its fix ---------------------------------------------------------------------------
def fix(folder: Path, code: str = "VL405") -> None:
    from vantage_lint.fixer import run_fixes

    settings = Settings()
    settings.select = [code]
    run_fixes([str(folder)], settings, Inputs(environ={}), unsafe=True, write=True, err=io.StringIO())


def test_fix_inserts_security_opt_in_the_files_indentation(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n    api:\n        image: a:1\n        ports:\n"
                                       "        -   \"80:80\"\n    db:\n        image: d:1\n"})
    found = lint(folder, "VL405")
    assert [f.fix.applicability for f in found] == [Applicability.UNSAFE, Applicability.UNSAFE]
    fix(folder)
    assert (folder / "compose.yaml").read_text() == (
        "services:\n    api:\n        image: a:1\n        ports:\n        -   \"80:80\"\n"
        "        security_opt:\n        - no-new-privileges:true\n"
        "    db:\n        image: d:1\n        security_opt:\n        - no-new-privileges:true\n")
    assert lint(folder, "VL405") == []


def test_fix_appends_to_a_block_list_and_a_flow_list(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n    security_opt:\n"
                                       "      - apparmor=docker-default  # keep\n"
                                       "  b:\n    image: b:1\n    security_opt: [\"label=level:s0\"]\n"})
    fix(folder)
    assert (folder / "compose.yaml").read_text() == (
        "services:\n  a:\n    image: a:1\n    security_opt:\n      - apparmor=docker-default  # keep\n"
        "      - no-new-privileges:true\n"
        "  b:\n    image: b:1\n    security_opt: [\"label=level:s0\", \"no-new-privileges:true\"]\n")
    assert lint(folder, "VL405") == []


def test_fix_turns_false_into_true(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n    security_opt:\n"
                                       "      - no-new-privileges:false\n"})
    (finding,) = lint(folder, "VL405")
    assert at(finding) == ("compose.yaml", 5, 9)
    fix(folder)
    assert "      - no-new-privileges:true\n" in (folder / "compose.yaml").read_text()


def test_fix_keeps_crlf_line_endings(lint_dir, tmp_path):
    (tmp_path / "compose.yaml").write_bytes(b"services:\r\n  a:\r\n    image: a:1\r\n")
    fix(tmp_path)
    assert (tmp_path / "compose.yaml").read_bytes() == (
        b"services:\r\n  a:\r\n    image: a:1\r\n    security_opt:\r\n      - no-new-privileges:true\r\n")


def test_fix_of_a_shared_list_is_kept_when_every_sharer_needs_it(lint_dir):
    folder = lint_dir({"compose.yaml": "x-opts: &opts\n  - label=level:s0\nservices:\n"
                                       "  a:\n    image: a:1\n    security_opt: *opts\n"
                                       "  b:\n    image: b:1\n    security_opt: *opts\n"})
    found = lint(folder, "VL405")
    assert len(found) == 2 and all(f.fix is not None for f in found)
    fix(folder)
    assert (folder / "compose.yaml").read_text().startswith(
        "x-opts: &opts\n  - label=level:s0\n  - no-new-privileges:true\nservices:\n")
    assert lint(folder, "VL405") == []


def test_fix_is_withheld_for_a_service_written_in_an_included_file(lint_dir):
    folder = lint_dir({"compose.yaml": "include:\n  - other.yaml\nservices:\n  a:\n    image: a:1\n",
                       "other.yaml": "services:\n  b:\n    image: b:1\n"})
    found = {f.service: f for f in lint(folder, "VL405")}
    assert found["b"].fix is None
    assert found["a"].fix is not None


def test_finding_without_security_opt_points_at_the_service(lint_dir):
    folder = lint_dir({"compose.yaml": "services:\n  a:\n    image: a:1\n"})
    (finding,) = lint(folder, "VL405")
    assert at(finding) == ("compose.yaml", 2, 3)
    assert finding.message == 'service "a" does not set security_opt: [no-new-privileges:true]'
