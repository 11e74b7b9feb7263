"""The lint pipeline: targets → models → rules → findings (selected, re-severitied, sorted)."""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vantage_lint.compose.deploy_context import DeployContext
from vantage_lint.compose.names import DEFAULT_FILES
from vantage_lint.context import RuleContext
from vantage_lint.discovery import Target, UsageError, discover
from vantage_lint.findings import Finding, Severity
from vantage_lint.lazyre import lazy
from vantage_lint.registry import Rule, RuleSet, load_rules
from vantage_lint.settings import Settings
from vantage_lint.source import ReadLog, Reader, SourceError, SourceFile, display_path, recording


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
    # The context (production / development) each linted project or lone redis.conf ran in.
    contexts: list[DeployContext] = field(default_factory=list)
    # Files read by more than one project of the run (a redis.conf two stacks mount, a file
    # both include): a fix there changes the other projects too.
    shared: set[str] = field(default_factory=set)
    # Templates (.env.example...) read in place of a missing .env: their blank values are unknown.
    env_templates: list[str] = field(default_factory=list)

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
    profiles: list[str] | None = None
    environ: Mapping[str, str] | None = None
    stdin_text: str | None = None
    stdin_filename: str | None = None
    # Resolved path -> bytes read instead of the file's (the fixer lints its edits unwritten).
    overlay: dict[Path, bytes] = field(default_factory=dict)


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
            stdin_source = decode(inputs.stdin_text.encode("utf-8", "surrogateescape"), name)  # raw bytes back
        except SourceError as exc:
            raise UsageError(f"{name}: {exc.message}") from None
        stdin = (Path(name), stdin_source)
    reader = Reader(cwd, stdin, inputs.overlay)
    targets = _targets(all_paths, inputs, settings, stdin)
    selected = settings.enabled(rules) + list(settings.policies)
    work = _Work(selected, settings, inputs, cwd, stdin)
    if stdin is None and not inputs.overlay:  # text not on disk cannot be compared again
        from vantage_lint.project_cache import run_key

        work.cache_key = run_key(settings, rules, inputs.environ, cwd)
    jobs = _auto_jobs(jobs, len(targets))
    findings: list[Finding] = []
    files: dict[str, None] = {}
    sources: dict[str, SourceFile] = {}
    compose = [t for t in targets if t.kind == "compose"]
    redis = [t for t in targets if t.kind != "compose"]
    linked: set[str] = set()
    contexts: list[DeployContext] = []
    readers: dict[str, int] = {}
    for batch in (compose, redis):
        if batch is redis:
            batch = [t for t in redis if display_path(t.files[0], cwd) not in linked]
        results = _run_targets(work, batch, jobs, reader)
        if batch is compose:
            results = _drop_parts_of_other_projects(batch, results, cwd)
        for found, read, kept, where in results:
            findings.extend(found)
            sources.update(kept)
            if where is not None:
                contexts.append(where)
            for name in read:
                files[name] = None
                readers[name] = readers.get(name, 0) + 1
                if name.endswith(".conf"):
                    linked.add(name)
    for source in reader.cache.values():
        # Files read in this process whose target was dropped above (fixes need their text).
        sources.setdefault(source.path, source)
    findings = _finish(findings, rules, settings)
    report = Report(findings=findings, files=list(files), sources=sources, rules=rules, settings=settings,
                    contexts=contexts,
                    shared={name for name, count in readers.items() if count > 1},
                    env_templates=_env_templates(files, cwd) if inputs.env_files is None else [])
    from vantage_lint.suppress import apply_suppressions

    def read(name: str) -> SourceFile | None:
        try:
            return reader(cwd / name)
        except (OSError, SourceError):
            return None

    report = apply_suppressions(report, targets, read)
    from vantage_lint.summary import summarise

    # After suppressions: a suppressed service is not counted, and no suppression goes unused.
    report.findings = summarise(report.findings, rules, settings)
    return report


def _env_templates(files: dict[str, None], cwd: Path) -> list[str]:
    """The files read as a stand-in for .env: a template name with no .env beside it (the
    only case in which the loader reads one, see compose.project._default_env_file)."""
    from vantage_lint.compose.names import ENV_TEMPLATES

    found = []
    for name in files:
        path = cwd / name
        if path.name in ENV_TEMPLATES and not (path.parent / ".env").is_file():
            found.append(name)
    return found


