"""Compose's retyping of strings after interpolation, path by path.

compose-go casts a string value back to a number or boolean only at the paths of its table
``interpolateTypeCastMapping`` (compose-go v2.9.1, loader/interpolate.go), whatever the string
came from: ``user: "${UID:-1000}"`` and ``deploy.resources.limits.memory: "${X:-0}"`` stay
strings, ``retries: "${R:-3}"`` becomes the integer 3. ``*`` matches any mapping key and ``[]``
any sequence item (compose-go tree.PathMatchAll / PathMatchList).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_S = ("services", "*")


def _to_int(text: str) -> int:
    # strconv.Atoi / ParseInt: optional sign and decimal digits only
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        raise ValueError(text)
    return int(text)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered in ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"):
        return float(lowered)
    if not text or any(c not in "0123456789+-.eE_xXpPabcdefABCDEF" for c in text):
        raise ValueError(text)
    return float(text)


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "y", "yes", "on"):
        return True
    if lowered in ("false", "n", "no", "off"):
        return False
    raise ValueError(text)


_INT, _FLOAT, _BOOL = _to_int, _to_float, _to_bool

CAST_TABLE: dict[tuple[str, ...], Callable[[str], Any]] = {
    _S + ("cpu_count",): _INT,
    _S + ("cpu_percent",): _FLOAT,
    _S + ("cpu_period",): _INT,
    _S + ("cpu_quota",): _INT,
    _S + ("cpu_rt_period",): _INT,
    _S + ("cpu_rt_runtime",): _INT,
    _S + ("cpus",): _FLOAT,
    _S + ("cpu_shares",): _INT,
    _S + ("init",): _BOOL,
    _S + ("deploy", "replicas"): _INT,
    _S + ("deploy", "update_config", "parallelism"): _INT,
    _S + ("deploy", "update_config", "max_failure_ratio"): _FLOAT,
    _S + ("deploy", "rollback_config", "parallelism"): _INT,
    _S + ("deploy", "rollback_config", "max_failure_ratio"): _FLOAT,
    _S + ("deploy", "restart_policy", "max_attempts"): _INT,
    _S + ("deploy", "placement", "max_replicas_per_node"): _INT,
    _S + ("healthcheck", "retries"): _INT,
    _S + ("healthcheck", "disable"): _BOOL,
    _S + ("oom_kill_disable",): _BOOL,
    _S + ("oom_score_adj",): _INT,
    _S + ("pids_limit",): _INT,
    _S + ("ports", "[]", "target"): _INT,
    _S + ("privileged",): _BOOL,
    _S + ("read_only",): _BOOL,
    _S + ("scale",): _INT,
    _S + ("stdin_open",): _BOOL,
    _S + ("tty",): _BOOL,
    _S + ("ulimits", "*"): _INT,
    _S + ("ulimits", "*", "hard"): _INT,
    _S + ("ulimits", "*", "soft"): _INT,
    _S + ("volumes", "[]", "read_only"): _BOOL,
    _S + ("volumes", "[]", "volume", "nocopy"): _BOOL,
    ("networks", "*", "external"): _BOOL,
    ("networks", "*", "internal"): _BOOL,
    ("networks", "*", "attachable"): _BOOL,
    ("networks", "*", "enable_ipv4"): _BOOL,
    ("networks", "*", "enable_ipv6"): _BOOL,
    ("volumes", "*", "external"): _BOOL,
    ("secrets", "*", "external"): _BOOL,
    ("configs", "*", "external"): _BOOL,
}


def _matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    return len(path) == len(pattern) and all(p == "*" or p == q for p, q in zip(pattern, path))


# The table by (length, last part): every string of a file asks for its cast, and most paths
# have no candidate at all. A path matches at most one pattern (tests check it).
_BY_SHAPE: dict[tuple[int, str], list[tuple[tuple[str, ...], Callable[[str], Any]]]] = {}
for _pattern, _cast in CAST_TABLE.items():
    _BY_SHAPE.setdefault((len(_pattern), _pattern[-1]), []).append((_pattern, _cast))


def caster_for(path: tuple[str, ...]) -> Callable[[str], Any] | None:
    """The cast compose-go applies to a string at ``path`` (sequence items written ``[]``)."""
    if not path:
        return None
    for shape in ((len(path), path[-1]), (len(path), "*")):
        for pattern, cast in _BY_SHAPE.get(shape, ()):
            if _matches(path, pattern):
                return cast
    return None


def cast_string(path: tuple[str, ...], text: str) -> Any:
    """``text`` as compose-go retypes it at ``path``; unchanged when no cast applies or it fails
    (Compose then refuses the value; the schema check reports it)."""
    cast = caster_for(path)
    if cast is None:
        return text
    try:
        return cast(text)
    except ValueError:
        return text
