"""Each shortcut taken for speed gives the answer of the plain computation it replaces."""

from __future__ import annotations

from vantage_lint.compose import casts


def _linear_caster(path: tuple[str, ...]):
    for pattern, cast in casts.CAST_TABLE.items():
        if casts._matches(path, pattern):
            return cast
    return None


def test_cast_lookup_by_shape_equals_the_table_scan():
    names = ["web", "*", "[]", "x"]
    paths: set[tuple[str, ...]] = {()}
    for pattern in casts.CAST_TABLE:
        for i in range(len(pattern) + 1):
            paths.add(pattern[:i])
        # every wildcard filled with each name, and each literal part swapped for another
        for name in names:
            paths.add(tuple(name if p == "*" else p for p in pattern))
            for i in range(len(pattern)):
                paths.add(pattern[:i] + (name,) + pattern[i + 1:])
        paths.add(pattern + ("extra",))
    for path in paths:
        matches = [p for p in casts.CAST_TABLE if casts._matches(path, p)]
        assert len(matches) <= 1, (path, matches)  # so the order of the lookup cannot matter
        assert casts.caster_for(path) is _linear_caster(path), path