def _drop_parts_of_other_projects(
    targets: list[Target], results: list[TargetResult], cwd: Path
) -> list[TargetResult]:
    """A file found by a folder walk that another project includes or extends is linted as part
    of that project, not again on its own (where its references would dangle)."""
    mains = [display_path(t.files[0], cwd) for t in targets]
    used_by_others: set[str] = set()
    for main, (_found, read, _kept, _where) in zip(mains, results):
        used_by_others.update(name for name in read if name != main)
    return [
        result
        for target, main, result in zip(targets, mains, results)
        if target.explicit or main not in used_by_others
    ]


class _Work:
    """Everything a (possibly forked) worker needs to lint targets (a plain class: created once
    per run, it need not pay a dataclass's creation at every start-up)."""

    __slots__ = ("rules", "settings", "inputs", "cwd", "stdin", "cache_key")

    def __init__(self, rules: list[Rule], settings: Settings, inputs: Inputs, cwd: Path,
                 stdin: tuple[Path, SourceFile] | None):
        self.rules = rules
        self.settings = settings
        self.inputs = inputs
        self.cwd = cwd
        self.stdin = stdin
        # The per-project result cache's key for this run (None: not cached).
        self.cache_key: str | None = None


# Set in the parent before forking workers: settings may hold closures (custom policies)
# that cannot be pickled, and forked children inherit module state for free.
_current_work: _Work | None = None
PARALLEL_THRESHOLD = 64


def _auto_jobs(jobs: int | None, n_targets: int) -> int:
    if jobs is not None:
        # Capped by the work and the machine: `-j 4000` for 4 files must not fork 4000 workers.
        return max(1, min(jobs, n_targets, 4 * (os.cpu_count() or 1)))
    if n_targets < PARALLEL_THRESHOLD or os.environ.get("PRE_COMMIT"):
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


TargetResult = tuple[list[Finding], list[str], dict[str, SourceFile], DeployContext | None]


def _run_targets(work: _Work, targets: list[Target], jobs: int, reader: Reader) -> list[TargetResult]:
    with _quiet_gc():
        return _run_targets_now(work, targets, jobs, reader)


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Keep the cyclic collector off the long-lived objects (modules, rule tables, the schema).

    Node trees hold no reference cycles that matter, yet the default thresholds rescan the whole
    heap every few thousand allocations: about 15% of the run on 500 projects."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 20_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _run_targets_now(work: _Work, targets: list[Target], jobs: int, reader: Reader) -> list[TargetResult]:
    if jobs <= 1 or len(targets) < 2:
        return _run_serially(work, targets, reader)
    results: list[TargetResult | None] = [None] * len(targets)
    if work.cache_key is not None:
        # A hit costs less than handing the target to a worker: answer those here, fork for
        # the rest (a re-run where little changed then forks nothing).
        from vantage_lint import project_cache

        for index, target in enumerate(targets):
            hit = project_cache.lookup(work.cache_key, target, reader, work.inputs.environ)
            if hit is not None:
                results[index] = (hit[0], hit[1], {}, hit[2])  # their texts stay in this reader
    todo = [index for index, result in enumerate(results) if result is None]
    if len(todo) < PARALLEL_THRESHOLD and work.cache_key is not None:
        done = _run_serially(work, [targets[i] for i in todo], reader, looked_up=True)
    else:
        done = _run_in_workers(work, [targets[i] for i in todo], jobs)
    for index, result in zip(todo, done):
        results[index] = result
    return [result for result in results if result is not None]


def _run_serially(work: _Work, targets: list[Target], reader: Reader, looked_up: bool = False) -> list[TargetResult]:
    runner = _Runner(work.rules, work.settings, reader, work.inputs)
    results: list[TargetResult] = []
    for target in targets:
        found, read, where = _lint_target(runner, target, reader, work.cache_key, look_up=not looked_up)
        results.append((found, read, {}, where))
    kept = {source.path: source for source in reader.cache.values()}
    if results:
        results[-1] = (results[-1][0], results[-1][1], kept, results[-1][3])
    return results


