"""Linking Redis services to the configuration they run (vantage_lint.redis.link) and the
clients that connect to them (vantage_lint.redis.clients)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vantage_lint.compose.model import parse_image
from vantage_lint.compose.project import load_project
from vantage_lint.compose.unknown import as_written
from vantage_lint.source import Reader as _Reader
from vantage_lint.redis.auth import auth_of
from vantage_lint.redis.clients import clients_of, healthcheck_probes, redis_role
from vantage_lint.redis.link import data_dir, effective, image_version, link_of, link_project

ROOT = Path(__file__).resolve().parent.parent


def load(folder: Path, compose: str, files: dict[str, str] | None = None, environ: dict[str, str] | None = None):
    (folder / "docker-compose.yml").write_text(compose)
    for name, text in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    project = load_project([folder / "docker-compose.yml"], reader=_Reader(folder), environ=environ or {})
    link_project(project)
    return project


@pytest.mark.parametrize(
    "image,expected",
    [
        ("redis:7.2-alpine", (7, 2)),
        ("redis:7.0.15", (7, 0)),
        ("redis:7", (7, 4)),
        ("redis:6-alpine", (6, 2)),
        ("docker.io/library/redis:6.2.14-bookworm", (6, 2)),
        ("bitnami/redis:7.2.4-debian-12-r0", (7, 2)),
        ("redis/redis-stack-server:7.2.0-v10", (7, 2)),
        ("valkey/valkey:7.2", (7, 2)),
        ("valkey/valkey:8.0", (8, 0)),  # a Valkey version (image_server says valkey)
        ("redis:latest", None),
        ("redis:alpine", None),
        ("redis", None),
        ("redis@sha256:" + "a" * 64, None),
    ],
)
def test_image_version(image, expected):
    assert image_version(parse_image(image)) == expected


def test_vantage_fixture_links_its_redis_conf():
    project = load_project([ROOT / "fixtures/vantage/docker-compose.yml"], reader=_Reader(ROOT), environ={})
    link_project(project)
    redis = project.services["redis"]
    conf = redis.redis_config
    assert conf is not None and conf in project.redis_configs
    assert conf.service is redis
    assert conf.version == (7, 2)
    assert conf.source.path.endswith("docker/redis/redis.conf")
    assert conf.source.path in project.sources  # so a folder walk does not lint it twice
    assert conf.value("maxmemory-policy") == "allkeys-lru"
    assert redis_role(redis) == "broker"
    assert sorted({u.client.name for u in clients_of(redis)}) == ["api", "celery-worker"]


def test_folder_mount_and_entrypoint_conf_argument(tmp_path):
    project = load(tmp_path, """
services:
  cache:
    image: redis:7.2
    command: /usr/local/etc/redis/redis.conf --maxmemory 100mb
    volumes:
      - ./conf:/usr/local/etc/redis:ro
""", {"conf/redis.conf": "maxmemory 1mb\nappendonly yes\n"})
    link = link_of(project.services["cache"])
    assert link.server_word is None  # docker-entrypoint.sh prepends redis-server
    assert link.host_path == tmp_path / "conf" / "redis.conf"
    conf = link.config
    assert conf.value("appendonly") == "yes"
    assert conf.memory("maxmemory") == 100 * 1024**2  # the flag comes after the file and wins
    assert conf.get("maxmemory").from_command_line


def test_save_flag_appends_to_the_file(tmp_path):
    project = load(tmp_path, """
