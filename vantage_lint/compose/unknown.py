"""Values the deployment supplies: known to Compose at ``up`` time, unknown to the linter.

A variable that is unset when the linter runs, blank in a template standing in for ``.env``
(``REDIS_PASSWORD=`` in ``.env.example``), or required with ``${VAR:?...}`` is interpolated as
a marker instead of an empty string. The marker is one word to the shell and redis-server's
tokenizers (no blank, no quote), is no number, size or duration, and names its variable, so
rules see "some value" where Compose will put one, never an empty password or a refused
argument. Markers never reach the user: finding texts show ``${NAME}``; ``--show-compose``
shows what Compose's ``config`` would print here, an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Private-use characters: ordinary to every tokenizer and valid in a path (a NUL would make
# os.stat raise), and never written in a Compose file by hand.
OPEN, CLOSE = "\ue000", "\ue001"
_OPEN, _CLOSE = OPEN, CLOSE
_MARKER = re.compile("\ue000([^\ue000\ue001]*)\ue001")


def marker(name: str) -> str:
    """The stand-in for the value of variable ``name``."""
    return f"{_OPEN}{name}{_CLOSE}"


def has_unknown(text: object) -> bool:
    return isinstance(text, str) and _OPEN in text


def is_marker(text: object) -> bool:
    return isinstance(text, str) and _MARKER.fullmatch(text) is not None


def unknown_names(text: str) -> list[str]:
    return _MARKER.findall(text) if _OPEN in text else []


def as_written(text: str) -> str:
    """``text`` with each marker shown as the ``${NAME}`` the user wrote."""
    return _MARKER.sub(lambda m: "${" + m.group(1) + "}", text) if _OPEN in text else text


def names_in(texts: Iterable[object]) -> tuple[str, ...]:
    """The variables whose markers ``texts`` hold, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for text in texts:
        if has_unknown(text):
            seen.update(dict.fromkeys(unknown_names(text)))  # type: ignore[arg-type]
    return tuple(seen)


def depends_clause(names: Iterable[str]) -> str:
    """The clause a finding adds when its verdict depends on values the deployment supplies:
    `` (depends on ${A} and ${B}, set at deploy time)``; empty without names."""
    shown = ["${" + name + "}" for name in names]
    if not shown:
        return ""
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return f" (depends on {listed}, set at deploy time)"


def as_compose(text: str) -> str:
    """``text`` as Compose's ``config`` prints it without the variable: markers dropped."""
    return _MARKER.sub("", text) if _OPEN in text else text
