"""Suppressions, per-file ignores and the meta rules VL007/VL008, applied after all rules ran.

Forms (codes or rule names, separated by commas; an optional ``-- reason`` at the end):

- YAML, end of line: ``image: redis  # vantage-lint: disable=VL111 -- pinned by digest elsewhere``
- YAML or redis.conf, a comment alone on the line before (the next line that is not blank and
  not a comment): ``# vantage-lint: disable=VL213``
- file level, above the first line of content: ``# vantage-lint: disable-file=VL110`` (bare
  ``disable-file`` = every rule)
- per service: ``x-vantage: {ignore: [VL101], reason: "..."}`` (Compose ignores ``x-`` keys)

Comments are not part of the YAML node tree, so they are found by a small tokenizer that
knows YAML quoting and block scalars: a ``#`` inside a quoted scalar or a ``|``/``>`` block is
content, and a comment ``#`` starts a line or follows whitespace. redis.conf and env files
only have whole-line comments. Suppressed findings move to ``Report.suppressed`` with their
reason; suppressions that suppressed nothing are VL007, broken ones VL008.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vantage_lint.findings import Applicability, Edit, Finding, Fix, Span
from vantage_lint.lazyre import lazy
from vantage_lint.source import SourceFile

if TYPE_CHECKING:
    from vantage_lint.discovery import Target
    from vantage_lint.engine import Report

META_CODES = ("VL007", "VL008")
YAML_SUFFIXES = (".yml", ".yaml")
_DIRECTIVE = lazy(r"\s*vantage-lint(?P<colon>\s*:)?\s*(?P<rest>.*)$", re.IGNORECASE)
_VERB = lazy(r"(?P<verb>[A-Za-z][A-Za-z-]*)\s*(?P<eq>=)?")
_TOKEN = lazy(r"[^\s,]+")
_CODE_LIKE = lazy(r"^[A-Za-z][A-Za-z0-9-]*$")
_YAML_BREAK = lazy(r"\r\n|\r|\n")


class SuppressedFinding(Finding):
    """A finding that a suppression or the baseline removed from the report, and why.
    (A plain subclass: the lint pipeline imports this module on every run.)"""

    __slots__ = ("suppressed_by", "reason")

    suppressed_by: str   # "comment", "file", "x-vantage" or "baseline"
    reason: str | None


def suppressed_copy(finding: Finding, by: str, reason: str | None) -> SuppressedFinding:
    values = {f.name: getattr(finding, f.name) for f in dataclasses.fields(Finding)}
    copy = SuppressedFinding(**values)
    copy.suppressed_by = by
    copy.reason = reason
    return copy


# --- comment scanning ---------------------------------------------------------------------------

class Comment:
    __slots__ = ("line", "start", "end", "own_line")

    def __init__(self, line: int, start: int, end: int, own_line: bool):
        self.line = line            # 1-based
        self.start = start          # offset of "#"
        self.end = end              # offset of the end of the line (no line break)
        self.own_line = own_line


def _lines(text: str, yaml: bool = False) -> Iterator[tuple[int, int, str]]:
    """(1-based number, offset, text without the line break) of each line. Only ``\n`` ends a
    line, as in :class:`SourceFile` positions (``str.splitlines`` also splits on \f, \x1c...);
    in YAML a lone ``\r`` does too, as in the positions of a YAML file that has one."""
    if yaml and "\r" in text and text.count("\r") != text.count("\r\n"):
        start = 0
        for number, match in enumerate(_YAML_BREAK.finditer(text), 1):
            yield number, start, text[start:match.start()]
            start = match.end()
        yield text.count("\n") + text.count("\r") - text.count("\r\n") + 1, start, text[start:]
        return
    offset = 0
    for number, raw in enumerate(text.split("\n"), 1):
        yield number, offset, raw[:-1] if raw.endswith("\r") else raw
        offset += len(raw) + 1


def yaml_comments(text: str) -> Iterator[Comment]:
    """Comments of a YAML text, skipping ``#`` inside quoted scalars and block scalars."""
    quote = ""
    block_parent: int | None = None  # indent of the node owning an open block scalar
    for number, line_start, body in _lines(text, yaml=True):
        stripped = body.lstrip(" ")
        indent = len(body) - len(stripped)
        if block_parent is not None:
            if not stripped.strip() or indent > block_parent:
                continue  # content of the block scalar
            block_parent = None
        scan = _LineScanner(body, quote)
        hash_at = scan.run()
        quote = scan.quote
        if scan.block_scalar:
            block_parent = scan.block_parent
        if hash_at is not None:
            yield Comment(number, line_start + hash_at, line_start + len(body), not body[:hash_at].strip())