def _run_in_workers(work: _Work, targets: list[Target], jobs: int) -> list[TargetResult]:
    import multiprocessing

    if work.cache_key is None:
        _preload(work.rules)
    global _current_work
    _current_work = work
    jobs = max(1, min(jobs, len(targets)))
    chunk = max(1, min(64, len(targets) // (jobs * 8) or 1))
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs) as pool:
        return list(pool.imap(_worker, targets, chunksize=chunk))


def _preload(rules: list[Rule]) -> None:
    """Import what every target needs once, before forking workers that will all lint (no cache
    to answer them), so that they share it instead of each importing it again. With the cache
    on, most targets may be answered without any of it: the workers import it when they miss."""
    from vantage_lint.compose import project  # noqa: F401  (the loader and the YAML parser)
    from vantage_lint.redis import link  # noqa: F401

    for rule in rules:
        resolve = getattr(rule.check, "resolve", None)  # a rule from the index: import its module
        if resolve is not None:
            resolve()


def _worker(target: Target) -> TargetResult:
    work = _current_work
    assert work is not None
    reader = Reader(work.cwd, work.stdin, work.inputs.overlay)
    runner = _Runner(work.rules, work.settings, reader, work.inputs)
    found, read, where = _lint_target(runner, target, reader, work.cache_key, look_up=False)  # the parent looked
    # Only the files a finding points into travel back (excerpts and fixes need them).
    wanted = {f.span.path for f in found}
    kept = {s.path: s for s in reader.cache.values() if s.path in wanted}
    return found, read, kept, where


def _lint_target(runner: _Runner, target: Target, reader: Reader, cache_key: str | None,
                 look_up: bool = True) -> tuple[list[Finding], list[str], DeployContext | None]:
    """One target's findings, fingerprinted and masked: from the result cache when nothing the
    target read has changed, else computed while the source layer notes what it reads."""
    if cache_key is not None:
        from vantage_lint import project_cache

        hit = project_cache.lookup(cache_key, target, reader, runner.inputs.environ) if look_up else None
        if hit is not None:
            return hit
    log = ReadLog()
    with recording(log):
        found, read = runner.run(target)
        _fingerprint_all(found, reader, log)
    runner.release()
    where = runner.last_context
    if cache_key is not None:
        project_cache.store(cache_key, target, log, found, read, reader, runner.inputs.environ, where)
    return found, read, where


def _fingerprint_all(findings: list[Finding], reader: Reader, log: ReadLog) -> None:
    from vantage_lint.compose.unknown import as_written
    from vantage_lint.secrets import conceal_span, redact, run_secrets

    # Only the target's own files: its findings then depend on nothing it did not read (the
    # result cache relies on that), the same in a shared reader as in a worker's own.
    own = [reader.source_at(name) for name in log.files()]
    by_path = {source.path: source for source in own if source is not None}
    # Secrets read anywhere in the run are masked in every message here, in the worker that
    # found them, so no format, baseline or fingerprint ever sees them.
    known = run_secrets(by_path.values()) if findings else ()
    for finding in findings:
        # Values the deployment supplies read as the ${NAME} the user wrote (compose.unknown).
        message, hint = as_written(finding.message), as_written(finding.hint)
        finding.message, finding.hint = redact(message, known), redact(hint, known)
        source = by_path.get(finding.span.path)
        finding.fingerprint = fingerprint(finding, source)
        finding.span = conceal_span(finding.span, source)


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
    targets = discover(paths, exclude=settings.exclude,
                       environ=dict(inputs.environ) if inputs.environ is not None else None)
    for target in targets:
        target.env_files = inputs.env_files
        target.project_directory = inputs.project_directory
    return targets


class _Runner:
    def __init__(self, rules: list[Rule], settings: Settings, reader: Reader, inputs: Inputs):
        self.settings = settings
        self.reader = reader
        self.inputs = inputs
        self.by_scope: dict[str, list[tuple[Rule, RuleContext]]] = {"project": [], "service": [], "redis": []}
        for rule in rules:
            if rule.scope in self.by_scope:
                context = RuleContext(rule, settings.options_for(rule))
                self.by_scope[rule.scope].append((rule, context))
        self.enabled_codes = {r.code for r in rules}
        self.supersedes = {r.code: r.supersedes for r in rules if r.supersedes}
        self.last_context: DeployContext | None = None
        self.loaded: object | None = None  # the project last linted, until release()
        # Check functions by rule code, resolved on first use (an indexed rule's module is
        # imported then), so each later call is a plain function call.
        self.checks: dict[str, Callable[..., Iterable[Finding]]] = {}

    def _context(self, path: str, detect: Callable[[], DeployContext]) -> DeployContext:
        from vantage_lint.compose.deploy_context import forced

        chosen = self.settings.forced_context()
        if chosen is None:
            return detect()
        how = "--context or context:" if self.settings.context != "auto" else "the production preset"
        return forced(path, chosen, f"set by {how}")

    def _applies(self, rule: Rule) -> bool:
        return self.last_context is None or self.last_context.context in rule.contexts

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
                profiles=self.inputs.profiles,
            )
        except OSError as exc:
            if target.explicit:
                raise UsageError(f"{target.files[0]}: {exc.strerror or exc}") from None
            return [_unreadable(target.files[0], exc, self.reader.cwd)], [display_path(target.files[0], self.reader.cwd)]
        project.declared_roles = self.settings.roles
        project.fragment = not (target.explicit or target.whole) and target.files[0].name not in DEFAULT_FILES
        link_redis_configs(project)
        from vantage_lint.compose.deploy_context import decide

        self.last_context = self._context(project.main_path, lambda: decide(project))
        findings = list(project.problems)
        for conf in project.redis_configs:
            findings.extend(conf.problems)
        for rule, context in self.by_scope["project"]:
            if self._applies(rule):
                findings.extend(self._call(rule, context, project, project))
        # The context is the project's: the rules it admits are chosen once, not per service.
        service_rules = [(rule, context) for rule, context in self.by_scope["service"] if self._applies(rule)]
        for service in project.services.values():
            roles = service.roles
            for rule, context in service_rules:
                if rule.roles is not None and not (rule.roles & roles):
                    continue
                context.service_name = service.name
                findings.extend(self._call(rule, context, service, project))
            context_reset(self.by_scope["service"])
        for conf in project.redis_configs:
            findings.extend(self._redis_rules(conf, project))
        read = list(project.sources)
        self.loaded = project
        return self._drop_superseded(findings), read

    def release(self) -> None:
        """Let the last project go, once its findings are fingerprinted and masked (the secret
        scan reads the trees its files were parsed into)."""
        if self.loaded is not None:
            _release(self.loaded)
            self.loaded = None

    def _drop_superseded(self, findings: list[Finding]) -> list[Finding]:
        """One problem, one finding: a rule that states a problem precisely replaces, on the same
        service, the rules it ``supersedes`` (VL219 over VL113, VL309 over VL104...)."""
        if not self.supersedes:
            return findings
        dropped = {(code, f.service) for f in findings if f.service for code in self.supersedes.get(f.code, ())}
        if not dropped:
            return findings
        return [f for f in findings if (f.code, f.service) not in dropped]

    def _redis(self, target: Target) -> tuple[list[Finding], list[str]]:
        from vantage_lint.redis.config import parse_redis_config

        path = target.files[0]
        from vantage_lint.compose.deploy_context import decide_for_file

        shown = display_path(path, self.reader.cwd)
        self.last_context = self._context(shown, lambda: decide_for_file(shown))
        not_redis = target.not_redis()
        if not_redis:
            from vantage_lint.findings import Span, problem

            self.last_context = None  # not linted: no context to report
            note = problem("VL005", Span(shown, 1, 1, 1, 1),
                           f"{path.name} is named like a Redis config but is not one: {not_redis}; not linted",
                           "Rename the file if it is not for Redis; a Compose service that mounts it as Redis's "
                           "config gets it linted with the project.", Severity.INFO)
            return [note], [shown]
        try:
            source = self.reader(path)
        except SourceError as exc:
            from vantage_lint.findings import problem

            return [problem("VL005", exc.span(), exc.message, "Save the file as UTF-8 text.", Severity.ERROR)], [exc.path]
        except OSError as exc:
            if target.explicit:
                raise UsageError(f"{path}: {exc.strerror or exc}") from None
            return [_unreadable(path, exc, self.reader.cwd, "VL005")], [display_path(path, self.reader.cwd)]
        # A redis.conf linted on its own: its folder is the project folder for its includes.
        conf = parse_redis_config(source, read=self.reader, root=path.absolute().parent)
        findings = list(conf.problems)
        findings.extend(self._redis_rules(conf, None))
        return findings, [f.path for f in conf.files] or [source.path]

    def _redis_rules(self, conf: object, project: object) -> Iterable[Finding]:
        found: list[Finding] = []
        service = getattr(conf, "service", None)
        for rule, context in self.by_scope["redis"]:
            if not self._applies(rule):
                continue
            context.service_name = getattr(service, "name", None)
            found.extend(self._call(rule, context, conf, project))
        return found

    def _call(self, rule: Rule, context: RuleContext, subject: object, project: object) -> list[Finding]:
        context.project = project
        context.deploy_context = self.last_context.context if self.last_context is not None else None
        check = self.checks.get(rule.code)
        if check is None:
            resolve = getattr(rule.check, "resolve", None)  # a rule from the index (rules._index)
            check = self.checks[rule.code] = resolve() if resolve is not None else rule.check
        try:
            return list(check(subject, context))  # type: ignore[misc]
        except Exception as exc:
            where = getattr(subject, "name", None) or getattr(getattr(subject, "source", None), "path", "")
            raise InternalError(f"rule {rule.code} ({rule.name}) failed on {where}: {type(exc).__name__}: {exc}") from exc


