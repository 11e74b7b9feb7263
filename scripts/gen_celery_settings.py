"""Generate ``vantage_lint/data/celery-settings.json`` from the installed celery.

Records every setting Celery knows (``celery.app.defaults.NAMESPACES``): its type, its default
(a ``timedelta`` as seconds) and its old upper-case names (``CELERYD_TASK_TIME_LIMIT`` for
``task_time_limit``), so the app-configuration reader can name settings as Celery does without
importing celery at lint time.

Usage: python scripts/gen_celery_settings.py [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "vantage_lint" / "data" / "celery-settings.json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (tuple, list, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def build() -> dict[str, Any]:
    from celery.app import defaults

    settings: dict[str, Any] = {}
    for name, option in defaults.flatten(defaults.NAMESPACES):
        settings[name] = {
            "type": option.type if isinstance(option.type, str) else option.type.__name__,
            "default": _jsonable(option.default),
            "old": defaults._TO_OLD_KEY.get(name),
        }
    return {"_meta": {"celery": version("celery"), "generated_by": "scripts/gen_celery_settings.py"},
            "settings": dict(sorted(settings.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed table differs")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=1, sort_keys=False) + "\n"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python scripts/gen_celery_settings.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
