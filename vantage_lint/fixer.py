"""``--fix``, ``--unsafe-fixes`` and ``--diff``: splice the rules' edits into the original text,
re-lint, repeat until nothing is left to fix (at most :data:`MAX_PASSES` passes), then write
each changed file atomically or print a unified diff.

Nothing is written that would not parse: every fixed text is parsed again (YAML for Compose
files, redis-server's rules for redis.conf) and a fix that gives a file more VL001 or VL005
problems than it had is reported and skipped; the re-lint after each pass undoes a pass that
added VL002 (schema) findings to a file. Edits of one pass that overlap are not merged: the later fix waits for
the next pass, where it is computed again from the new text.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from vantage_lint.findings import Applicability, Edit, Finding, Fix
from vantage_lint.source import SourceError, SourceFile, decode

if TYPE_CHECKING:
    from vantage_lint.engine import Inputs, Report
    from vantage_lint.settings import Settings

MAX_PASSES = 10
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass(slots=True)
class AppliedEdits:
    """One file's change in one pass (what tests and callers may inspect)."""

    path: str
    pass_number: int
    before: str
    after: str
    edits: list[Edit]
    codes: list[str]


@dataclass(slots=True)
class _File:
    """A file the fixes touch: its text as read, its text now, and how many parse problems the
    original had (a fix may not add any)."""

    source: SourceFile
    kind: str               # "compose", "redis" or "text"
    text: str
    baseline: list[str] | None = None

    @property
    def original(self) -> str:
        return self.source.text


@dataclass(slots=True)
class _Outcome:
    fixed: int = 0
    refused: set[tuple[str, str, str]] = field(default_factory=set)
    # Findings whose fix was applied: one that comes back was not fixed by its own fix.
    applied: set[tuple[str, str, str]] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)


def run_fixes(
    paths: Sequence[str],
    settings: Settings,
    inputs: Inputs | None = None,
    *,
    unsafe: bool = False,
    write: bool = True,
    diff_out: TextIO | None = None,
    err: TextIO | None = None,
    log: list[AppliedEdits] | None = None,
) -> tuple[Report, int]:
    """Fix what can be fixed in ``paths`` and return the report of what remains, with the exit
    status: 0/1 by the remaining findings (1 as well when ``diff_out`` got a diff), 2 when a
    file could not be written (the original is then left as it was).

    ``write`` writes changed files in place; ``diff_out`` receives a unified diff of every
    change (secrets masked). Progress lines go to ``err`` (standard error by default).
    """
    from vantage_lint.engine import Inputs

    err = err if err is not None else sys.stderr
    base_inputs = inputs if inputs is not None else Inputs()
    overlay: dict[Path, bytes] = {}
    state = _Run(paths, settings, base_inputs, overlay, unsafe, log)
    report = state.lint()
    state.schema_baseline(report)
    for pass_number in range(1, MAX_PASSES + 1):
        candidates = state.candidates(report)
        if not candidates:
            break
        if state.apply_pass(report, candidates, pass_number):
            report = state.lint()
            while state.schema_regressions(report):
                report = state.lint()
    else:
        left = state.candidates(report)
        if left:
            state.outcome.messages.append(
                f"vantage-lint: warning: fixes did not settle after {MAX_PASSES} passes; "
                f"{len(left)} fixable finding{'s' if len(left) != 1 else ''} left as they are"
            )
    exit_code = EXIT_CLEAN
    changed = _one_per_file(state, [f for f in state.files.values() if f.text != f.original])
    if diff_out is not None:
        for file in sorted(changed, key=lambda f: f.source.path):
            diff_out.write(unified_diff(file.source.path, file.original, file.text, file.source.bom))
        if changed:
            exit_code = EXIT_FINDINGS
    if write:
        failed = state.write(changed)
        if failed:
            # The report must describe the files as they are on disk.
            for file in failed:
                file.text = file.original
                if file.source.real_path is not None:
                    overlay.pop(_key(file.source.real_path), None)
            report = state.lint()
            exit_code = EXIT_ERROR
    for message in dict.fromkeys(state.outcome.messages):  # one line per problem, in order
        print(message, file=err)
    if exit_code != EXIT_ERROR:  # after a write error, its one line says it all
        print(_summary(report, state.outcome.fixed, unsafe, applied=write), file=err)
    if exit_code == EXIT_CLEAN:
        exit_code = report.exit_code
    return report, exit_code


