"""The committed settings table (``data/celery-settings.json``) must be what the installed
celery defines: names, types, defaults and old upper-case names the app reader maps.

If this fails after a celery upgrade, run ``python scripts/gen_celery_settings.py`` and review
the diff.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from vantage_lint.celery.app_config import canonical, default

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.celery
pytest.importorskip("celery")


def test_committed_table_is_what_celery_defines():
    spec = importlib.util.spec_from_file_location("gen_celery_settings", ROOT / "scripts" / "gen_celery_settings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "regenerate: python scripts/gen_celery_settings.py"


def test_names_resolve_as_celery_resolves_them():
    from celery.app.defaults import DEFAULTS, _TO_NEW_KEY

    assert canonical("CELERYD_TASK_TIME_LIMIT") == _TO_NEW_KEY["CELERYD_TASK_TIME_LIMIT"] == "task_time_limit"
    assert canonical("CELERY_TASK_TIME_LIMIT", "CELERY") == "task_time_limit"
    assert canonical("CELERYD_TASK_TIME_LIMIT", "CELERY") is None      # a namespace means new names only
    assert canonical("TIME_LIMIT") is None
    assert default("worker_prefetch_multiplier") == DEFAULTS["worker_prefetch_multiplier"] == 4
    assert default("result_expires") == DEFAULTS["result_expires"].total_seconds()
