"""VL005 judges a redis.conf as the server in the image runs it: Redis of the tag's version, or
Valkey (its own directive table from a live valkey-server 8.1). The real-server side of each
line is in tests/redis_cases (valkey_*.conf), run on both binaries by test_redis_vs_server.py."""

from __future__ import annotations

import pytest

from tests.helpers import run
from vantage_lint.compose.model import parse_image
from vantage_lint.redis.directives import version_key
from vantage_lint.redis.link import image_server, image_version

COMPOSE = """services:
  redis:
    image: {image}
    command: ["redis-server", "/usr/local/etc/redis/redis.conf"]
    volumes:
      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro
"""


def vl005(tmp_path, image: str, conf: str) -> list[str]:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE.format(image=image))
    (tmp_path / "redis.conf").write_text(conf)
    report = run([tmp_path / "docker-compose.yml"], select=["VL005", "VL225"])
    return [f"{f.code}:{f.message}" for f in report.findings]


@pytest.mark.parametrize("image,server,version,vkey", [
    ("redis:6.2-alpine", "redis", (6, 2), "6.2"),
    ("redis:7", "redis", (7, 4), "7.4"),
    ("redis:latest", "redis", None, None),
    ("bitnami/redis:7.2", "redis", (7, 2), "7.2"),
    ("valkey/valkey:8", "valkey", (8, 1), "valkey-8.1"),
    ("valkey/valkey:8.0-alpine", "valkey", (8, 0), "valkey-8.1"),
    ("valkey/valkey:7.2", "valkey", (7, 2), "7.2"),
    ("valkey/valkey", "valkey", None, "valkey-8.1"),
    ("bitnami/valkey:8.1", "valkey", (8, 1), "valkey-8.1"),
])
def test_image_tells_server_and_version(image, server, version, vkey):
    ref = parse_image(image)
    assert image_server(ref) == server
    assert image_version(ref) == version
    assert version_key(image_version(ref), image_server(ref)) == vkey


@pytest.mark.parametrize("line,redis_refuses,valkey_refuses", [
    ("dual-channel-replication-enabled yes\n", True, False),
    ("repl-diskless-load flush-before-load\n", True, False),
    ("log-format logfmt\n", True, False),
    ("maxmemory-samples 100\n", False, True),
    ("loglevel nothing\n", False, False),  # Redis 7.2+ and Valkey
])
def test_vl005_follows_the_image(tmp_path, line, redis_refuses, valkey_refuses):
    (tmp_path / "r").mkdir()
    (tmp_path / "v").mkdir()
    redis = vl005(tmp_path / "r", "redis:7.2", line)
    valkey = vl005(tmp_path / "v", "valkey/valkey:8.1", line)
    assert any(f.startswith("VL005") for f in redis) == redis_refuses, redis
    assert any(f.startswith("VL005") for f in valkey) == valkey_refuses, valkey


def test_valkey_only_directive_is_named_as_such_on_redis(tmp_path):
    found = vl005(tmp_path, "redis:7.2", "appendonly yes\ndual-channel-replication-enabled yes\n")
    assert any("is a Valkey directive, not a Redis one" in f for f in found), found


def test_primaryauth_is_not_an_old_name_on_valkey(tmp_path):
    found = vl005(tmp_path, "valkey/valkey:8", "primaryauth 6c0d1e7f9b2a4c58a1e3d5f7\n")
    assert found == []