class _LineScanner:
    """One line of YAML: where its comment starts, which quote is still open at its end,
    and whether it opens a block scalar."""

    def __init__(self, body: str, quote: str):
        self.body = body
        self.quote = quote
        self.block_scalar = False
        self.block_parent = 0

    def run(self) -> int | None:
        body = self.body
        n = len(body)
        i = 0
        at_token_start = True  # a quote here opens a quoted scalar
        node_col = len(body) - len(body.lstrip(" "))
        while i < n:
            c = body[i]
            if self.quote:
                i = self._in_quote(i)
                if not self.quote:
                    at_token_start = False
                continue
            if c == "#" and (i == 0 or body[i - 1] in " \t"):
                return i
            if c in " \t":
                i += 1
                continue
            if c in "\"'" and at_token_start:
                self.quote = c
                i += 1
                continue
            if c == ":" and i > 0 and body[i - 1] in "\"'":
                # A JSON-like key (`"command":"echo # x"`): its `:` needs no blank after it,
                # and a quote right after it opens the value.
                at_token_start = True
                i += 1
                continue
            if c in "[{,":
                at_token_start = True
            elif c in "-?" and (i + 1 == n or body[i + 1] in " \t") and at_token_start:
                node_col = i  # a sequence entry: what follows belongs to it
                at_token_start = True
                if body[i + 1 : i + 2] in (" ", "\t"):
                    rest = body[i + 1 :].lstrip(" \t")
                    if rest and rest[0] not in "|>#":
                        node_col = n - len(rest)
            elif c == ":" and (i + 1 == n or body[i + 1] in " \t,[]{}"):
                at_token_start = True
            elif c in "&!" and at_token_start:
                while i < n and body[i] not in " \t":
                    i += 1
                continue
            elif c in "|>" and at_token_start and self._block_header(i):
                self.block_scalar = True
                self.block_parent = node_col
                at_token_start = False
            else:
                at_token_start = False
            i += 1
        return None

    def _in_quote(self, i: int) -> int:
        body = self.body
        c = body[i]
        if self.quote == '"':
            if c == "\\":
                return i + 2
            if c == '"':
                self.quote = ""
            return i + 1
        if c == "'":
            if body[i + 1 : i + 2] == "'":
                return i + 2  # '' is an escaped quote
            self.quote = ""
        return i + 1

    def _block_header(self, i: int) -> bool:
        """``|``, ``>-``, ``|2+``... followed only by blanks or a comment."""
        j = i + 1
        while j < len(self.body) and self.body[j] in "+-0123456789":
            j += 1
        rest = self.body[j:]
        return not rest.strip() or rest[:1] in " \t" and rest.strip().startswith("#")


def line_comments(text: str) -> Iterator[Comment]:
    """Whole-line comments (redis.conf, env files: a ``#`` later on a line is not a comment)."""
    for number, offset, body in _lines(text):
        stripped = body.lstrip()
        if stripped.startswith("#"):
            start = offset + len(body) - len(stripped)
            yield Comment(number, start, offset + len(body), True)


def comments_of(source: SourceFile) -> Iterator[Comment]:
    if source.path.endswith(YAML_SUFFIXES):
        return yaml_comments(source.text)
    return line_comments(source.text)


# --- directives ---------------------------------------------------------------------------------