services:
  redis:
    image: redis:7.2
    command: ["redis-server", "/etc/redis.conf", "--save", "900", "1"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
""", {"redis.conf": "save 60 1\n"})
    assert project.services["redis"].redis_config.save_points() == [(60, 1), (900, 1)]


def test_sh_c_wrapper_and_container_variables(tmp_path):
    project = load(tmp_path, """
services:
  redis:
    image: redis:7.2
    command: sh -c "exec redis-server /etc/redis/redis.conf --requirepass \\"$$REDIS_PASSWORD\\""
    volumes: ["./redis.conf:/etc/redis/redis.conf:ro"]
""", {"redis.conf": "appendonly yes\n"})
    conf = project.services["redis"].redis_config
    assert conf.value("requirepass") == "$REDIS_PASSWORD"
    auth = auth_of(conf)
    assert auth.required is True and auth.passwords[0].templated


@pytest.mark.parametrize("environ,expected", [({}, "${REDIS_PASSWORD}"), ({"REDIS_PASSWORD": "from-env-file"}, "from-env-file")])
def test_unset_compose_variable_is_kept_as_written(tmp_path, environ, expected):
    project = load(tmp_path, """
services:
  redis:
    image: redis:7.2
    command: redis-server --requirepass ${REDIS_PASSWORD} --port 6380
""", environ=environ)
    conf = project.services["redis"].redis_config
    # unset: a value the deployment supplies (compose.unknown), shown as written
    assert as_written(conf.value("requirepass")) == expected
    assert conf.value("port") == "6380"  # the empty value did not swallow the next flag


def test_compose_configs_entry(tmp_path):
    project = load(tmp_path, """
services:
  redis:
    image: redis:7.2
    command: ["redis-server", "/redis.conf"]
    configs: [{source: redis_conf, target: /redis.conf}]
configs:
  redis_conf:
    file: ./cfg/redis.conf
""", {"cfg/redis.conf": "appendonly yes\n"})
    link = link_of(project.services["redis"])
    assert link.problem is None and link.config.value("appendonly") == "yes"


@pytest.mark.parametrize(
    "service,problem",
    [
        ('command: ["redis-server", "/etc/redis.conf"]\n    volumes: ["./nope.conf:/etc/redis.conf:ro"]', "missing"),
        ('command: ["redis-server", "/etc/redis.conf"]', "unmounted"),
        ('command: ["redis-server", "/etc/redis/redis.conf"]\n    volumes: ["redis-conf:/etc/redis"]', "volume"),
        ('build: .\n    command: ["redis-server", "/etc/redis.conf"]', "baked"),
        ('command: sh -c "envsubst < /t.conf > /etc/r.conf && redis-server /etc/r.conf"', "generated"),
        ('command: redis-server "$$CONF"', "dynamic"),
    ],
)
def test_unknown_config_file(tmp_path, service, problem):
    project = load(tmp_path, f"services:\n  redis:\n    image: redis:7.2\n    {service}\nvolumes:\n  redis-conf:\n")
    link = link_of(project.services["redis"])
    assert link.problem == problem
    assert project.services["redis"].redis_config is None  # rules do not guess the settings


def test_sentinel_is_not_a_redis_server(tmp_path):
    project = load(tmp_path, """
services:
  sentinel:
    image: redis:7.2
    command: redis-server /etc/sentinel.conf --sentinel
""")
    assert not link_of(project.services["sentinel"]).known
    assert project.redis_configs == []


def test_image_defaults(tmp_path):
    project = load(tmp_path, """
services:
  plain:
    image: redis:7.2
  with_file:
    image: redis:7.2
    command: ["redis-server", "/etc/redis.conf"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
  bitnami:
    image: bitnami/redis:7.2
    environment:
      ALLOW_EMPTY_PASSWORD: "yes"
  bitnami_auth:
    image: bitnami/redis:7.2
    environment:
      REDIS_PASSWORD: ${REDIS_PASSWORD}
""", {"redis.conf": "dir ./\n"})
    plain = project.services["plain"].redis_config
    assert effective(plain, "protected-mode") == "no"  # compiled off in the official image
    assert data_dir(plain) == "/data"
    with_file = project.services["with_file"].redis_config
    assert effective(with_file, "protected-mode") == "no"
    assert data_dir(with_file) == "/data"  # "./" is the working directory
    bitnami = project.services["bitnami"].redis_config
    assert effective(bitnami, "appendonly") == "yes"
    assert data_dir(bitnami) == "/bitnami/redis/data"
    assert auth_of(bitnami).required is False
    assert auth_of(project.services["bitnami_auth"].redis_config).required is True


def test_client_urls_roles_and_passwords(tmp_path):
    project = load(tmp_path, """
services:
  redis:
    image: redis:7.2
    networks:
      default:
        aliases: [queue-host]
  web:
    image: app
    env_file: app.env
    environment:
      CACHE_URL: redis://:${REDIS_PASSWORD}@redis:6379/1
  worker:
    image: app
    command: celery -A app worker --broker=redis://queue-host:6379/0
  other:
    image: app
    environment:
      CACHE_URL: redis://elsewhere:6379/0
""", {"app.env": "SESSION_REDIS=rediss://user:literalpw@redis:6380/2\n"})
    redis = project.services["redis"]
    urls = {(u.client.name, u.setting): u for u in clients_of(redis)}
    assert set(urls) == {("web", "CACHE_URL"), ("web", "SESSION_REDIS"), ("worker", "command --broker")}
    assert urls[("worker", "command --broker")].kind == "broker"
    cache = urls[("web", "CACHE_URL")]
    assert cache.password_templated and cache.has_password and not cache.literal_password
    session = urls[("web", "SESSION_REDIS")]
    assert session.password == "literalpw" and session.tls and session.origin == "env_file"
    assert session.span.path.endswith("app.env") and session.span.line == 1
    assert redis_role(redis) == "broker"


@pytest.mark.parametrize(
    "client,role",
    [
        ("  web:\n    image: app\n    environment:\n      CACHE_URL: redis://redis/1\n", "cache"),
        ("  worker:\n    image: app\n    environment:\n      REDIS_URL: redis://redis/1\n", None),
        ("  web:\n    image: app\n    environment:\n      RQ_REDIS_URL: redis://redis/1\n", None),
        ("  web:\n    image: app\n    environment:\n      CELERY_RESULT_BACKEND: redis://redis/1\n", None),
        ("  web:\n    image: app\n    environment:\n      DD_CELERY_BROKER_URL: redis://redis/0\n", "broker"),
        ("  web:\n    image: app\n", None),
    ],
)
def test_role_is_cache_only_when_no_queue_can_use_it(tmp_path, client, role):
    project = load(tmp_path, f"services:\n  redis:\n    image: redis:7.2\n{client}")
    assert redis_role(project.services["redis"]) == role


def test_healthcheck_probe_parsing(tmp_path):
    project = load(tmp_path, """
services:
  redis:
    image: redis:7.2
    healthcheck:
      test: ["CMD-SHELL", "[ \\"$$(redis-cli -u redis://:$$REDIS_PASSWORD@localhost ping)\\" = PONG ]"]
""")
    (probe,) = healthcheck_probes(project.services["redis"])
    assert probe.command == ["ping"]
    assert probe.output_checked and not probe.errors_exit
    assert probe.password_via == "-u" and probe.password_templated and probe.url_empty_user
