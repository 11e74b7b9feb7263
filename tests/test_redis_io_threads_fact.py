"""VL221 rests on the advice in the redis.conf that Redis 7.0 ships (Debian package redis-server)."""

from pathlib import Path

import pytest

SHIPPED = Path("/etc/redis/redis.conf")


@pytest.mark.skipif(not SHIPPED.exists(), reason="redis-server's packaged redis.conf is not installed")
def test_shipped_redis_conf_recommends_io_threads_only_with_a_spare_core():
    text = " ".join(line.lstrip("# ").strip() for line in SHIPPED.read_text().splitlines())
    assert "at least 4 or more cores, leaving at least one spare core" in text