def _one_per_file(state: _Run, changed: list[_File]) -> list[_File]:
    """One entry per file on disk: a file read under two names (a symbolic link named on the
    command line beside its target) is one patch and one write; when the two names were fixed
    differently, neither is written."""
    by_real: dict[Path | str, list[_File]] = {}
    for file in changed:
        real = file.source.real_path
        by_real.setdefault(_key(real) if real is not None else file.source.path, []).append(file)
    kept: list[_File] = []
    for group in by_real.values():
        first = min(group, key=lambda f: f.source.path)
        if all(f.text == first.text for f in group):
            kept.append(first)
            continue
        names = ", ".join(sorted(f.source.path for f in group))
        state.outcome.messages.append(
            f"vantage-lint: warning: {names} are one file, fixed differently under each name; not written")
        for f in group:
            f.text = f.original
    return kept


class _Run:
    def __init__(self, paths: Sequence[str], settings: Settings, inputs: Inputs, overlay: dict[Path, bytes],
                 unsafe: bool, log: list[AppliedEdits] | None):
        self.paths = list(paths)
        self.settings = settings
        self.inputs = dataclasses.replace(inputs, overlay=overlay)
        self.overlay = overlay
        self.unsafe = unsafe
        self.log = log
        self.files: dict[str, _File] = {}
        self.outcome = _Outcome()
        # VL002 findings per file before any fix (None: VL002 is not selected).
        self.schema_counts: dict[str, int] | None = None
        # path -> (text before the last pass, the fixes that pass applied to it)
        self.last_pass: dict[str, tuple[str, list[Finding]]] = {}
        # How many findings of each identity the report had before the last pass.
        self.before: Counter[tuple[str, str, str]] = Counter()

    # -- linting --------------------------------------------------------------------------

    def lint(self) -> Report:
        from vantage_lint.engine import lint

        # One process: every file read is then kept in the report, read through the overlay.
        return lint(self.paths, self.settings, inputs=self.inputs, jobs=1)

    def allowed(self, fix: Fix | None) -> bool:
        if fix is None or not fix.edits:
            return False
        return fix.applicability is Applicability.SAFE or (self.unsafe and fix.applicability is Applicability.UNSAFE)

    def candidates(self, report: Report) -> list[Finding]:
        from vantage_lint.compose.unknown import has_unknown

        found = []
        for f in report.findings:
            if not self.allowed(f.fix) or _identity(f) in self.outcome.refused:
                continue
            edits = f.fix.edits  # type: ignore[union-attr]
            if not all(self._current(report, e.path) for e in edits):
                continue
            if not all(0 <= e.start <= e.end <= len(report.sources[e.path].text) for e in edits):
                self.outcome.refused.add(_identity(f))
                self.outcome.messages.append(f"vantage-lint: warning: {f.span}: {f.code} fix ignored: it edits "
                                             "outside the file (a bug in the rule)")
                continue
            shared = sorted({e.path for e in edits if e.path in report.shared})
            if shared and (f.fix.applicability is Applicability.UNSAFE or not self.unsafe):  # type: ignore[union-attr]
                # The sharing rule of the Compose side: a safe fix of a file other projects read
                # becomes unsafe, an unsafe one is withheld.
                self.outcome.refused.add(_identity(f))
                self.outcome.messages.append(
                    f"vantage-lint: warning: {f.span}: {f.code} not fixed: {shared[0]} is read by other projects "
                    "of this run too, and the fix would change them"
                    + ("; --unsafe-fixes applies it" if f.fix.applicability is Applicability.SAFE else ""))  # type: ignore[union-attr]
                continue
            if any(has_unknown(e.content) for e in edits):
                # It would write a value only the deployment knows (compose.unknown): never guess it.
                self.outcome.refused.add(_identity(f))
                continue
            if _identity(f) in self.outcome.applied:
                # Its fix was applied and the finding is still there: applying it again would
                # repeat the edit (a rule bug); keep the file as it is now.
                self.outcome.refused.add(_identity(f))
                self.outcome.messages.append(
                    f"vantage-lint: warning: {f.span}: {f.code} is still reported after its fix; not fixed again"
                )
                continue
            found.append(f)
        return found

    def _current(self, report: Report, path: str) -> bool:
        """Whether the report read ``path`` as the fixes left it: edits are offsets into that
        text, and a stale copy would put them in the wrong place."""
        source = report.sources.get(path)
        if source is None:
            return False
        file = self.files.get(path)
        return file is None or source.text == file.text

    # -- the schema: checked by the re-lint itself ------------------------------------------

    def schema_baseline(self, report: Report) -> None:
        if any(rule.code == "VL002" for rule in self.settings.enabled(report.rules)):
            self.schema_counts = _schema_counts(report)

    def schema_regressions(self, report: Report) -> bool:
        """Undo the last pass in every file where it added VL002 (schema) findings, or where a
        fix it applied did not remove its own finding (its edit landed where it has no effect,
        and would be added again on every run); True when something was undone (the caller
        lints again, and the other fixes of that pass are computed afresh)."""
        if not self.last_pass:
            return False
        counts = _schema_counts(report) if self.schema_counts is not None else {}
        # A finding "stays" when as many findings of its identity remain as before the pass
        # (another problem of the same rule on the same node may rightly remain).
        still = Counter(_identity(f) for f in report.findings)
        undone = False
        seen: set[int] = set()
        for path, (previous, applied) in list(self.last_pass.items()):
            stuck = [f for f in applied if still[_identity(f)] >= self.before.get(_identity(f), 0)]
            if self.schema_counts is not None and counts.get(path, 0) > self.schema_counts.get(path, 0):
                new = [f for f in report.findings if f.code == "VL002" and f.span.path == path]
                reason = new[0].message if new else "it breaks the Compose schema"
                refuse = applied
                why = f"the fixed file would be rejected (VL002: {reason})"
            elif stuck:
                refuse = stuck
                why = "its edit does not remove the finding (a bug in the rule); the file is left as it was"
            else:
                continue
            file = self.files[path]
            file.text = previous
            self._publish(file)
            self.outcome.fixed -= len([f for f in applied if id(f) not in seen])
            seen.update(id(f) for f in applied)
            for finding in applied:
                # The others of this pass may be applied again in the next one.
                self.outcome.applied.discard(_identity(finding))
            for finding in refuse:
                self.outcome.refused.add(_identity(finding))
                self.outcome.messages.append(
                    f"vantage-lint: warning: {finding.span}: {finding.code} not fixed: {why}")
            undone = True
        self.last_pass = {}
        return undone

    # -- one pass -------------------------------------------------------------------------

    def apply_pass(self, report: Report, candidates: list[Finding], pass_number: int) -> bool:
        """Apply the non-overlapping fixes of ``candidates``; True when some text changed."""
        chosen, duplicates = _choose(candidates)
        accepted = list(chosen)
        for finding in chosen:
            for edit in finding.fix.edits:  # type: ignore[union-attr]
                self._file(report.sources[edit.path])
        while True:
            texts = _splice_all(report, accepted)
            bad = [path for path, text in texts.items() if self._breaks(path, text) is not None]
            if not bad:
                break
            for path in bad:
                self._isolate(report, path, accepted)
        if not accepted:
            return False
        ids = {id(f) for f in accepted}
        also = [dup for dup, original in duplicates if id(original) in ids]
        self.before = Counter(_identity(f) for f in report.findings)
        self.outcome.fixed += len(accepted) + len(also)
        self.outcome.applied.update(_identity(f) for f in accepted + also)
        self.last_pass = {}
        for path, text in _splice_all(report, accepted).items():
            file = self.files[path]
            self.last_pass[path] = (file.text, [f for f in accepted + also if any(e.path == path for e in f.fix.edits)])  # type: ignore[union-attr]
            if self.log is not None:
                edits = [e for f in accepted for e in f.fix.edits if e.path == path]  # type: ignore[union-attr]
                codes = [f.code for f in accepted if any(e.path == path for e in f.fix.edits)]  # type: ignore[union-attr]
                self.log.append(AppliedEdits(path, pass_number, report.sources[path].text, text, edits, codes))
            file.text = text
            self._publish(file)
        return True

    def _isolate(self, report: Report, path: str, accepted: list[Finding]) -> None:
        """Keep the fixes of ``path`` that do not break it, one at a time, in order."""
        good: list[Finding] = []
        for finding in [f for f in accepted if any(e.path == path for e in f.fix.edits)]:  # type: ignore[union-attr]
            text = _splice(report.sources[path].text, _edits_for(good + [finding], path))
            reason = self._breaks(path, text)
            if reason is None:
                good.append(finding)
                continue
            accepted.remove(finding)
            self.outcome.refused.add(_identity(finding))
            self.outcome.messages.append(
                f"vantage-lint: warning: {finding.span}: {finding.code} not fixed: the fixed file would be "
                f"rejected ({reason})"
            )

    def _file(self, source: SourceFile) -> _File:
        file = self.files.get(source.path)
        if file is None:
            file = _File(source, _kind(source), source.text)
            self.files[source.path] = file
        return file

    def _breaks(self, path: str, text: str) -> str | None:
        """Why ``text`` may not replace ``path`` (a new parse problem), or None when it may."""
        file = self.files[path]
        if file.kind == "text":
            return None
        if file.baseline is None:
            file.baseline = parse_problems(file.kind, file.source)
        twin = _twin(file.source, text)
        if twin is None:
            return "the text is not valid UTF-8"
        problems = parse_problems(file.kind, twin)
        if len(problems) <= len(file.baseline):
            return None
        new = [p for p in problems if p not in file.baseline]
        return (new or problems)[0]

    def _publish(self, file: _File) -> None:
        """Make the next lint read the fixed text instead of the file."""
        real = file.source.real_path
        if real is not None:
            self.overlay[_key(real)] = file.source.encode(file.text)
        elif self.inputs.stdin_text is not None:
            self.inputs.stdin_text = file.text

    # -- writing --------------------------------------------------------------------------

    def write(self, changed: list[_File]) -> list[_File]:
        """Write every changed file; returns those that could not be written. When some were
        written and some not, one line says which is which (the written ones stay fixed)."""
        from vantage_lint.fsutil import atomic_write_bytes

        failed: list[_File] = []
        written: list[str] = []
        for file in sorted(changed, key=lambda f: f.source.path):
            real = file.source.real_path
            if real is None:
                self.outcome.messages.append(
                    f"vantage-lint: {file.source.path}: standard input is not rewritten; use --diff to see the fixes"
                )
                continue
            try:
                with open(real, "rb") as handle:
                    on_disk = handle.read()
                if on_disk != file.source.encode(file.original):
                    raise OSError(f"{file.source.path} changed on disk while it was being fixed; not written")
                atomic_write_bytes(real, file.source.encode(file.text), protect=True)
            except OSError as exc:
                message = f"cannot write {file.source.path}: {exc.strerror}" if exc.strerror else str(exc)
                self.outcome.messages.append(f"vantage-lint: error: {message.splitlines()[0]}")
                failed.append(file)
            else:
                written.append(file.source.path)
        if failed and written:
            self.outcome.messages.append(
                f"vantage-lint: wrote {_names(written)}; not written: {_names([f.source.path for f in failed])}")
        return failed


