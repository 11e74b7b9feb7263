"""Is a document valid against the Compose schema? A yes/no answer without importing jsonschema.

jsonschema (with its validator built for the Compose schema) costs more to import than the rest
of a one-file run, and most files are valid: then there is no error to describe and nothing
that needs it. This checker knows exactly the keywords the Compose Specification schema uses,
with jsonschema's semantics (Draft 2020-12: Python ``re.search`` for patterns, ``True`` is not
``1``); on any keyword, reference or value it does not know it answers None ("cannot tell")
and the caller asks jsonschema. So it can only ever save work, never change a verdict; a test
compares both over the corpus and over mutated documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

# Keywords that only annotate: they never make a document invalid.
_ANNOTATIONS = frozenset({"description", "deprecated", "default", "$schema", "$id", "title", "$defs",
                          "examples", "$comment"})
_KNOWN = _ANNOTATIONS | {"type", "$ref", "properties", "patternProperties", "additionalProperties", "required",
                         "items", "oneOf", "anyOf", "allOf", "uniqueItems", "enum", "minimum", "maximum", "pattern"}


class _Unknown(Exception):
    """Something this checker does not decide; jsonschema must."""


def is_valid(schema: dict[str, Any], instance: Any) -> bool | None:
    """True or False as jsonschema would say for ``schema`` (a 2020-12 schema with local
    ``#/$defs/`` references), or None when this checker cannot tell."""
    try:
        return _checker(schema).valid(schema, instance)
    except (_Unknown, RecursionError):
        return None


# The checkers of the last few root schemas (the Compose schema is one), each holding its root
# so that the ids its compiled subschemas are filed under stay those of live objects.
_CHECKERS: dict[int, _Checker] = {}
_CHECKERS_LIMIT = 8


def _checker(root: dict[str, Any]) -> _Checker:
    checker = _CHECKERS.get(id(root))
    if checker is None or checker.root is not root:
        checker = _Checker(root)
        if len(_CHECKERS) >= _CHECKERS_LIMIT:
            del _CHECKERS[next(iter(_CHECKERS))]  # the oldest
        _CHECKERS[id(root)] = checker
    return checker


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False  # a boolean is neither a number nor an integer
    if name == "number":
        return isinstance(instance, (int, float))
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    raise _Unknown(name)


def _scalar_equal(one: Any, other: Any) -> bool:
    """jsonschema's equality for scalars; containers are not decided here."""
    if isinstance(one, (dict, list)) or isinstance(other, (dict, list)):
        raise _Unknown("container equality")
    if isinstance(one, bool) or isinstance(other, bool):
        return isinstance(one, bool) and isinstance(other, bool) and one == other
    return one == other


_PLAIN = (str, int, float, bool, type(None), dict, list)


Check = Callable[[Any], bool]


class _Checker:
    """Each subschema compiled, on its first use, into a function of the instance: its keywords
    in order, their values read once (a file's services meet the same subschemas again and again).
    A keyword this checker does not know compiles to a check that answers "cannot tell" when it
    is reached, as the schema would be read keyword by keyword."""

    __slots__ = ("root", "definitions", "compiled")

    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.definitions = root.get("$defs", {}) if isinstance(root, dict) else {}
        self.compiled: dict[int, Check] = {}

    def valid(self, schema: Any, instance: Any) -> bool:
        check = self.compiled.get(id(schema))
        if check is None:
            check = self.compiled[id(schema)] = self._compile(schema)
        return check(instance)

    def _compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            return _cannot_tell("schema")
        checks: list[Check] = []
        for keyword, value in schema.items():
            make = _MAKERS.get(keyword)
            if make is not None:
                checks.append(make(self, value, schema))
            elif keyword not in _ANNOTATIONS:
                checks.append(_cannot_tell(keyword))

        def check(instance: Any) -> bool:
            if not isinstance(instance, _PLAIN):
                raise _Unknown(type(instance).__name__)
            for one in checks:
                if not one(instance):
                    return False
            return True

        return check

    def _type(self, value: Any, _schema: dict[str, Any]) -> Check:
        names = value if isinstance(value, list) else [value]
        return lambda instance: any(_is_type(instance, name) for name in names)

    def _ref(self, value: Any, _schema: dict[str, Any]) -> Check:
        if not isinstance(value, str) or not value.startswith("#/$defs/") or "/" in value[len("#/$defs/"):]:
            return _cannot_tell(str(value))
        name = value[len("#/$defs/"):]
        if name not in self.definitions:
            return _cannot_tell(value)
        target = self.definitions[name]
        return lambda instance: self.valid(target, instance)

    def _properties(self, value: dict[str, Any], _schema: dict[str, Any]) -> Check:
        items = list(value.items())
        return lambda instance: not isinstance(instance, dict) or all(
            self.valid(sub, instance[name]) for name, sub in items if name in instance)

    def _patternProperties(self, value: dict[str, Any], _schema: dict[str, Any]) -> Check:
        patterns = [(_regex(pattern), sub) for pattern, sub in value.items()]

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for regex, sub in patterns:
                for key, item in instance.items():
                    if not isinstance(key, str):
                        raise _Unknown("key")
                    if regex.search(key) and not self.valid(sub, item):
                        return False
            return True

        return check

    def _additionalProperties(self, value: Any, schema: dict[str, Any]) -> Check:
        named = schema.get("properties", {})
        patterns = [_regex(p) for p in schema.get("patternProperties", {})]

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for key, item in instance.items():
                if key in named or any(p.search(key) for p in patterns):
                    continue
                if not self.valid(value, item):
                    return False
            return True

        return check

    def _required(self, value: list[str], _schema: dict[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, dict) or all(name in instance for name in value)

    def _items(self, value: Any, _schema: dict[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, list) or all(self.valid(value, item) for item in instance)

    def _oneOf(self, value: list[Any], _schema: dict[str, Any]) -> Check:
        def check(instance: Any) -> bool:
            matched = 0
            for sub in value:
                if self.valid(sub, instance):
                    matched += 1
                    if matched > 1:
                        return False
            return matched == 1

        return check

    def _anyOf(self, value: list[Any], _schema: dict[str, Any]) -> Check:
        return lambda instance: any(self.valid(sub, instance) for sub in value)

    def _allOf(self, value: list[Any], _schema: dict[str, Any]) -> Check:
        return lambda instance: all(self.valid(sub, instance) for sub in value)

    def _uniqueItems(self, value: Any, _schema: dict[str, Any]) -> Check:
        def check(instance: Any) -> bool:
            if value is not True or not isinstance(instance, list):
                return True
            if not all(isinstance(item, str) for item in instance):
                raise _Unknown("uniqueItems over non-strings")
            return len(set(instance)) == len(instance)

        return check

    def _enum(self, value: list[Any], _schema: dict[str, Any]) -> Check:
        return lambda instance: any(_scalar_equal(instance, option) for option in value)

    def _minimum(self, value: Any, _schema: dict[str, Any]) -> Check:
        return lambda instance: not _is_number(instance) or instance >= value

    def _maximum(self, value: Any, _schema: dict[str, Any]) -> Check:
        return lambda instance: not _is_number(instance) or instance <= value

    def _pattern(self, value: str, _schema: dict[str, Any]) -> Check:
        regex = _regex(value)
        return lambda instance: not isinstance(instance, str) or regex.search(instance) is not None


def _always(_instance: Any) -> bool:
    return True


def _never(_instance: Any) -> bool:
    return False


def _cannot_tell(what: str) -> Check:
    def check(_instance: Any) -> bool:
        raise _Unknown(what)

    return check


# keyword -> the method compiling it (``$ref`` -> ``_ref``)
_MAKERS = {keyword: getattr(_Checker, "_" + keyword.lstrip("$")) for keyword in _KNOWN - _ANNOTATIONS}


def _is_number(instance: Any) -> bool:
    return isinstance(instance, (int, float)) and not isinstance(instance, bool)
