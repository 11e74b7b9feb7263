"""The lint pipeline: targets → models → rules → findings (selected, re-severitied, sorted)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vantage_lint.context import RuleContext
from vantage_lint.discovery import Target, UsageError, discover
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import Rule, RuleSet, load_rules
from vantage_lint.settings import Settings
from vantage_lint.source import SourceError, SourceFile, display_path, read_source


class InternalError(Exception):
    """A bug in a rule or the engine; reported in one line (exit 2)."""


@dataclass(slots=True)
class Report:
    findings: list[Finding]
    files: list[str]
    sources: dict[str, SourceFile]
    rules: RuleSet
    settings: Settings
    suppressed: list[Finding] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def failed(self) -> bool:
        return any(f.severity >= self.settings.fail_on for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass(slots=True)
class Inputs:
    """What to lint, beyond plain paths (the ``docker compose`` flags)."""

    paths: list[Path] = field(default_factory=list)
    compose_files: list[Path] = field(default_factory=list)
    env_files: list[Path] | None = None
    project_directory: Path | None = None
    environ: Mapping[str, str] | None = None
    stdin_text: str | None = None
    stdin_filename: str | None = None


class _Reader:
    """Reads each file once per run and gives it the display path users expect."""

    def __init__(self, cwd: Path, stdin: tuple[Path, SourceFile] | None = None):
        self.cwd = cwd
        self.cache: dict[Path, SourceFile] = {}
        if stdin is not None:
            self.cache[stdin[0].absolute()] = stdin[1]

    def __call__(self, path: Path) -> SourceFile:
        key = path.absolute()
        cached = self.cache.get(key)
        if cached is None:
            cached = read_source(path, display_path(path, self.cwd))
            self.cache[key] = cached
        return cached


def lint(
    paths: Sequence[str | os.PathLike[str]] = (),
    settings: Settings | None = None,
    *,
    inputs: Inputs | None = None,
    rules: RuleSet | None = None,
    jobs: int | None = None,
) -> Report:
    """Lint ``paths`` (files or folders; compose files and redis.conf files) and return the report."""
    settings = settings or Settings()
    inputs = inputs or Inputs()
    rules = rules or load_rules()
    cwd = Path.cwd()
    all_paths = [Path(p) for p in paths] + inputs.paths
    stdin = None
    if inputs.stdin_text is not None:
        from vantage_lint.source import decode

        name = inputs.stdin_filename or "stdin.yml"
        try:
            stdin_source = decode(inputs.stdin_text.encode("utf-8"), name)
        except SourceError as exc:
            raise UsageError(f"{name}: {exc.message}") from None
        stdin = (Path(name), stdin_source)
    reader = _Reader(cwd, stdin)
    targets = _targets(all_paths, inputs, settings, stdin)
    selected = settings.enabled(rules) + list(settings.policies)
    runner = _Runner(selected, settings, reader, inputs)
    findings: list[Finding] = []
    linked_configs: set[str] = set()
    files: list[str] = []
    for target in targets:
        if target.kind == "redis" and display_path(target.files[0], cwd) in linked_configs:
            continue
        found, read = runner.run(target)
        findings.extend(found)
        for name in read:
            if name not in files:
                files.append(name)
            if target.kind == "compose" and name.endswith(".conf"):
                linked_configs.add(name)
    findings = _finish(findings, rules, settings, reader)
    sources = {source.path: source for source in reader.cache.values()}
    return Report(findings=findings, files=files, sources=sources, rules=rules, settings=settings)


def _targets(paths: list[Path], inputs: Inputs, settings: Settings, stdin: tuple[Path, SourceFile] | None) -> list[Target]:
    if inputs.compose_files:
        for path in inputs.compose_files:
            if not path.is_file() and (stdin is None or path != stdin[0]):
                raise UsageError(f"{path}: no such file")
        return [
            Target("compose", list(inputs.compose_files), explicit=True, env_files=inputs.env_files,
                   project_directory=inputs.project_directory)
        ]
    if stdin is not None:
        kind = "redis" if stdin[0].suffix == ".conf" else "compose"
        return [Target(kind, [stdin[0]], explicit=True, env_files=inputs.env_files,
                       project_directory=inputs.project_directory)]
    if not paths:
        paths = [Path(".")]
    targets = discover(paths, exclude=settings.exclude)
    for target in targets:
        target.env_files = inputs.env_files
        target.project_directory = inputs.project_directory
    return targets


class _Runner:
    def __init__(self, rules: list[Rule], settings: Settings, reader: _Reader, inputs: Inputs):
        self.settings = settings
        self.reader = reader
        self.inputs = inputs
        self.by_scope: dict[str, list[tuple[Rule, RuleContext]]] = {"project": [], "service": [], "redis": []}
        for rule in rules:
            if rule.scope in self.by_scope:
                context = RuleContext(rule, settings.options_for(rule))
                self.by_scope[rule.scope].append((rule, context))
        self.enabled_codes = {r.code for r in rules}

    def run(self, target: Target) -> tuple[list[Finding], list[str]]:
        if target.kind == "compose":
            return self._compose(target)
        return self._redis(target)

    def _compose(self, target: Target) -> tuple[list[Finding], list[str]]:
        from vantage_lint.compose.project import load_project

        try:
            project = load_project(
                target.files,
                reader=self.reader,
                environ=self.inputs.environ,
                env_files=target.env_files,
                project_directory=target.project_directory,
            )
        except OSError as exc:
            raise UsageError(f"{target.files[0]}: {exc.strerror or exc}") from None
        project.declared_roles = self.settings.roles
        link_redis_configs(project)
        findings = list(project.problems)
        for conf in project.redis_configs:
            findings.extend(conf.problems)
        for rule, context in self.by_scope["project"]:
            findings.extend(self._call(rule, context, project, project))
        for service in project.services.values():
            for rule, context in self.by_scope["service"]:
                if rule.roles is not None and not (rule.roles & service.roles):
                    continue
                context.service_name = service.name
                findings.extend(self._call(rule, context, service, project))
            context_reset(self.by_scope["service"])
        for conf in project.redis_configs:
            findings.extend(self._redis_rules(conf, project))
        return findings, list(project.sources)

    def _redis(self, target: Target) -> tuple[list[Finding], list[str]]:
        from vantage_lint.redis.config import parse_redis_config

        path = target.files[0]
        try:
            source = self.reader(path)
        except SourceError as exc:
            from vantage_lint.findings import problem

            return [problem("VL005", exc.span(), exc.message, "Save the file as UTF-8 text.", Severity.ERROR)], [exc.path]
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror or exc}") from None
        conf = parse_redis_config(source, read=self.reader)
        findings = list(conf.problems)
        findings.extend(self._redis_rules(conf, None))
        return findings, [f.path for f in conf.files] or [source.path]

    def _redis_rules(self, conf: object, project: object) -> Iterable[Finding]:
        found: list[Finding] = []
        service = getattr(conf, "service", None)
        for rule, context in self.by_scope["redis"]:
            context.service_name = getattr(service, "name", None)
            found.extend(self._call(rule, context, conf, project))
        return found

    def _call(self, rule: Rule, context: RuleContext, subject: object, project: object) -> list[Finding]:
        context.project = project
        try:
            return list(rule.check(subject, context))  # type: ignore[misc]
        except Exception as exc:
            where = getattr(subject, "name", None) or getattr(getattr(subject, "source", None), "path", "")
            raise InternalError(f"rule {rule.code} ({rule.name}) failed on {where}: {type(exc).__name__}: {exc}") from exc


def context_reset(pairs: list[tuple[Rule, RuleContext]]) -> None:
    for _rule, context in pairs:
        context.service_name = None


def link_redis_configs(project: object) -> None:
    """Attach the redis.conf each Redis service runs (the Redis layer does the work)."""
    try:
        from vantage_lint.redis.link import link_project
    except ImportError:
        return
    link_project(project)


def _finish(findings: list[Finding], rules: RuleSet, settings: Settings, reader: _Reader) -> list[Finding]:
    """Fill names, apply selection and severities, fingerprint, de-duplicate and sort."""
    enabled = {r.code for r in settings.enabled(rules)} | {p.code for p in settings.policies}
    by_code = rules.by_code
    by_path = {source.path: source for source in reader.cache.values()}
    result: list[Finding] = []
    seen: set[tuple] = set()
    for finding in findings:
        rule = by_code.get(finding.code)
        if rule is not None:
            if rule.code not in enabled:
                continue
            finding.name = rule.name
            if finding.fix_applicability is None:
                finding.fix_applicability = rule.fix
            if not finding.explicit_severity:
                finding.severity = settings.severity_for(rule)
            elif settings.preset == "production" and rule.production:
                finding.severity = Severity.ERROR
            for key in (rule.code, rule.name):
                if key in settings.severity:
                    finding.severity = settings.severity[key]
        key = (finding.code, finding.span.path, finding.span.line, finding.span.column, finding.message, finding.service)
        if key in seen:
            continue
        seen.add(key)
        finding.fingerprint = fingerprint(finding, by_path.get(finding.span.path))
        result.append(finding)
    result.sort(key=Finding.sort_key)
    return result


def fingerprint(finding: Finding, source: SourceFile | None) -> str:
    """Identity of a finding that survives unrelated edits: rule, file, service, offending text."""
    text = ""
    if source is not None:
        span = finding.span
        text = source.text[span.start : span.end] if span.end > span.start else source.line_text(span.line)
    normalized = " ".join(text.split())
    digest = hashlib.sha256(
        "\x00".join([finding.code, finding.span.path, finding.service or "", normalized, finding.message]).encode()
    )
    return digest.hexdigest()[:16]

