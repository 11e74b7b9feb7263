"""Image variables that carry server settings (vantage_lint.redis.link.IMAGE_VARIABLES): the
Redis model reads them only where the image's own start script runs."""

from __future__ import annotations

from tests.helpers import run


def project(tmp_path, service: str):
    (tmp_path / "docker-compose.yml").write_text("services:\n  cache:\n" + service)
    report = run([tmp_path / "docker-compose.yml"], select=["VL201"])
    return report


PASSWORD = "6c0d1e7f9b2a4c58a1e3d5f7aa"
FLAGS = f'      VALKEY_EXTRA_FLAGS: "--requirepass {PASSWORD} --maxmemory 100mb"\n'


def vl201(tmp_path, service: str) -> str:
    (finding,) = [f for f in project(tmp_path, service).findings if f.code == "VL201"]
    return finding.message


def test_valkey_extra_flags_set_password_and_maxmemory(tmp_path):
    message = vl201(tmp_path, "    image: valkey/valkey:8.1\n    environment:\n" + FLAGS)
    assert "no password" not in message and "no maxmemory" not in message and "AOF off" in message


def test_valkey_72_image_does_not_read_valkey_extra_flags(tmp_path):
    message = vl201(tmp_path, "    image: valkey/valkey:7.2\n    environment:\n" + FLAGS)
    assert "no password" in message and "no maxmemory" in message


def test_valkey_extra_flags_need_the_image_entrypoint(tmp_path):
    service = ('    image: valkey/valkey:8\n    entrypoint: ["valkey-server"]\n    command: ["--appendonly", "yes"]\n'
               "    environment:\n" + FLAGS)
    message = vl201(tmp_path, service)
    assert "no password" in message and "AOF off" not in message


def test_bitnami_disable_commands_become_rename_command(tmp_path):
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  cache:\n    image: bitnami/redis:7.2\n    environment:\n"
        "      REDIS_PASSWORD: ${REDIS_PASSWORD}\n      REDIS_DISABLE_COMMANDS: FLUSHDB,FLUSHALL\n")
    report = run([tmp_path / "docker-compose.yml"], select=["VL223"])
    allowed = [f.message for f in report.findings if "can run" in f.message]
    assert allowed and "FLUSHALL" not in allowed[0] and "FLUSHDB" not in allowed[0]
    assert sum("rename-command" in f.message for f in report.findings) == 2


def test_bitnami_valkey_reads_valkey_variables(tmp_path):
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  cache:\n    image: bitnami/valkey:8.1\n    environment:\n"
        "      VALKEY_PASSWORD: ${VALKEY_PASSWORD}\n      VALKEY_DISABLE_COMMANDS: FLUSHALL\n")
    report = run([tmp_path / "docker-compose.yml"], select=["VL216", "VL223", "VL201", "VL210"])
    codes = {f.code for f in report.findings}
    assert "VL216" not in codes  # VALKEY_PASSWORD is the requirepass of the generated file
    assert "VL210" not in codes  # bitnami turns AOF on
    (vl201,) = [f for f in report.findings if f.code == "VL201"]
    assert "valkey.conf" in vl201.message and "/opt/bitnami/valkey/mounted-etc/valkey.conf" in vl201.hint
    assert any("rename-command FLUSHALL" in f.message for f in report.findings)
