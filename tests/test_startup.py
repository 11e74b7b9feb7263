"""Start-up: what a one-file run imports, and the generated rule index it relies on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from vantage_lint.registry import load_rules
from vantage_lint.report import ReportOptions
from vantage_lint.rules import _index, imported_rules

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "fixtures" / "vantage"

# Run the command line as `python -m vantage_lint` does, then list every module the process
# holds: importlib.import_module (used for rule modules and formats) bypasses -X importtime.
RUNNER = """
import sys
from vantage_lint.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as handle:
        handle.write("\\n".join(sorted(sys.modules)))
raise SystemExit(code)
"""

NEVER_ON_A_HIT = ("jsonschema", "rich", "importlib.metadata", "ruamel", "vantage_lint.compose.yaml_loader",
                  "vantage_lint.compose.project", "vantage_lint.redis.config", "vantage_lint.celery")


def _one_file_run(tmp_path: Path, *flags: str) -> tuple[set[str], set[str]]:
    """(modules -X importtime reports, modules in sys.modules) of a one-file run, no config,
    output not a terminal, on a warm cache (the run is made twice)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "VANTAGE_LINT_CACHE_DIR": str(tmp_path / "cache")}
    listing = tmp_path / "modules.txt"
    argv = [sys.executable, "-X", "importtime", "-c", RUNNER, str(listing), "--isolated", *flags,
            "docker-compose.yml"]
    for _ in range(2):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=STACK, stdin=subprocess.DEVNULL)
        assert done.returncode == 1, done.stderr[-2000:]
        assert "VL" in done.stdout
    timed = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "vantage_lint.engine" in timed, "no -X importtime output"
    return timed, set(listing.read_text().split())


def _offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in banned))


def test_cache_hit_imports_neither_heavy_libraries_nor_rule_modules(tmp_path):
    timed, loaded = _one_file_run(tmp_path, "-q")
    for modules in (timed, loaded):
        assert not _offenders(modules, NEVER_ON_A_HIT)
    rule_modules = sorted(m for m in loaded if m.startswith("vantage_lint.rules.") and m != "vantage_lint.rules._index")
    assert rule_modules == [], "a cache hit needs rule metadata only, never a check function"


def test_plain_text_and_concise_output_do_not_import_rich(tmp_path):
    for flags in (("--format", "text"), ("--format", "concise"), ("-q", "--statistics")):
        _timed, loaded = _one_file_run(tmp_path, *flags)
        assert not _offenders(loaded, ("rich", "jsonschema", "importlib.metadata"))


# Imported by a run without the cache only when the input needs them: the fixture has no
# Dockerfile (its build: names one that does not exist), valid YAML and only known option names.
ONLY_WHEN_NEEDED = ("rich", "vantage_lint.images.dockerfile", "importlib.resources", "difflib", "jsonschema")