class Code:
    """One code or name written in a suppression."""

    __slots__ = ("text", "span", "rule", "used", "forbidden", "node")

    def __init__(self, text: str, span: Span, node: Any = None):
        self.text = text
        self.span = span
        self.rule: Any = None          # the Rule (or policy) it names, None when unknown
        self.used = False
        self.forbidden = False
        self.node = node               # x-vantage entries: the sequence item


class Directive:
    """A ``# vantage-lint: ...`` comment."""

    __slots__ = ("source", "comment", "kind", "codes", "reason", "target_line", "all_rules", "used", "problem",
                 "codes_start", "codes_end")

    def __init__(self, source: SourceFile, comment: Comment):
        self.source = source
        self.comment = comment
        self.kind = "line"                    # "line" or "file"
        self.codes: list[Code] = []
        self.reason: str | None = None
        self.target_line: int | None = None
        self.all_rules = False                # bare disable-file
        self.used = False
        self.problem: str | None = None       # malformed: the VL008 message
        self.codes_start = 0
        self.codes_end = 0

    @property
    def span(self) -> Span:
        return self.source.span(self.comment.start, self.comment.end)


class ServiceIgnore:
    """``x-vantage.ignore`` of one service (the list may come from an anchor shared by several)."""

    __slots__ = ("service", "source", "codes", "reason", "paths_excluded", "list_node", "key_span", "problems")

    def __init__(self, service: str, source: SourceFile, reason: str | None, paths_excluded: Container[str],
                 list_node: Any, key_span: Span | None):
        self.service = service
        self.source = source
        self.codes: list[Code] = []
        self.reason = reason
        self.paths_excluded = paths_excluded
        self.list_node = list_node
        self.key_span = key_span
        self.problems: list[tuple[Span, str]] = []


def parse_directive(source: SourceFile, comment: Comment) -> Directive | None:
    """The directive in a comment, or None when the comment is not one."""
    text = source.text[comment.start + 1 : comment.end]
    match = _DIRECTIVE.match(text)
    if match is None:
        return None
    base = comment.start + 1
    rest = match.group("rest")
    rest_at = base + match.start("rest")
    directive = Directive(source, comment)
    if not match.group("colon"):
        if rest.lower().startswith(("disable", "enable", "ignore")):
            directive.problem = "malformed suppression: write `vantage-lint:` with a colon"
            return directive
        return None  # an ordinary comment that mentions the tool
    body, reason = rest, None
    cut = rest.find("--")
    if cut != -1:
        body, reason = rest[:cut], rest[cut + 2 :].strip() or None
    directive.reason = reason
    verb = _VERB.match(body)
    if verb is None:
        directive.problem = "malformed suppression: expected `disable=CODES` or `disable-file`"
        return directive
    name = verb.group("verb").lower()
    if name not in ("disable", "disable-file"):
        directive.problem = f"unknown suppression directive {verb.group('verb')!r} (expected disable or disable-file)"
        return directive
    directive.kind = "file" if name == "disable-file" else "line"
    codes_text = body[verb.end():]
    codes_at = rest_at + verb.end()
    if not verb.group("eq") and codes_text.strip():
        directive.problem = f"malformed suppression: write `{name}=CODES`"
        return directive
    for token in _TOKEN.finditer(codes_text):
        start = codes_at + token.start()
        directive.codes.append(Code(token.group(), source.span(start, start + len(token.group()))))
    if directive.codes:
        directive.codes_start = directive.codes[0].span.start
        directive.codes_end = directive.codes[-1].span.end
    elif directive.kind == "file":
        directive.all_rules = True
    else:
        directive.problem = "`disable` names no rule: write `disable=VL101` (codes or rule names)"
    return directive


def _next_code_line(lines: list[str], after: int) -> int | None:
    """The first line after ``after`` (1-based) that is not blank and not a comment."""
    for index in range(after, len(lines)):
        text = lines[index].strip()
        if text and not text.startswith("#"):
            return index + 1
    return None