def _unreadable(path: Path, exc: OSError, cwd: Path, code: str = "VL001") -> Finding:
    """A file a folder walk found but cannot read (permissions): a finding, so the walk goes on
    (named on the command line, the same file is a usage error)."""
    from vantage_lint.findings import Span, problem

    shown = display_path(path, cwd)
    return problem(code, Span(shown, 1, 1, 1, 1), f"cannot read the file: {exc.strerror or exc}; not linted",
                   "Make the file readable by the user that runs vantage-lint, or exclude it.", Severity.ERROR)


def _release(project: object) -> None:
    """Let the project's objects go as soon as it is done. Services point back at their project
    (a reference cycle), so without this each tree would wait for a full cyclic collection, and
    Python runs those ever more rarely as the findings pile up: memory grew with every project."""
    for source in project.sources.values():  # type: ignore[attr-defined]
        source.yaml_root = None  # only the text is kept (excerpts, fixes)
    for service in project.services.values():  # type: ignore[attr-defined]
        service.__dict__.clear()  # its cached links and roles point at other services too
    project.services.clear()  # type: ignore[attr-defined]


def context_reset(pairs: list[tuple[Rule, RuleContext]]) -> None:
    for _rule, context in pairs:
        context.service_name = None


def link_redis_configs(project: object) -> None:
    """Attach the redis.conf each Redis service runs (the Redis layer does the work)."""
    from vantage_lint.redis.link import link_project

    link_project(project)


