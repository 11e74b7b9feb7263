"""Redis configuration: redis.conf parsing that follows redis-server, and the directive table."""

from __future__ import annotations

from vantage_lint.redis.config import (
    Directive,
    RedisConfig,
    config_from_args,
    directive_info,
    looks_like_redis_conf,
    parse_redis_config,
)

__all__ = [
    "Directive",
    "RedisConfig",
    "config_from_args",
    "directive_info",
    "looks_like_redis_conf",
    "parse_redis_config",
]