def _first_content_line(lines: list[str], yaml: bool) -> int:
    for index, raw in enumerate(lines):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if yaml and (text == "---" or text.startswith("%")):
            continue
        return index + 1
    return len(lines) + 1


def directives_of(source: SourceFile) -> list[Directive]:
    if "vantage-lint" not in source.text.lower():
        return []  # the common case: no scan at all
    yaml = source.path.endswith(YAML_SUFFIXES)
    lines = [body for _number, _offset, body in _lines(source.text, yaml)]
    first_content = _first_content_line(lines, yaml)
    found: list[Directive] = []
    scalars: list[tuple[int, int]] | None = None
    for comment in comments_of(source):
        directive = parse_directive(source, comment)
        if directive is None:
            continue
        if yaml:
            # The parser has the last word: a `#` inside a scalar is text, whatever the
            # scanner thought (a fix would otherwise delete part of a value).
            if scalars is None:
                scalars = _scalar_ranges(source)
            if _inside_scalar(scalars, comment.start):
                continue
        if directive.problem is None:
            if directive.kind == "file":
                if comment.line > first_content:
                    directive.problem = "`disable-file` must be at the top of the file, above the first line of content"
            elif comment.own_line:
                directive.target_line = _next_code_line(lines, comment.line)
            else:
                directive.target_line = comment.line
        found.append(directive)
    return found


def _scalar_ranges(source: SourceFile) -> list[tuple[int, int]]:
    """(start, end) offsets of the scalars written in ``source``, sorted by start."""
    from vantage_lint.compose.nodes import MapNode, ScalarNode, walk

    root = source.yaml_root
    if root is None:  # released after its project was linted: parse again (only files with directives)
        from vantage_lint.compose.yaml_loader import parse_yaml

        root = parse_yaml(source).root
    ranges: set[tuple[int, int]] = set()
    for node in walk(root):
        if isinstance(node, ScalarNode):
            spans = [node.span]
        elif isinstance(node, MapNode):
            spans = list(node.keys.values())  # quoted keys are scalars too
        else:
            continue
        ranges.update((s.start, s.end) for s in spans if s.path == source.path and s.end > s.start)
    return sorted(ranges)


def _inside_scalar(ranges: list[tuple[int, int]], offset: int) -> bool:
    import bisect

    index = bisect.bisect_right(ranges, (offset, float("inf"))) - 1
    # Scalars do not overlap, so only the last one starting at or before ``offset`` can hold it.
    return index >= 0 and ranges[index][0] <= offset < ranges[index][1]


# --- x-vantage ignore ---------------------------------------------------------------------------

class _OtherProjects:
    """The files of every other project: all claimed files but one's own, without building that
    set per project (which made suppressions quadratic in the number of projects)."""

    __slots__ = ("claimed", "own")

    def __init__(self, claimed: set[str], own: frozenset[str]):
        self.claimed = claimed
        self.own = own

    def __contains__(self, path: object) -> bool:
        return path in self.claimed and path not in self.own


def service_ignores(source: SourceFile, excluded: Container[str]) -> list[ServiceIgnore]:
    """``services.<name>.x-vantage.ignore`` entries written in one Compose file."""
    if "x-vantage" not in source.text:
        return []
    from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode
    from vantage_lint.compose.yaml_loader import parse_yaml

    root = parse_yaml(source).root
    services = root.get("services") if isinstance(root, MapNode) else None
    if not isinstance(services, MapNode):
        return []
    shared: dict[int, list[Code]] = {}
    result: list[ServiceIgnore] = []
    for name, node in services.items.items():
        xv = node.get("x-vantage") if isinstance(node, MapNode) else None
        if not isinstance(xv, MapNode) or "ignore" not in xv.items:
            continue
        ignore = xv.items["ignore"]
        reason_node = xv.get("reason")
        reason = reason_node.text if isinstance(reason_node, ScalarNode) and reason_node.value is not None else None
        entry = ServiceIgnore(name, source, reason, excluded, ignore, xv.keys["ignore"])
        if isinstance(ignore, ScalarNode) and ignore.value is None:
            continue  # `ignore:` with nothing: no entries
        items = ignore.items if isinstance(ignore, SeqNode) else [ignore] if isinstance(ignore, ScalarNode) else None
        if items is None:
            entry.problems.append((xv.keys["ignore"], f"x-vantage.ignore of service {name!r} must be a list of rule codes"))
            result.append(entry)
            continue
        codes = shared.get(id(ignore))
        if codes is None:
            codes = []
            for item in items:
                if isinstance(item, ScalarNode) and isinstance(item.value, str) and item.value.strip():
                    codes.append(Code(item.value.strip(), item.span, node=item))
                else:
                    entry.problems.append((item.span, f"x-vantage.ignore entry of service {name!r} must be a rule code"))
            shared[id(ignore)] = codes
        entry.codes = codes
        result.append(entry)
    return result