def _interpreter_modules() -> set[str]:
    """What the interpreter itself holds before any of ours is imported (``site`` and .pth files
    of this environment may import importlib.resources, say)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import sys; print(' '.join(sys.modules))"],
                          capture_output=True, text=True, env=env, check=True)
    return set(done.stdout.split())


def test_no_cache_run_imports_only_what_the_input_needs(tmp_path):
    # (--no-cache also scans the installed plugins and validates against the schema: it does all the work)
    # (--quiet, not -q: click tries a short flag as a long one first, and the NoSuchOption it
    # raises and catches imports difflib)
    _timed, loaded = _one_file_run(tmp_path, "--quiet", "--no-cache")
    assert not _offenders(loaded - _interpreter_modules(), ONLY_WHEN_NEEDED)
    assert "vantage_lint.images.build" in loaded  # the service's build: was looked at


def test_rule_index_is_not_stale():
    # fails after a rule module changed: regenerate with `python -m vantage_lint.rules._index`
    assert _index.main(["--check"]) == 0, f"data/rule-index.json is stale: run {_index.REGEN}"


def test_indexed_rules_equal_the_imported_ones():
    indexed = _index.indexed_rules()
    assert indexed is not None
    imported = {r.code: r for r in imported_rules()}
    assert [r.code for r in indexed] == sorted(imported)
    for rule in indexed:
        real = imported[rule.code]
        for field in ("name", "summary", "severity", "scope", "doc", "hint", "fix", "roles", "options_schema",
                      "default_options", "production", "tags"):
            assert getattr(rule, field) == getattr(real, field), (rule.code, field)
        assert rule.check.__module__ == real.check.__module__
        assert rule.check.resolve() is real.check


def test_a_stale_index_falls_back_to_the_modules(tmp_path, monkeypatch):
    data = json.loads(_index.INDEX_FILE.read_text())
    data["modules"]["celery_app.py"] = "0" * 32
    stale = tmp_path / "rule-index.json"
    stale.write_text(json.dumps(data))
    monkeypatch.setattr(_index, "INDEX_FILE", stale)
    assert _index.indexed_rules() is None
    from vantage_lint.rules import get_rules

    assert {r.code for r in get_rules()} == {r.code for r in load_rules() if r.check.__module__.startswith("vantage_lint.")}


def test_plain_text_equals_rich_without_color():
    from vantage_lint import lint
    from vantage_lint.report import text_format

    report = lint([STACK, ROOT / "fixtures" / "broken"])
    assert report.findings
    options = ReportOptions(color=False, statistics=True)
    plain, rich_out = io.StringIO(), io.StringIO()
    text_format.render(report, plain, options)
    text_format._write_rich(list(text_format._lines(report, options)), rich_out, options)
    assert plain.getvalue() == rich_out.getvalue()


def test_a_valid_configuration_is_not_validated_again(tmp_path):
    """The verdict is cached by content: the second run with the same file imports no jsonschema;
    an edit that breaks the file is still caught."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "docker-compose.yml").write_text((STACK / "docker-compose.yml").read_text())
    config = project / ".vantage-lint.yaml"
    config.write_text("ignore: [VL404]\nrules:\n  VL215:\n    max-fraction: 0.8\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "VANTAGE_LINT_CACHE_DIR": str(tmp_path / "cache")}
    listing = tmp_path / "modules.txt"
    argv = [sys.executable, "-c", RUNNER, str(listing), "-q", "docker-compose.yml"]
    for _ in range(2):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=project)
        assert done.returncode == 1, done.stderr
    assert not _offenders(set(listing.read_text().split()), ("jsonschema",))
    config.write_text("ignore: [VL404]\nrules:\n  VL215:\n    max-fraction: 7\n")
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=project)
    assert done.returncode == 2 and "max-fraction" in done.stderr and ".vantage-lint.yaml:4" in done.stderr


def test_entry_point_scan_equals_importlib_metadata(tmp_path, monkeypatch):
    from importlib.metadata import entry_points

    from vantage_lint.registry import scan_entry_points

    for group in ("console_scripts", "vantage_lint.rules", "pytest11", "distutils.commands"):
        assert scan_entry_points(group) == sorted({(e.name, e.value) for e in entry_points(group=group)}), group
    # a plugin installed as a folder, shadowed by an earlier copy of the same distribution
    for where, value in (("first", "first_pkg:rules"), ("second", "second_pkg:rules")):
        info = tmp_path / where / "acme_rules-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "entry_points.txt").write_text(f"[console_scripts]\nx = y:z\n\n[vantage_lint.rules]\nacme = {value}\n")
    monkeypatch.syspath_prepend(str(tmp_path / "second"))
    monkeypatch.syspath_prepend(str(tmp_path / "first"))
    assert ("acme", "first_pkg:rules") in scan_entry_points("vantage_lint.rules")
    assert scan_entry_points("vantage_lint.rules") == sorted(
        {(e.name, e.value) for e in entry_points(group="vantage_lint.rules")})
    archive = tmp_path / "plugins.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    monkeypatch.syspath_prepend(str(archive))
    assert scan_entry_points("vantage_lint.rules") is None  # importlib.metadata must look inside


def test_rule_index_keeps_every_field_of_every_rule():
    """The index stands in for the rule modules: a Rule field it did not carry would silently
    take its default (a production-tier rule would join the default preset)."""
    from dataclasses import fields

    from vantage_lint.registry import Rule
    from vantage_lint.rules import imported_rules
    from vantage_lint.rules._index import indexed_rules

    indexed = indexed_rules()
    assert indexed is not None, "the index is stale: python -m vantage_lint.rules._index"
    by_code = {r.code: r for r in indexed}
    for rule in imported_rules():
        for field in fields(Rule):
            if field.name != "check":
                assert getattr(by_code[rule.code], field.name) == getattr(rule, field.name), (rule.code, field.name)