def _finish(findings: list[Finding], rules: RuleSet, settings: Settings) -> list[Finding]:
    """Fill names, apply selection and severities, fingerprint, de-duplicate and sort."""
    enabled = {r.code for r in settings.enabled(rules)} | {p.code for p in settings.policies}
    by_code = rules.by_code
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
            elif settings.preset == "production" and rule.production and not finding.depends_on:
                finding.severity = Severity.ERROR  # (a verdict that may not hold keeps its lower level)
            for key in (rule.code, rule.name):
                if key in settings.severity:
                    finding.severity = settings.severity[key]
        key = (finding.code, finding.span.path, finding.span.line, finding.span.column, finding.message, finding.service)
        if key in seen:
            continue
        seen.add(key)
        result.append(finding)
    result = merge_fanned_out(result)
    result.sort(key=Finding.sort_key)
    return result


def merge_fanned_out(findings: list[Finding]) -> list[Finding]:
    """One written line, one finding: a value that anchors, merge keys or ``extends`` share
    between services is reported once, at the place it is written, listing every service."""
    groups: dict[tuple, list[Finding]] = {}
    for finding in findings:
        if finding.service:
            span = finding.span
            key = (finding.code, finding.severity, span.path, span.line, span.column, span.end_line,
                   span.end_column, _without_service(finding.message, finding.service))
            groups.setdefault(key, []).append(finding)
    merged: set[int] = set()
    for group in groups.values():
        names = list(dict.fromkeys(f.service for f in group if f.service))
        if len(names) < 2:
            continue
        first = group[0]
        first.services = tuple(names)
        shown = ", ".join(f'"{name}"' for name in names)
        first.message += f" (this line is shared by {len(names)} services: {shown})"
        merged.update(id(f) for f in group[1:])
    if not merged:
        return findings
    return [f for f in findings if id(f) not in merged]


def _without_service(message: str, service: str) -> str:
    """The message with the service's name taken out, so that the findings of two services that
    differ only in the name compare equal."""
    for spelled in (f'"{service}"', f"'{service}'", f"services.{service}.", f"services.{service}"):
        message = message.replace(spelled, "\x00")
    return message


_DIGITS = lazy(r"\d+")


def fingerprint(finding: Finding, source: SourceFile | None) -> str:
    """Identity of a finding that survives unrelated edits: rule, file, service, offending text."""
    from vantage_lint.secrets import redact, redact_source_line

    text = ""
    if source is not None:
        span = finding.span
        text = source.text[span.start : span.end] if span.end > span.start else source.line_text(span.line)
        # never a hash of a secret: a dictionary would recover it from a committed baseline
        text = redact_source_line(text, source.path, source.text)
    normalized = " ".join(text.split())
    # Numbers in messages are often line numbers ("first defined at line 12"): leave them out.
    message = _DIGITS.sub("0", redact(finding.message))
    digest = hashlib.sha256(
        "\x00".join([finding.code, finding.span.path, finding.service or "", normalized, message]).encode(
            "utf-8", "surrogatepass")
    )
    return digest.hexdigest()[:16]