# --- the pass -----------------------------------------------------------------------------------

class _Pass:
    def __init__(self, report: Report, targets: list[Target] | None,
                 read: Callable[[str], SourceFile | None] | None = None):
        self.report = report
        self.read = read or _read
        self.settings = report.settings
        self.rules = report.rules
        self.policies = {p.code: p for p in self.settings.policies}
        self.enabled_policies = {p.code for p in self.settings.enabled_policies()}
        self.enabled = {r.code for r in self.settings.enabled(self.rules)} | self.enabled_policies
        self.targets = targets
        self.meta: list[Finding] = []

    def rule_for(self, code: str) -> Any:
        return self.rules.by_code.get(code) or self.policies.get(code)

    def lookup(self, text: str) -> Any:
        found = self.rules.lookup(text)
        if found is not None:
            return found
        upper, lower = text.upper(), text.lower()
        for policy in self.policies.values():
            if policy.code == upper or policy.name == lower:
                return policy
        return None

    # -- collecting --

    def sources(self) -> dict[str, SourceFile]:
        sources = self.report.sources
        for name in self.report.files:
            if name not in sources and name.endswith((".yml", ".yaml", ".conf", ".env")):
                source = self.read(name)  # parallel runs keep only files with findings
                if source is not None:
                    sources[name] = source
        return sources

    def collect(self) -> tuple[list[Directive], list[ServiceIgnore]]:
        sources = self.sources()
        directives = [d for source in sources.values() for d in directives_of(source)]
        ignores: list[ServiceIgnore] = []
        for paths, excluded in self._projects(sources):
            for path in paths:
                source = sources.get(path)
                if source is not None and path.endswith(YAML_SUFFIXES):
                    ignores.extend(service_ignores(source, excluded))
        for directive in directives:
            for code in directive.codes:
                code.rule = self.lookup(code.text)
        for ignore in ignores:
            for code in ignore.codes:
                code.rule = self.lookup(code.text)
        return directives, ignores

    def _projects(self, sources: dict[str, SourceFile]) -> list[tuple[list[str], Container[str]]]:
        """Per Compose project: its files, and the files of other projects (whose findings a
        service of the same name in this project must not suppress)."""
        from vantage_lint.source import display_path

        if self.targets is None:
            yaml = [p for p in sources if p.endswith(YAML_SUFFIXES)]
            return [(yaml, frozenset())]
        cwd = Path.cwd()
        projects = [[display_path(f, cwd) for f in t.files] for t in self.targets if t.kind == "compose"]
        claimed = {p for files in projects for p in files}
        if len(projects) == 1:
            # included files and extends bases belong to the only project
            projects[0] += [p for p in sources if p.endswith(YAML_SUFFIXES) and p not in claimed]
        return [(files, _OtherProjects(claimed, frozenset(files))) for files in projects]

    # -- matching --

    def run(self) -> None:
        report = self.report
        findings = [f for f in report.findings if self._selected(f)]
        directives, ignores = self.collect()
        self._check_forbidden(directives, ignores)
        by_line: dict[tuple[str, int], list[Directive]] = {}
        by_file: dict[str, list[Directive]] = {}
        for d in directives:
            if d.problem is not None:
                continue
            if d.kind == "file":
                by_file.setdefault(d.source.path, []).append(d)
            elif d.target_line is not None:
                by_line.setdefault((d.source.path, d.target_line), []).append(d)
        by_service: dict[str, list[ServiceIgnore]] = {}
        for ignore in ignores:
            by_service.setdefault(ignore.service, []).append(ignore)
        kept: list[Finding] = []
        for finding in findings:
            verdict = self._suppress(finding, by_file, by_line, by_service)
            if verdict is None:
                kept.append(finding)
            else:
                report.suppressed.append(suppressed_copy(finding, *verdict))
        self._unused(directives, ignores)
        self._invalid(directives, ignores)
        kept.extend(self.meta)
        report.findings = sorted((f for f in kept if not self._ignored_by_path(f)), key=Finding.sort_key)

    def _selected(self, finding: Finding) -> bool:
        policy = self.policies.get(finding.code)
        if policy is None:
            return True
        if finding.code not in self.enabled_policies:
            return False
        finding.severity = self.settings.severity_for(policy)
        return True

    def _ignored_by_path(self, finding: Finding) -> bool:
        rule = self.rule_for(finding.code)
        return rule is not None and self.settings.ignored_in(finding.span.path, rule)

    def _check_forbidden(self, directives: list[Directive], ignores: list[ServiceIgnore]) -> None:
        for code in [c for d in directives for c in d.codes] + [c for i in ignores for c in i.codes]:
            if code.rule is not None and not self.settings.inline_allowed(code.rule):
                code.forbidden = True

    def _suppress(self, finding: Finding, by_file, by_line, by_service) -> tuple[str, str | None] | None:
        rule = self.rule_for(finding.code) or _Named(finding.code, finding.name)
        if finding.code in META_CODES or not self.settings.inline_allowed(rule):
            return None
        verdict: tuple[str, str | None] | None = None
        for directive in by_line.get((finding.span.path, finding.span.line), ()):
            if self._match(directive.codes, finding):
                verdict = verdict or ("comment", directive.reason)
        for directive in by_file.get(finding.span.path, ()):
            if directive.all_rules:
                directive.used = True
                verdict = verdict or ("file", directive.reason)
            elif self._match(directive.codes, finding):
                verdict = verdict or ("file", directive.reason)
        if finding.service is not None:
            # A line shared by several services is silenced only when each of them ignores it.
            reasons: list[str | None] = []
            for service in finding.services or (finding.service,):
                matched = [ignore for ignore in by_service.get(service, ())
                           if finding.span.path not in ignore.paths_excluded and self._match(ignore.codes, finding)]
                if not matched:
                    reasons = []
                    break
                reasons.append(matched[0].reason)
            if reasons:
                verdict = verdict or ("x-vantage", reasons[0])
        return verdict

    @staticmethod
    def _match(codes: list[Code], finding: Finding) -> bool:
        hit = False
        for code in codes:
            if code.rule is not None and not code.forbidden and code.rule.code == finding.code:
                code.used = True
                hit = True
        return hit

    # -- meta findings --

    def _emit(self, code: str, span: Span, message: str, source: SourceFile | None,
              fix: Fix | None = None, service: str | None = None) -> None:
        rule = self.rules.by_code.get(code)
        if rule is None or code not in self.enabled:
            return
        from vantage_lint.engine import fingerprint

        finding = Finding(
            code=code,
            name=rule.name,
            severity=self.settings.severity_for(rule),
            message=message,
            hint=rule.hint,
            span=span,
            service=service,
            fix=fix,
            fix_applicability=rule.fix,
        )
        finding.fingerprint = fingerprint(finding, source)
        self.meta.append(finding)

    def _unused(self, directives: list[Directive], ignores: list[ServiceIgnore]) -> None:
        """VL007 for suppressions that suppressed nothing. A code whose rule did not run (turned off,
        or outside a narrow --select) is reported too, but its removal is only an unsafe fix: the
        suppression may be needed by a full run, so ``--fix --select VL007`` never deletes it."""
        everything_ran = all(r.code in self.enabled for r in self.rules if r.code not in META_CODES)
        for d in directives:
            if d.problem is not None:
                continue
            if d.all_rules:
                if not d.used and self.settings.allow_inline_suppressions is not False:
                    note = "" if everything_ran else " (not every rule ran)"
                    self._emit("VL007", d.span, f"unused suppression: `disable-file` suppressed nothing in this file{note}",
                               d.source, _unless(everything_ran, self._comment_fix(d, [])))
                continue
            unused = [c for c in d.codes if _unused(c)]
            if not unused:
                continue
            kept = [c for c in d.codes if not _unused(c)]
            if d.kind == "file":
                where = "in this file"
            elif d.target_line is None:
                where = "(no line follows the comment)"
            else:
                where = f"on line {d.target_line}"
            names = ", ".join(_label(c) for c in unused)
            span = unused[0].span if len(unused) == 1 else d.span
            note, all_ran = self._not_run_note(unused)
            self._emit("VL007", span, f"unused suppression: {names} reported nothing {where}{note}",
                       d.source, _unless(all_ran, self._comment_fix(d, kept)))
        done: set[int] = set()
        for ignore in ignores:
            if id(ignore.codes) in done:
                continue
            done.add(id(ignore.codes))
            unused = [c for c in ignore.codes if _unused(c)]
            if not unused:
                continue
            names = ", ".join(_label(c) for c in unused)
            note, all_ran = self._not_run_note(unused)
            self._emit("VL007", unused[0].span,
                       f"unused x-vantage.ignore entry of service {ignore.service!r}: {names} reported nothing "
                       f"for this service{note}", ignore.source, _unless(all_ran, _ignore_fix(ignore, unused)),
                       ignore.service)

    def _not_run_note(self, unused: list[Code]) -> tuple[str, bool]:
        off = [c.rule.code for c in unused if c.rule is not None and c.rule.code not in self.enabled]
        if not off:
            return "", True
        return f" ({', '.join(off)} did not run: not selected)", False

    def _comment_fix(self, d: Directive, kept: list[Code]) -> Fix | None:
        text = d.source.text
        path = d.source.path
        if kept:
            separator = ", " if ", " in text[d.codes_start : d.codes_end] else ","
            edit = Edit(path, d.codes_start, d.codes_end, separator.join(c.text for c in kept))
            return Fix("Remove the unused codes from the suppression", (edit,), Applicability.SAFE)
        if d.comment.own_line:
            from vantage_lint.edits import line_bounds

            start, end = line_bounds(d.source, d.comment.line)
            edit = Edit(path, start, end, "")
        else:
            start = d.comment.start
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            edit = Edit(path, start, d.comment.end, "")
        return Fix("Remove the unused suppression comment", (edit,), Applicability.SAFE)

    def _invalid(self, directives: list[Directive], ignores: list[ServiceIgnore]) -> None:
        config = self.settings.config_path or "the configuration"
        for d in directives:
            if d.problem is not None:
                self._emit("VL008", d.span, d.problem, d.source)
                continue
            if d.all_rules and self.settings.allow_inline_suppressions is False:
                self._emit("VL008", d.span, f"inline suppressions are not allowed by {config} "
                           "(allow-inline-suppressions); nothing is suppressed", d.source)
            for code in d.codes:
                self._invalid_code(code, d.source, config, None)
        seen: set[int] = set()
        for ignore in ignores:
            for span, message in ignore.problems:
                self._emit("VL008", span, message, ignore.source, service=ignore.service)
            if id(ignore.codes) in seen:
                continue
            seen.add(id(ignore.codes))
            for code in ignore.codes:
                self._invalid_code(code, ignore.source, config, ignore.service)

    def _invalid_code(self, code: Code, source: SourceFile, config: str, service: str | None) -> None:
        if code.rule is None:
            self._emit("VL008", code.span, f"{code.text!r} in a suppression is {_why_unknown(code.text, self)}",
                       source, service=service)
        elif code.rule.code in META_CODES:
            self._emit("VL008", code.span, f"{code.rule.code} cannot be suppressed inline; ignore it in the "
                       "configuration instead", source, service=service)
        elif code.forbidden:
            self._emit("VL008", code.span, f"inline suppression of {code.rule.code} ({code.rule.name}) is not "
                       f"allowed by {config} (allow-inline-suppressions); the finding is still reported",
                       source, service=service)


