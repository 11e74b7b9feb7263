"""Regular expressions compiled when first used.

A pattern compiled at module level costs its compile time in every run that imports the module,
also in the runs that never use it (a run answered from the result cache uses few). A
:class:`LazyPattern` stands where the compiled pattern stood (``NAME.search(text)`` and the rest
of ``re.Pattern`` work unchanged) and compiles on its first use.
"""

from __future__ import annotations

import re
from typing import Any


# The pattern methods the code calls, kept as attributes once compiled: a call is then as direct
# as on the compiled pattern (the first one goes through __getattr__, which compiles).
_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class LazyPattern:
    __slots__ = ("_source", "_flags", "_compiled", *_METHODS)

    def __init__(self, source: str, flags: int = 0):
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = pattern = re.compile(self._source, self._flags)
            for name in _METHODS:
                setattr(self, name, getattr(pattern, name))
        return self._compiled

    def __getattr__(self, name: str) -> Any:  # only for what the slots do not hold
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"LazyPattern({self._source!r})"


def lazy(source: str, flags: int = 0) -> LazyPattern:
    """``re.compile(source, flags)``, deferred to the pattern's first use."""
    return LazyPattern(source, flags)
