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
        return _Checker(schema).valid(schema, instance)
    except (_Unknown, RecursionError):
        return None


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


class _Checker:
    __slots__ = ("definitions",)

    def __init__(self, root: dict[str, Any]):
        self.definitions = root.get("$defs", {})

    def valid(self, schema: Any, instance: Any) -> bool:
        if schema is True:
            return True
        if schema is False:
            return False
        if not isinstance(schema, dict):
            raise _Unknown("schema")
        if not isinstance(instance, _PLAIN):
            raise _Unknown(type(instance).__name__)
        for keyword, value in schema.items():
            check = _CHECKS.get(keyword)
            if check is None:
                if keyword in _ANNOTATIONS:
                    continue
                raise _Unknown(keyword)
            if not check(self, value, instance, schema):
                return False
        return True

    def _type(self, value: Any, instance: Any, _schema: dict[str, Any]) -> bool:
        names = value if isinstance(value, list) else [value]
        return any(_is_type(instance, name) for name in names)

    def _ref(self, value: Any, instance: Any, _schema: dict[str, Any]) -> bool:
        if not isinstance(value, str) or not value.startswith("#/$defs/") or "/" in value[len("#/$defs/"):]:
            raise _Unknown(value)
        name = value[len("#/$defs/"):]
        if name not in self.definitions:
            raise _Unknown(value)
        return self.valid(self.definitions[name], instance)

    def _properties(self, value: dict[str, Any], instance: Any, _schema: dict[str, Any]) -> bool:
        if not isinstance(instance, dict):
            return True
        return all(self.valid(sub, instance[name]) for name, sub in value.items() if name in instance)

    def _patternProperties(self, value: dict[str, Any], instance: Any, _schema: dict[str, Any]) -> bool:
        if not isinstance(instance, dict):
            return True
        for pattern, sub in value.items():
            regex = _regex(pattern)
            for key, item in instance.items():
                if not isinstance(key, str):
                    raise _Unknown("key")
                if regex.search(key) and not self.valid(sub, item):
                    return False
        return True

    def _additionalProperties(self, value: Any, instance: Any, schema: dict[str, Any]) -> bool:
        if not isinstance(instance, dict):
            return True
        named = schema.get("properties", {})
        patterns = [_regex(p) for p in schema.get("patternProperties", {})]
        for key, item in instance.items():
            if key in named or any(p.search(key) for p in patterns):
                continue
            if not self.valid(value, item):
                return False
        return True

    def _required(self, value: list[str], instance: Any, _schema: dict[str, Any]) -> bool:
        return not isinstance(instance, dict) or all(name in instance for name in value)

    def _items(self, value: Any, instance: Any, _schema: dict[str, Any]) -> bool:
        return not isinstance(instance, list) or all(self.valid(value, item) for item in instance)

    def _oneOf(self, value: list[Any], instance: Any, _schema: dict[str, Any]) -> bool:
        matched = 0
        for sub in value:
            if self.valid(sub, instance):
                matched += 1
                if matched > 1:
                    return False
        return matched == 1

    def _anyOf(self, value: list[Any], instance: Any, _schema: dict[str, Any]) -> bool:
        return any(self.valid(sub, instance) for sub in value)

    def _allOf(self, value: list[Any], instance: Any, _schema: dict[str, Any]) -> bool:
        return all(self.valid(sub, instance) for sub in value)

    def _uniqueItems(self, value: Any, instance: Any, _schema: dict[str, Any]) -> bool:
        if value is not True or not isinstance(instance, list):
            return True
        if not all(isinstance(item, str) for item in instance):
            raise _Unknown("uniqueItems over non-strings")
        return len(set(instance)) == len(instance)

    def _enum(self, value: list[Any], instance: Any, _schema: dict[str, Any]) -> bool:
        return any(_scalar_equal(instance, option) for option in value)

    def _minimum(self, value: Any, instance: Any, _schema: dict[str, Any]) -> bool:
        return not _is_number(instance) or instance >= value

    def _maximum(self, value: Any, instance: Any, _schema: dict[str, Any]) -> bool:
        return not _is_number(instance) or instance <= value

    def _pattern(self, value: str, instance: Any, _schema: dict[str, Any]) -> bool:
        return not isinstance(instance, str) or _regex(value).search(instance) is not None


# keyword -> its check (``$ref`` -> ``_ref``), looked up once per keyword of every subschema
_CHECKS = {keyword: getattr(_Checker, "_" + keyword.lstrip("$")) for keyword in _KNOWN - _ANNOTATIONS}


def _is_number(instance: Any) -> bool:
    return isinstance(instance, (int, float)) and not isinstance(instance, bool)
