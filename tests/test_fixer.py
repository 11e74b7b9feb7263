"""``--fix``, ``--unsafe-fixes`` and ``--diff``.

``tests/fixes/<CODE>/`` holds one fixture per fixable rule: ``input.yml`` / ``input.conf`` (or an
``input/`` project folder) and the byte-for-byte result of ``--fix --unsafe-fixes`` with only
that rule selected in ``expected.*``. ``VANTAGE_UPDATE_FIXES=1`` rewrites the expected files
(review the diff before keeping it).
"""

from __future__ import annotations

import difflib
import errno
import io
import os
import shutil
import stat
import textwrap
from pathlib import Path

import pytest

from vantage_lint import fixer
from vantage_lint.cli import main
from vantage_lint.engine import Inputs
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity, Span
from vantage_lint.fixer import AppliedEdits, parse_problems, run_fixes
from vantage_lint.registry import load_rules
from vantage_lint.settings import Settings
from vantage_lint.source import decode

ROOT = Path(__file__).resolve().parent.parent
FIXES = Path(__file__).parent / "fixes"
BROKEN = ROOT / "fixtures" / "broken"
CORPUS = ROOT.parent / "shared" / "corpus" / "realworld"
UPDATE = os.environ.get("VANTAGE_UPDATE_FIXES") == "1"


def fix(paths, *, select=None, unsafe=True, write=True, diff_out=None, log=None, environ=None):
    settings = Settings()
    if select is not None:
        settings.select = select
    err = io.StringIO()
    report, code = run_fixes([str(p) for p in paths], settings, Inputs(environ=environ or {}), unsafe=unsafe,
                             write=write, diff_out=diff_out, err=err, log=log)
    return report, code, err.getvalue()


def fixable_codes() -> list[str]:
    return sorted(r.code for r in load_rules() if r.fix is not None)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# Per-rule fixtures


def fixture_cases():
    if not FIXES.is_dir():
        return
    for folder in sorted(p for p in FIXES.iterdir() if p.is_dir()):
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("input"):
                yield pytest.param(folder.name, entry, id=f"{folder.name}/{entry.name}")


def _expected_for(entry: Path) -> Path:
    return entry.with_name(entry.name.replace("input", "expected", 1))