def _names(paths: list[str]) -> str:
    shown = ", ".join(paths[:10])
    return shown + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")


# ---------------------------------------------------------------------------------------------
# Choosing and splicing edits


def _choose(candidates: Iterable[Finding]) -> tuple[list[Finding], list[tuple[Finding, Finding]]]:
    """Fixes whose edits overlap no fix chosen before them (the others wait for the next pass),
    and the (duplicate, original) pairs of findings whose fix is exactly one already chosen."""
    chosen: list[Finding] = []
    duplicates: list[tuple[Finding, Finding]] = []
    taken: dict[str, list[Edit]] = {}
    by_edits: dict[frozenset[Edit], Finding] = {}
    for finding in sorted(candidates, key=Finding.sort_key):
        edits = finding.fix.edits  # type: ignore[union-attr]
        key = frozenset(edits)
        if key in by_edits:
            duplicates.append((finding, by_edits[key]))
            continue
        if any(_overlaps(edit, other) for edit in edits for other in taken.get(edit.path, ())):
            continue
        if any(_overlaps(a, b) for i, a in enumerate(edits) for b in edits[i + 1:] if a.path == b.path):
            continue  # a fix that contradicts itself is a rule bug; never apply it
        chosen.append(finding)
        by_edits[key] = finding
        for edit in edits:
            taken.setdefault(edit.path, []).append(edit)
    return chosen, duplicates


