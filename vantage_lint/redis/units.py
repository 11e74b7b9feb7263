"""Numbers as redis-server reads them: memory values (``memtoull``) and the C integer parsers.

Every function returns None where redis-server reports an error, and otherwise the exact value
it stores, quirks included (FACTS A.1, checked against 7.0.15): ``512m`` is 512,000,000 bytes,
``512mb`` is 536,870,912, a unit alone (``mb``) or ``""`` is 0, and there is no ``t``, ``MiB``,
decimal or negative value.
"""

from __future__ import annotations

import functools
import re

ULLONG = 1 << 64
LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_DIGITS = frozenset("0123456789")
_C_SPACE = " \t\n\v\f\r"


@functools.cache
def _float_syntax() -> re.Pattern[str]:
    """C strtod: decimal or hexadecimal floats, inf/infinity, nan (string2d then refuses nan)."""
    return re.compile(
        r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
        r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
        r"|(?i:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?))"
    )


def parse_memory(text: str) -> int | None:
    """redis ``memtoull``: digits then ``b/k/kb/m/mb/g/gb`` (any case); None when invalid.

    Like redis-server 7.0, an overlong number saturates at 2**64-1 and the multiplication wraps
    modulo 2**64 (``17179869184gb`` is 0).
    """
    if text.startswith("-"):
        return None
    i = 0
    n = len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    multiplier = _UNITS.get(ascii_lower(text[i:]))
    if multiplier is None or i >= 128:
        return None
    value = min(int(text[:i]), ULLONG - 1) if i else 0
    return (value * multiplier) % ULLONG


def format_bytes(n: int) -> str:
    """``268435456`` → ``256 MiB``; a size that is no whole binary unit → ``512,000,000 bytes``."""
    if n > 0:
        for unit, name in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            # KiB only for small sizes: "500,000 KiB" reads worse than "512,000,000 bytes".
            if n % unit == 0 and (unit > 1024 or n < 1 << 20):
                return f"{n // unit:,} {name}"
    return f"{n:,} bytes"


def string2ll(text: str) -> int | None:
    """redis ``string2ll``: strict decimal, no sign but ``-``, no leading zeros, no blanks."""
    n = len(text)
    if n == 0 or n >= 21:
        return None
    if text == "0":
        return 0
    digits = text[1:] if text[0] == "-" else text
    if not digits or digits[0] not in "123456789" or not _all_digits(digits):
        return None
    value = -int(digits) if text[0] == "-" else int(digits)
    return value if LLONG_MIN <= value <= LLONG_MAX else None


def strtoll(text: str, base: int = 10) -> int | None:
    """C ``strtoll`` where the whole text must be consumed (``*endptr == '\\0'``).

    Leading blanks and a sign are allowed; ``""`` is 0 (nothing converted, nothing left);
    out-of-range values saturate (C sets ``errno``, which most callers in config.c ignore).
    """
    value = _strtoll(text, base)
    return None if value is None else max(LLONG_MIN, min(LLONG_MAX, value))


def strtoll_in_range(text: str, base: int = 10) -> int | None:
    """Like :func:`strtoll` but None on overflow too (callers that check ``errno``)."""
    value = _strtoll(text, base)
    if value is None or not LLONG_MIN <= value <= LLONG_MAX:
        return None
    return value


def string2d(text: str) -> float | None:
    """redis ``string2d``: a C double with nothing before or after it; no nan, no overflow."""
    if not text or text[0] in _C_SPACE or len(text) >= 5120:
        return None
    if _float_syntax().fullmatch(text) is None:
        return None
    body = text.lstrip("+-").lower()
    if body.startswith("nan"):
        return None
    try:
        value = float.fromhex(text) if body.startswith("0x") else float(text)
    except (ValueError, OverflowError):
        return None
    if value in (float("inf"), float("-inf")) and not body.startswith("inf"):
        return None  # ERANGE overflow
    if value == 0.0 and any(c in "123456789" for c in body.split("e")[0].split("p")[0].replace("0x", "")):
        return None  # ERANGE underflow to zero
    return value


def _strtoll(text: str, base: int) -> int | None:
    i = 0
    n = len(text)
    while i < n and text[i] in _C_SPACE:
        i += 1
    j = i
    if j < n and text[j] in "+-":
        j += 1
    k = j
    allowed = "01234567" if base == 8 else "0123456789"
    while k < n and text[k] in allowed:
        k += 1
    if k == j:
        # Nothing converted: endptr is the start of the text, so only "" passes.
        return 0 if n == 0 else None
    if k != n:
        return None
    value = int(text[j:k], base)
    return -value if text[i] == "-" else value


def _all_digits(text: str) -> bool:
    return all(c in _DIGITS for c in text)


def ascii_lower(text: str) -> str:
    """C ``tolower``/``strcasecmp`` folding: ASCII letters only (a Kelvin sign stays one)."""
    return text.lower() if text.isascii() else "".join(c.lower() if c.isascii() else c for c in text)