class _Named:
    """Stands in for a rule the registry does not know (for ``inline_allowed``)."""

    def __init__(self, code: str, name: str):
        self.code = code
        self.name = name


def _unless(safe: bool, fix: Fix | None) -> Fix | None:
    """``fix`` as it is when ``safe``, else the same edits as an unsafe fix."""
    if fix is None or safe:
        return fix
    return Fix(fix.title, fix.edits, Applicability.UNSAFE)


def _unused(code: Code) -> bool:
    return code.rule is not None and not code.used and not code.forbidden and code.rule.code not in META_CODES


def _label(code: Code) -> str:
    rule = code.rule
    return f"{rule.code} ({rule.name})" if code.text.upper() == rule.code else f"{rule.name} ({rule.code})"


def _why_unknown(text: str, run: _Pass) -> str:
    import difflib

    if not _CODE_LIKE.match(text):
        return "not a rule code or name"
    words = [r.code for r in run.rules] + [r.name for r in run.rules] + list(run.policies)
    if run.rules.matching(text) and not run.rules.lookup(text):
        return "a prefix, not one rule: name each code (e.g. VL101)"
    close = difflib.get_close_matches(text, words, n=1) or difflib.get_close_matches(text.upper(), words, n=1)
    return "not a rule code or name" + (f" (did you mean {close[0]}?)" if close else "")