def _copy_input(entry: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    """Copy a fixture input into tmp_path; returns (the folder, the paths to lint)."""
    work = tmp_path / "work"
    if entry.is_dir():
        shutil.copytree(entry, work)
        return work, [Path(".")]
    work.mkdir()
    name = "redis.conf" if entry.suffix == ".conf" else "docker-compose.yml"
    shutil.copyfile(entry, work / name)
    return work, [Path(name)]


def test_every_fixable_rule_has_a_fixture():
    have = {p.name for p in FIXES.iterdir() if p.is_dir()}
    missing = [code for code in fixable_codes() if code not in have]
    assert not missing, f"fixable rules without tests/fixes/<CODE>/: {missing}"


@pytest.mark.parametrize("code,entry", list(fixture_cases()))
def test_fix_fixture(code: str, entry: Path, tmp_path, monkeypatch):
    if code not in fixable_codes():
        pytest.skip(f"{code} is not a registered fixable rule")
    work, targets = _copy_input(entry, tmp_path)
    monkeypatch.chdir(work)
    before = snapshot(work)
    report, _code, err = fix(targets, select=[code])
    after = snapshot(work)
    assert after != before, f"{code}: the fix changed nothing ({err})"
    expected = _expected_for(entry)
    if entry.is_dir():
        if UPDATE:
            shutil.rmtree(expected, ignore_errors=True)
            shutil.copytree(work, expected)
        assert after == snapshot(expected)
    else:
        (produced,) = [work / t for t in targets]
        if UPDATE:
            expected.write_bytes(produced.read_bytes())
        assert produced.read_bytes() == expected.read_bytes()
    # Every fixable finding of the rule is fixed (a fix withheld for a shared value has no fix).
    assert not [f for f in report.findings if f.code == code and f.fix is not None]
    # Idempotent: a second run changes nothing.
    _report, _code, err = fix(targets, select=[code])
    assert snapshot(work) == after, err
    # The fixed files are still accepted by Compose (VL001, VL002) and redis-server (VL005).
    check, _code, _err = fix(targets, select=["VL001", "VL002", "VL003", "VL005"], write=False)
    assert not check.findings, [(f.code, f.message) for f in check.findings]


# ---------------------------------------------------------------------------------------------
# Choosing edits


def _finding(code: str, *edits: tuple[int, int, str], line: int = 1) -> Finding:
    span = Span("c.yml", line, 1, line, 1)
    fix_ = Fix(code, tuple(Edit("c.yml", s, e, c) for s, e, c in edits), Applicability.SAFE)
    return Finding(code, code.lower(), Severity.WARNING, "m", "h.", span, fix=fix_)


def test_overlapping_fixes_wait_for_the_next_pass():
    a = _finding("VL1", (10, 20, "x"), line=1)
    b = _finding("VL2", (15, 25, "y"), line=2)          # overlaps a
    c = _finding("VL3", (20, 20, "z"), line=3)          # touches a's end: fine
    d = _finding("VL4", (20, 20, "w"), line=4)          # same insertion point as c
    e = _finding("VL5", (10, 20, "x"), line=5)          # the very same edit as a
    chosen, duplicates = fixer._choose([e, d, c, b, a])
    assert [f.code for f in chosen] == ["VL1", "VL3"]
    assert [(d.code, o.code) for d, o in duplicates] == [("VL5", "VL1")]
    assert fixer._splice("0123456789abcdefghijKLMN", [x for f in chosen for x in f.fix.edits]) == "0123456789xzKLMN"


def test_overlap_rules():
    e = lambda s, t: Edit("p", s, t, "")  # noqa: E731
    assert fixer._overlaps(e(0, 5), e(4, 6))
    assert not fixer._overlaps(e(0, 5), e(5, 6))
    assert fixer._overlaps(e(3, 3), e(0, 5))
    assert not fixer._overlaps(e(5, 5), e(0, 5))
    assert fixer._overlaps(e(5, 5), Edit("p", 5, 5, "x"))
    assert not fixer._overlaps(e(0, 5), Edit("q", 0, 5, ""))


def test_inserts_at_one_point_take_several_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("docker-compose.yml").write_text("services:\n  api:\n    image: shop/api:1.4.2\n")
    log: list[AppliedEdits] = []
    report, code, err = fix(["docker-compose.yml"], select=["VL106", "VL107", "VL405"], log=log)
    text = Path("docker-compose.yml").read_text()
    assert "restart: unless-stopped" in text and "no-new-privileges:true" in text and 'max-size: "10m"' in text
    assert [entry.pass_number for entry in log] == [1, 2, 3]
    assert "Fixed 3 findings (0 remaining)." in err and code == 0 and not report.findings


# ---------------------------------------------------------------------------------------------
# Writing safely


COMPOSE = "services:\n  api:\n    image: shop/api:1.4.2  # pinned\n"


def _project(tmp_path: Path, text: str = COMPOSE, name: str = "docker-compose.yml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_write_failure_leaves_the_original(tmp_path, monkeypatch):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)

    def fail(*_args, **_kwargs):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", fail)
    report, code, err = fix([path.name], select=["VL107"])
    assert code == 2
    assert path.read_bytes() == COMPOSE.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docker-compose.yml"]  # no temporary file left
    errors = [line for line in err.splitlines() if "error" in line]
    assert errors == ["vantage-lint: error: cannot write docker-compose.yml: Permission denied"]
    assert [f.code for f in report.findings] == ["VL107"]  # the report describes the file as it is


def test_failure_midway_through_the_write(tmp_path, monkeypatch):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)

    def fail(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    _report, code, err = fix([path.name], select=["VL107"])
    assert code == 2 and "No space left on device" in err
    assert path.read_bytes() == COMPOSE.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docker-compose.yml"]


def test_cli_write_error_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only file system")))
    code = main(["--fix", "--unsafe-fixes", "--isolated", "--select", "VL107", path.name])
    assert code == 2
    assert path.read_bytes() == COMPOSE.encode()
    assert capsys.readouterr().err == "vantage-lint: error: cannot write docker-compose.yml: Read-only file system\n"


def test_file_changed_on_disk_is_not_overwritten(tmp_path, monkeypatch):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    original_write = fixer._Run.write

    def meddle(self, changed):
        path.write_text(COMPOSE + "# edited meanwhile\n")
        return original_write(self, changed)

    monkeypatch.setattr(fixer._Run, "write", meddle)
    _report, code, err = fix([path.name], select=["VL107"])
    assert code == 2 and "changed on disk" in err
    assert path.read_text() == COMPOSE + "# edited meanwhile\n"


def test_mode_symlink_crlf_and_bom_are_kept(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    target = _project(real, "\ufeffservices:\r\n  api:\r\n    image: shop/api:1.4.2\r\n")
    target.chmod(0o640)
    link = tmp_path / "docker-compose.yml"
    link.symlink_to(target)
    monkeypatch.chdir(tmp_path)
    _report, code, _err = fix([link.name], select=["VL107"])
    assert code == 0
    assert link.is_symlink()
    assert target.read_bytes() == "\ufeffservices:\r\n  api:\r\n    image: shop/api:1.4.2\r\n    restart: unless-stopped\r\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_fix_that_breaks_the_file_is_refused(tmp_path, monkeypatch):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    from vantage_lint.rules import service_runtime

    def broken(service, policy, node):
        return Fix("break it", (Edit(path.name, 0, 0, "services: [\n"),), Applicability.UNSAFE), ""

    monkeypatch.setattr(service_runtime, "_restart_fix", broken)
    report, code, err = fix([path.name], select=["VL107"])
    assert path.read_bytes() == COMPOSE.encode()
    assert "VL107 not fixed" in err and "would be rejected" in err
    assert code == 1 and [f.code for f in report.findings] == ["VL107"]


def test_a_fix_that_breaks_the_schema_is_undone(tmp_path, monkeypatch):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    from vantage_lint.rules import service_runtime

    def schema_breaking(service, policy, node):
        end = len(COMPOSE)
        return Fix("break it", (Edit(path.name, end, end, "    restart: [always]\n"),), Applicability.UNSAFE), ""

    monkeypatch.setattr(service_runtime, "_restart_fix", schema_breaking)
    report, code, err = fix([path.name], select=["VL002", "VL107"])
    assert path.read_bytes() == COMPOSE.encode()
    assert "VL107 not fixed" in err and "VL002" in err
    assert "Fixed 0 findings" in err and [f.code for f in report.findings] == ["VL107"]


def test_a_fix_that_does_not_fix_is_not_repeated(tmp_path, monkeypatch):
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    from vantage_lint.rules import service_runtime

    def useless(service, policy, node):
        end = len(path.read_text())  # the end of the file as it is now
        return Fix("comment", (Edit(path.name, end, end, "# restart later\n"),), Applicability.UNSAFE), ""

    monkeypatch.setattr(service_runtime, "_restart_fix", useless)
    _report, code, err = fix([path.name], select=["VL107"])
    # The useless edit is undone: kept, it would be added again by every run.
    assert path.read_text() == COMPOSE
    assert "VL107 not fixed: its edit does not remove the finding" in err and code == 1
    assert "Fixed 0 findings" in err


def test_safe_only_without_unsafe_fixes(tmp_path, monkeypatch):
    path = _project(tmp_path, 'version: "3.8"\n' + COMPOSE)
    monkeypatch.chdir(tmp_path)
    _report, code, err = fix([path.name], select=["VL006", "VL107"], unsafe=False)
    assert path.read_text() == COMPOSE
    assert "Fixed 1 finding (1 remaining). 1 more fixable with --unsafe-fixes." in err
    assert code == 1


# ---------------------------------------------------------------------------------------------
# --diff


def test_diff_writes_nothing_and_masks_secrets(tmp_path, monkeypatch, capsys):
    text = textwrap.dedent("""\
        services:
          api:
            image: shop/api:1.4.2
            environment:
              REDIS_PASSWORD: hunter2-very-secret
        """)
    path = _project(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    code = main(["--diff", "--unsafe-fixes", "--isolated", "--select", "VL107", "--format", "concise", path.name])
    out = capsys.readouterr()
    assert code == 1
    assert path.read_text() == text
    assert out.out.startswith("--- a/docker-compose.yml\n+++ b/docker-compose.yml\n")  # the diff alone
    assert "+    restart: unless-stopped\n" in out.out
    assert "VL107" not in out.out and "VL" not in out.out
    assert "hunter2-very-secret" not in out.out
    assert "Would fix 1 finding" in out.err


def test_diff_applies_with_patch_semantics(tmp_path, monkeypatch):
    path = _project(tmp_path, "services:\n  api:\n    image: shop/api:1.4.2")  # no final newline
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    _report, code, _err = fix([path.name], select=["VL107"], write=False, diff_out=out)
    assert code == 1
    assert out.getvalue() == (
        "--- a/docker-compose.yml\n+++ b/docker-compose.yml\n@@ -1,3 +1,4 @@\n services:\n   api:\n"
        "-    image: shop/api:1.4.2\n\\ No newline at end of file\n+    image: shop/api:1.4.2\n"
        "+    restart: unless-stopped\n"
    )


def test_diff_without_changes(tmp_path, monkeypatch):
    path = _project(tmp_path, COMPOSE.replace("  # pinned", "") + "    restart: always\n")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    _report, code, err = fix([path.name], select=["VL107"], write=False, diff_out=out)
    assert (out.getvalue(), code) == ("", 0)
    assert "Would fix 0 findings (0 remaining)." in err


def test_stdin_is_fixed_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    settings.select = ["VL107"]
    out, err = io.StringIO(), io.StringIO()
    inputs = Inputs(environ={}, stdin_text=COMPOSE, stdin_filename="docker-compose.yml")
    _report, code, = run_fixes([], settings, inputs, unsafe=True, write=False, diff_out=out, err=err)
    assert "+    restart: unless-stopped" in out.getvalue() and code == 1
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------
# Shared values


def test_shared_options_are_not_fixed_for_one_service(tmp_path, monkeypatch):
    text = textwrap.dedent("""\
        x-opts: &opts
          max-file: "3"
        services:
          api:
            image: shop/api:1.4.2
            logging: {driver: json-file, options: *opts}
          worker:
            image: shop/api:1.4.2
            logging: {driver: local, options: *opts}
        """)
    path = _project(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    report, code, _err = fix([path.name], select=["VL106"])
    assert path.read_text() == text
    (finding,) = report.findings
    assert finding.fix is None and 'shared by services "api", "worker"' in finding.message


def test_restart_from_an_anchor_is_overridden_per_service(tmp_path, monkeypatch):
    text = textwrap.dedent("""\
        x-defaults: &defaults
          restart: "no"
        services:
          api:
            <<: *defaults
            image: shop/api:1.4.2
          migrate:
            <<: *defaults
            image: shop/api:1.4.2
            command: ./manage.py migrate
          web:
            image: shop/api:1.4.2
            depends_on:
              migrate:
                condition: service_completed_successfully
        """)
    path = _project(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    fix([path.name], select=["VL107"])
    fixed = path.read_text()
    assert 'x-defaults: &defaults\n  restart: "no"\n' in fixed  # the anchor is untouched
    assert "    image: shop/api:1.4.2\n    restart: unless-stopped\n  migrate:" in fixed
    assert fixed.count("restart: unless-stopped") == 2  # api and web; migrate runs once


# ---------------------------------------------------------------------------------------------
# Whole stacks: fixtures/broken and the corpus


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def assert_changes_only_at_edits(entry: AppliedEdits) -> None:
    """Every line that changed between ``before`` and ``after`` is a line an edit touched."""
    touched: set[int] = set()
    for edit in entry.edits:
        first = _line_of(entry.before, edit.start)
        last = _line_of(entry.before, max(edit.start, edit.end - 1))
        touched.update(range(first, last + 1))
        if edit.start == edit.end or entry.before[edit.start - 1 : edit.start] == "\n":
            touched.add(first - 1)
    before, after = entry.before.split("\n"), entry.after.split("\n")
    touched_text = {before[i] for i in touched if 0 <= i < len(before)}
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            assert i1 in touched or i1 - 1 in touched, (entry.path, i1, entry.codes)
            continue
        for i in range(i1, i2):
            assert i in touched or before[i] in touched_text, (entry.path, i + 1, before[i], entry.codes)


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_broken_fixture_is_fixed_and_stays_fixed(tmp_path, monkeypatch):
    if not BROKEN.is_dir():
        pytest.skip("fixtures/broken is absent")
    work = tmp_path / "broken"
    shutil.copytree(BROKEN, work)
    monkeypatch.chdir(work)
    original = snapshot(work)
    log: list[AppliedEdits] = []
    report, _code, err = fix(["."], log=log)
    first = snapshot(work)
    assert first != original
    assert not [f for f in report.findings if f.fix is not None], err
    for entry in log:
        assert_changes_only_at_edits(entry)
    for name, data in first.items():
        source = decode(data, name)
        kind = "redis" if name.endswith(".conf") else "compose"
        assert len(parse_problems(kind, source)) <= len(parse_problems(kind, decode(original[name], name)))
    _report, _code, err = fix(["."])
    assert snapshot(work) == first, err
    assert "Fixed 0 findings" in err


def corpus_projects() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


@pytest.mark.parametrize("project", corpus_projects(), ids=lambda p: p.name)
def test_corpus_fixes_change_only_what_they_name(project: Path, tmp_path, monkeypatch):
    work = tmp_path / project.name
    shutil.copytree(project, work, symlinks=True)
    monkeypatch.chdir(work)
    original = snapshot(work)
    log: list[AppliedEdits] = []
    # The fixable rules only, for speed; VL007 needs every rule to run (see the broken fixture).
    fix(["."], select=[c for c in fixable_codes() if c != "VL007"], log=log)
    fixed = snapshot(work)
    changed = [name for name in fixed if fixed[name] != original.get(name)]
    assert set(fixed) == set(original)  # no file created or removed
    for entry in log:
        assert_changes_only_at_edits(entry)
    for name in changed:
        before, after = decode(original[name], name), decode(fixed[name], name)
        kind = "redis" if name.endswith(".conf") else "compose"
        assert len(parse_problems(kind, after)) <= len(parse_problems(kind, before)), name
        removed = [c for c in _comments(before.text) if c not in _comments(after.text)]
        assert all("vantage-lint" in c for c in removed), (name, removed)  # only unused suppressions go