def _overlaps(a: Edit, b: Edit) -> bool:
    """Two edits conflict when their ranges intersect, when they insert at the same point, or
    when one inserts strictly inside the other's range. Touching ranges do not conflict."""
    if a.path != b.path:
        return False
    if a == b:
        return True
    a_insert, b_insert = a.start == a.end, b.start == b.end
    if a_insert and b_insert:
        return a.start == b.start
    if a_insert:
        return b.start < a.start < b.end
    if b_insert:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def _edits_for(findings: Iterable[Finding], path: str) -> list[Edit]:
    unique: dict[Edit, None] = {}
    for finding in findings:
        for edit in finding.fix.edits:  # type: ignore[union-attr]
            if edit.path == path:
                unique[edit] = None
    return list(unique)


def _splice(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits to ``text``, last first so earlier offsets stay valid."""
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        if not (0 <= edit.start <= edit.end <= len(text)):
            raise ValueError(f"edit {edit.start}:{edit.end} is outside {edit.path} ({len(text)} characters)")
        text = text[: edit.start] + edit.content + text[edit.end :]
    return text


def _splice_all(report: Report, findings: list[Finding]) -> dict[str, str]:
    paths = sorted({e.path for f in findings for e in f.fix.edits})  # type: ignore[union-attr]
    return {path: _splice(report.sources[path].text, _edits_for(findings, path)) for path in paths}


# ---------------------------------------------------------------------------------------------
# Checking fixed text


def _kind(source: SourceFile) -> str:
    name = Path(source.path).name
    if name.startswith(".env") or name.endswith(".env"):
        return "text"
    if name.endswith(".conf"):
        return "redis"
    if name.endswith((".yml", ".yaml")):
        return "compose"
    from vantage_lint.redis.config import looks_like_redis_conf

    return "redis" if looks_like_redis_conf(source.text) else "compose"


def _twin(source: SourceFile, text: str) -> SourceFile | None:
    try:
        twin = decode(source.encode(text), source.path)
    except SourceError:
        return None
    twin.real_path = source.real_path
    return twin


def parse_problems(kind: str, source: SourceFile) -> list[str]:
    """The problems that make Compose (VL001) or redis-server (VL005) refuse to read a file, as
    messages without positions (so that a fixed text can be compared with its original). The
    Compose schema (VL002) is checked by the re-lint that follows each pass."""
    if kind == "redis":
        from vantage_lint.redis.config import parse_redis_config

        conf = parse_redis_config(source)
        return [_strip_lines(p.message) for p in conf.problems if p.code == "VL005" and p.span.path == source.path]
    from vantage_lint.compose.nodes import MapNode
    from vantage_lint.compose.yaml_loader import parse_yaml

    loaded = parse_yaml(source)
    problems = [_strip_lines(p.message) for p in loaded.problems if p.code == "VL001"]
    if loaded.root is None:
        if not problems:
            problems.append("the file is empty")
        return problems
    if not isinstance(loaded.root, MapNode):
        return problems + ["the top level is not a mapping"]
    return problems


def _schema_counts(report: Report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in list(report.findings) + list(report.suppressed):
        if finding.code == "VL002":
            counts[finding.span.path] = counts.get(finding.span.path, 0) + 1
    return counts


_LINE_REF = re.compile(r"\b(line|column) \d+")


def _strip_lines(message: str) -> str:
    return _LINE_REF.sub(r"\1 N", message)


# ---------------------------------------------------------------------------------------------
# Output


def unified_diff(path: str, before: str, after: str, bom: str = "") -> str:
    """A unified diff of one file in git's form (``--- a/path`` / ``+++ b/path``: applies with
    ``git apply`` or ``patch -p1``), every line masked by
    :func:`vantage_lint.secrets.redact_source_line` (secrets the file reveals anywhere are
    masked on every line, before and after the change). ``bom`` is the file's byte order mark,
    which is part of its first line on disk, so a patch must show it to apply."""
    from vantage_lint.secrets import redact_source_line

    out: list[str] = []
    lines = difflib.unified_diff(_LINES.findall(bom + before), _LINES.findall(bom + after),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    for line in lines:
        if line.startswith(("---", "+++", "@@")):
            out.append(line if line.endswith("\n") else line + "\n")
            continue
        body = redact_source_line(redact_source_line(line[1:], path, before), path, after)
        if not body.endswith("\n"):
            body += "\n\\ No newline at end of file\n"
        out.append(line[0] + body)
    return "".join(out)


def _summary(report: Report, fixed: int, unsafe: bool, applied: bool) -> str:
    remaining = len(report.findings)
    verb = "Fixed" if applied else "Would fix"
    text = f"{verb} {fixed} finding{'s' if fixed != 1 else ''} ({remaining} remaining)."
    if not unsafe:
        hidden = sum(1 for f in report.findings if f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
        if hidden:
            text += f" {hidden} more fixable with --unsafe-fixes."
    return text


def _identity(finding: Finding) -> tuple[str, str, str]:
    """A finding's identity across passes (positions move as the text changes)."""
    return finding.code, finding.span.path, finding.fingerprint or finding.message


def _key(path: Path) -> Path:
    return Path(path).resolve()