def _ignore_fix(ignore: ServiceIgnore, unused: list[Code]) -> Fix | None:
    from vantage_lint.compose.nodes import ScalarNode, SeqNode
    from vantage_lint.edits import delete_line_edit, line_bounds

    source = ignore.source
    text = source.text
    node = ignore.list_node
    edits: list[Edit] = []
    if isinstance(node, ScalarNode):
        if ignore.key_span is None:
            return None
        edit = delete_line_edit(source, ignore.key_span, node.span)
        if edit is None:
            return None
        edits.append(edit)
    elif isinstance(node, SeqNode) and text[node.span.start : node.span.start + 1] == "[":
        kept = [text[item.span.start : item.span.end] for item in node.items
                if not any(c.node is item for c in unused)]
        edits.append(Edit(source.path, node.span.start, node.span.end, "[" + ", ".join(kept) + "]"))
    elif isinstance(node, SeqNode):
        for code in unused:
            start, end = line_bounds(source, code.span.line)
            before = text[start : code.span.start].strip()
            after = text[code.span.end : end].strip()
            if before != "-" or (after and not after.startswith("#")):
                return None  # not one entry per line: leave it to the user
            edits.append(Edit(source.path, start, end, ""))
    else:
        return None
    return Fix("Remove the unused x-vantage.ignore entries", tuple(edits), Applicability.SAFE)


def _read(name: str) -> SourceFile | None:
    from vantage_lint.source import SourceError, read_source

    try:
        return read_source(Path(name), name)
    except (OSError, SourceError):
        return None


def apply_suppressions(report: Report, targets: Iterable[Target] | None = None,
                       read: Callable[[str], SourceFile | None] | None = None) -> Report:
    """Drop unselected policy findings, apply suppressions and per-file ignores, add VL007/VL008.
    Suppressed findings move to ``report.suppressed``. Changes ``report`` in place. ``read`` gets
    a file's text by display path (the engine's reader, which sees the fixer's unsaved texts)."""
    _Pass(report, list(targets) if targets is not None else None, read).run()
    return report

