"""The schema rewrite that makes VL002 fast must not change any verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from vantage_lint.compose.nodes import MapNode
from vantage_lint.compose.schema import compose_schema, schema_view, static_unevaluated
from vantage_lint.compose.yaml_loader import parse_yaml
from vantage_lint.source import SourceError, read_source

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def _validators():
    import jsonschema

    original = compose_schema()
    cls = jsonschema.validators.validator_for(original)
    return cls(original), cls(static_unevaluated(original))


def _documents(folders: list[Path]) -> list[tuple[Path, object]]:
    docs = []
    for folder in folders:
        for path in sorted(folder.rglob("*.y*ml")):
            try:
                root = parse_yaml(read_source(path, str(path)), {}).root
            except (OSError, SourceError):
                continue
            if isinstance(root, MapNode):
                docs.append((path, schema_view(root)))
    return docs


def _disagreements(folders: list[Path]) -> list[str]:
    original, static = _validators()
    wrong = []
    for path, doc in _documents(folders):
        before = sorted(repr(list(e.absolute_path)) for e in original.iter_errors(doc))
        after = sorted(repr(list(e.absolute_path)) for e in static.iter_errors(doc))
        if bool(before) != bool(after):
            wrong.append(f"{path}: {before} vs {after}")
    return wrong


def test_rewrite_removes_unevaluated_properties():
    rewritten = static_unevaluated(compose_schema())
    service = rewritten["$defs"]["service"]
    assert "unevaluatedProperties" not in service
    assert service["additionalProperties"] is False
    assert "image" in service["properties"] and "deploy" in service["properties"]
    assert "unevaluatedProperties" in compose_schema()["$defs"]["service"]  # the original is untouched


def test_same_verdicts_on_test_fixtures():
    assert _disagreements([ROOT / "tests", ROOT / "fixtures"]) == []


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_same_verdicts_on_corpus():
    assert _disagreements([CORPUS]) == []
