"""Byte sizes and durations as Compose reads them (docker/go-units, go-str2duration)."""

from __future__ import annotations

import math
import re

# docker/go-units RAMInBytes: number (decimals allowed), optional space, binary suffix.
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$", re.IGNORECASE)
_MULTIPLIER = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)")
_DURATION_SECONDS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
    "d": 86400.0, "w": 604800.0,
}


def compose_bytes(value: object) -> int | None:
    """``512m`` / ``512M`` / ``512MB`` / ``512MiB`` → 536870912; integers are bytes; None if invalid."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        # 1e400 reads as inf and .nan as nan: neither is a size (int() would raise).
        return int(value) if math.isfinite(value) and value >= 0 else None
    match = _SIZE.match(str(value))
    if not match:
        return None
    number, unit, suffix = match.groups()
    if suffix and suffix.lower() == "ib" and not unit:
        return None
    return int(float(number) * _MULTIPLIER[unit.lower()])


def compose_duration(value: object) -> float | None:
    """``1m30s`` → 90.0 seconds; a bare number has no unit and is invalid (None)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in ("0",):
        return 0.0
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if not text:
        return None
    total, pos = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        return None
    return sign * total


def compose_cpus(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
