"""The committed option table must be what the installed celery really parses.

If this fails after a celery upgrade, run ``python scripts/gen_celery_options.py`` and review
the diff: it is the list of CLI changes the rules now see.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

import pytest

from vantage_lint.celery.options import table

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "vantage_lint" / "data" / "celery-options.json"

pytestmark = pytest.mark.celery


@cache
def regenerated() -> dict:
    try:
        import celery  # noqa: F401
    except ImportError:
        pytest.skip("celery is not installed (pip install -e '.[test]')")
    spec = importlib.util.spec_from_file_location("gen_celery_options", ROOT / "scripts" / "gen_celery_options.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_table()


def committed() -> dict:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_generated_from_the_installed_celery():
    installed = regenerated()["_meta"]["celery"]
    assert committed()["_meta"]["celery"] == installed, "regenerate: scripts/gen_celery_options.py"


def test_global_options_match():
    assert regenerated()["global"] == committed()["global"]


@pytest.mark.parametrize("subcommand", ["worker", "beat", "inspect", "control", "status", "events", "multi"])
def test_subcommand_matches(subcommand):
    assert regenerated()["commands"][subcommand] == committed()["commands"][subcommand]


def test_library_envvars_match():
    assert regenerated()["library_envvars"] == committed()["library_envvars"]


def test_static_flower_part_is_present():
    flower = table().commands["flower"]
    assert flower.style == "tornado"
    names = {o.name for o in flower.options}
    assert {"basic-auth", "auth", "port", "url-prefix", "logging"} <= names
    assert next(o for o in flower.options if o.name == "basic-auth").envvars == ("FLOWER_BASIC_AUTH",)
