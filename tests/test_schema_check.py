"""The jsonschema-free validity check never disagrees with jsonschema, and usually decides."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

from vantage_lint.compose.schema import compose_schema, static_schema
from vantage_lint.compose.schema_check import is_valid
from tests.test_schema_static import CORPUS, ROOT, _documents

SCHEMA_CASES = [
    ({"type": "integer"}, 3, True), ({"type": "integer"}, 3.0, True), ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False), ({"type": ["string", "null"]}, None, True),
    ({"enum": [1]}, True, False), ({"enum": ["a", "b"]}, "b", True), ({"enum": [True]}, 1, False),
    ({"minimum": 0}, -1, False), ({"maximum": 5}, "x", True), ({"pattern": "^a"}, "ba", False),
    ({"pattern": "b"}, "ab", True),  # search, not match
    ({"required": ["a"]}, {}, False), ({"uniqueItems": True}, ["a", "a"], False),
    ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "x", None),  # minLength: not known -> cannot tell
    ({"oneOf": [{"type": "string"}, {"type": "string"}]}, "x", False), ({"anyOf": [False, True]}, 1, True),
    ({"properties": {"a": False}, "additionalProperties": False}, {"a": 1}, False),
    ({"patternProperties": {"^x-": True}, "additionalProperties": False}, {"x-a": 1, "b": 2}, False),
    ({"patternProperties": {"^x-": True}, "additionalProperties": False}, {"x-a": 1}, True),
    ({"$ref": "https://example.com/s"}, 1, None), ({"uniqueItems": True}, [1, 1.0], None),
]


@pytest.mark.parametrize("schema,instance,expected", SCHEMA_CASES)
def test_keyword_semantics_follow_jsonschema(schema, instance, expected):
    import jsonschema

    assert is_valid(schema, instance) is expected
    if expected is not None:
        assert jsonschema.Draft202012Validator(schema).is_valid(instance) is expected


def _mutations(doc: dict, rng: random.Random, count: int) -> list[dict]:
    """Small damages Compose users make: a wrong type, an unknown key, a removed or renamed key."""
    out = []
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [index])

    walk(doc, [])
    for _ in range(count):
        path = rng.choice(paths)
        if not path:
            continue
        copied = copy.deepcopy(doc)
        parent = copied
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        choice = rng.randrange(5)
        if choice == 0:
            parent[last] = rng.choice([1, 1.5, True, None, "x", [], {}, ["a", "a"], -3])
        elif choice == 1 and isinstance(parent, dict):
            parent[str(last) + "x"] = parent.pop(last)
        elif choice == 2 and isinstance(parent, dict):
            del parent[last]
        elif choice == 3 and isinstance(parent[last], dict):
            parent[last]["unknown_key"] = "v"
        elif choice == 4 and isinstance(parent[last], list):
            parent[last] = parent[last] + parent[last]
        out.append(copied)
    return out


def _check(docs: list, min_decided: float) -> None:
    import jsonschema

    schema = static_schema()
    reference = jsonschema.validators.validator_for(schema)(schema)
    original = jsonschema.validators.validator_for(compose_schema())(compose_schema())
    decided = 0
    for where, doc in docs:
        verdict = is_valid(schema, doc)
        if verdict is None:
            continue
        decided += 1
        assert verdict == reference.is_valid(doc) == original.is_valid(doc), where
    assert decided >= min_decided * len(docs), f"decided {decided} of {len(docs)}"


def _with_mutations(docs, per_doc: int) -> list:
    rng = random.Random(18)
    result = list(docs)
    for where, doc in docs:
        if isinstance(doc, dict):
            result += [(f"{where} (mutated)", m) for m in _mutations(doc, rng, per_doc)]
    return result


def test_agrees_with_jsonschema_on_fixtures_and_their_mutations():
    docs = _documents([ROOT / "tests", ROOT / "fixtures"])
    assert docs
    _check(_with_mutations(docs, 8), min_decided=0.9)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_agrees_with_jsonschema_on_corpus_and_its_mutations():
    _check(_with_mutations(_documents([CORPUS]), 4), min_decided=0.9)
