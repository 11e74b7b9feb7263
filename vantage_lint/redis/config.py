"""redis.conf as redis-server reads it: the :class:`RedisConfig` model, a parser that follows
``loadServerConfigFromString`` (src/config.c, 7.0) line by line, and the VL005 problems for every
line redis-server would refuse with FATAL CONFIG FILE ERROR (FACTS A.1-A.3).

Decisions where a linter cannot do what redis-server does:

* ``include`` with a relative path: redis-server opens it relative to its working directory
  (``/data`` in the official image, whatever ``dir`` last changed it to); here it resolves
  against the main file's folder, where such files live in a repository. A missing file is
  VL005, a glob matching nothing is fine (as in redis-server), a cycle is reported once.
* Checks that depend on the machine redis-server runs on are left out: ``dir`` (it changes
  directory at load time), ``logfile`` (opened after the load), ``activedefrag yes`` (refused
  only by builds without Redis' bundled jemalloc, such as Debian's; the official image has it).
* ``sentinel`` lines are accepted: a file with them is a Sentinel config (``kind == "sentinel"``).
* A template (Jinja, Helm, ERB/EPP) or a file that is not a redis.conf at all gives one finding,
  not one per line (``kind`` says which), and its lines are not validated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vantage_lint.boundary import OUTSIDE_HINT, bad_path, exists, outside
from vantage_lint.compose.unknown import has_unknown, names_in
from vantage_lint.findings import Finding, Severity, Span, problem
from vantage_lint.redis.directives import (
    NON_TABLE,
    VERSIONS,
    WRONG_ARGS,
    canonical_name,
    check_standard,
    commands,
    directive_info,
    enum_values,
    is_accepted,
    is_valkey,
    known_names,
    redis_equivalent,
    suggest,
    table,
    version_key,
)
from vantage_lint.redis.tokenizer import UNBALANCED, TokenizeError, split_args
from vantage_lint.redis.units import ascii_lower, parse_memory, string2d, strtoll
from vantage_lint.source import SourceError, SourceFile, glob_paths

__all__ = [
    "Directive",
    "RedisConfig",
    "config_from_args",
    "directive_info",
    "looks_like_redis_conf",
    "parse_redis_config",
]

HINT = "Fix the line; redis-server refuses to start with FATAL CONFIG FILE ERROR."
TEMPLATE_HINT = "Lint the rendered file; redis-server cannot read template syntax."
NOT_REDIS_HINT = "Check that this is the file redis-server reads; it is not a redis.conf."
BAD_DIRECTIVE = "Bad directive or wrong number of arguments"
CANT_OPEN = "Fatal error, can't open config file"

MAX_PROBLEMS = 100
MAX_INCLUDE_DEPTH = 16
# Includes may repeat (a file included by several others, at every level): redis-server
# reloads it each time, so the work doubles per level. Past these totals the rest is not read.
MAX_INCLUDE_LOADS = 10_000
MAX_INCLUDE_CHARS = 16 * 1024 * 1024
TEMPLATE_MARKERS = ("{{", "{%", "<%")
SENSITIVE = frozenset({"requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass"})
# Per-line directives: repeating them is not "the last one wins".
ACCUMULATING = frozenset({"save", "include", "rename-command", "user", "loadmodule", "sentinel"})

_TRIM = " \t\r\n"
_DEFAULT_SAVE = [(3600, 1), (300, 100), (60, 10000)]
_BUFFER_CLASSES = frozenset({"normal", "slave", "replica", "pubsub"})
_KEYSPACE_EVENTS = frozenset("Ag$lshzxeKEtmdn")
_GLOB_CHARS = ("*", "?", "[")

Reader = Callable[[Path], SourceFile]
# An absolute container path to the host file a bind mount serves there (None: no bind mount
# of the service provides it). Paths in a redis.conf are paths inside the container.
ContainerPaths = Callable[[str], "Path | None"]


@dataclass(slots=True)
class Directive:
    """One accepted line (or command-line option) of a Redis configuration."""

    name: str            # lower-cased as written ("slaveof")
    canonical: str       # alias-resolved ("replicaof")
    args: list[str]      # as redis-server uses them (a quoted multi-arg value is split again)
    span: Span           # the whole line, trimmed
    name_span: Span
    arg_spans: list[Span]
    source: SourceFile | None  # the file it was written in; None for command-line options
    from_command_line: bool = False


@dataclass(slots=True)
class RedisConfig:
    """A configuration as redis-server would load it: includes expanded in place, command-line
    options appended last, only the lines it accepts in ``directives``."""

    source: SourceFile | None
    directives: list[Directive]
    problems: list[Finding]
    files: list[SourceFile]
    service: object | None = None
    kind: str = "redis"  # "redis", "sentinel", "template" or "other" (not a redis.conf)
    version: tuple[int, int] | None = None
    server: str = "redis"  # "redis" or "valkey": which server's directive table judges it
    _state: _State | None = field(default=None, repr=False)
    # Variables the deployment supplies standing where redis-server flags may be
    # (`redis-server --appendonly yes ${EXTRA_FLAGS}`): "no maxmemory" depends on them.
    open_options: tuple[str, ...] = ()
    # (number of directives it was built from, canonical name -> last directive)
    _last: tuple[int, dict[str, Directive]] | None = field(default=None, repr=False, compare=False)

    def get(self, canonical: str) -> Directive | None:
        """The effective (last) directive of that name."""
        if self._last is None or self._last[0] != len(self.directives):
            self._last = (len(self.directives), {d.canonical: d for d in self.directives})
        return self._last[1].get(canonical)

    def all(self, canonical: str) -> list[Directive]:
        return [d for d in self.directives if d.canonical == canonical]

    def value(self, canonical: str) -> str | None:
        """The effective value (arguments joined by a space), lower-cased for bool and enum
        directives; None when the directive is absent (see :meth:`default`)."""
        directive = self.get(canonical)
        if directive is None:
            return None
        text = " ".join(directive.args)
        entry = directive_info(canonical)
        if entry is not None and entry["type"] in ("bool", "enum") and not has_unknown(text):
            return text.lower()
        return text

    def unknown(self, canonical: str) -> tuple[str, ...]:
        """The variables the deployment supplies that the effective value of ``canonical``
        holds (``--maxmemory ${REDIS_MAXMEMORY}``); empty when it is known or absent."""
        directive = self.get(canonical)
        return () if directive is None else names_in(directive.args)

    def default(self, canonical: str) -> str | None:
        """The compiled-in default (``CONFIG GET`` of a redis-server 7.0 started without it)."""
        entry = directive_info(canonical)
        return None if entry is None else entry.get("default")

    def save_points(self) -> list[tuple[int, int]] | None:
        """Effective ``save`` points; None when no ``save`` line ran and the compiled default
        (3600 1 300 100 60 10000) applies, ``[]`` when snapshots are off."""
        if self._state is None or self._state.save_points is None:
            return None
        return list(self._state.save_points)

    def memory(self, canonical: str) -> int | None:
        """A memory directive in bytes as redis-server reads it (``512m`` = 512,000,000)."""
        text = self.value(canonical)
        return None if text is None else parse_memory(text)


class _State:
    """redis-server globals that make one line's meaning depend on earlier lines."""

    __slots__ = ("reading_file", "save_loaded", "save_points", "commands", "users")

    def __init__(self) -> None:
        self.reading_file = True   # config.c reading_config_file; cleared when an include ends
        self.save_loaded = False   # the static flag: first save line drops the defaults
        self.save_points: list[tuple[int, int]] | None = None
        self.commands: set[str] | None = None  # copied from the table on first rename-command
        self.users: dict[str, Span] = {}

    def copy(self) -> _State:
        other = _State()
        other.reading_file, other.save_loaded = self.reading_file, self.save_loaded
        other.save_points = None if self.save_points is None else list(self.save_points)
        other.commands = None if self.commands is None else set(self.commands)
        other.users = dict(self.users)
        return other


@dataclass(slots=True)
class _Error:
    server: str              # what redis-server prints
    span: Span
    detail: str | None = None


# ---------------------------------------------------------------------------------------------
# Public entry points


def parse_redis_config(
    source: SourceFile,
    *,
    read: Reader | None = None,
    version: tuple[int, int] | None = None,
    root: Path | None = None,
    container: ContainerPaths | None = None,
    server: str = "redis",
) -> RedisConfig:
    """Parse ``source`` and the files it includes; ``version`` is the Redis major.minor when
    known (from the image tag), else any 7.x is assumed. With ``root`` (the project folder), an
    ``include`` of a file outside it is reported and never opened. With ``container`` (the
    service's mounts), an absolute ``include`` path is a container path, read from the host
    file mounted there."""
    loader = _Loader(read or _default_reader, version, _State(), server)
    loader.root = _resolve(root) if root is not None else None
    loader.container = container
    base = source.real_path.parent if source.real_path is not None else Path.cwd()
    loader.base_dir = base
    kind = loader.load_main(source)
    loader.finish()
    return RedisConfig(source, loader.directives, loader.problems, loader.files, kind=kind,
                       version=version, server=server, _state=loader.state)


def config_from_args(
    args: Sequence[str],
    spans: Sequence[Span],
    base: RedisConfig | None,
    *,
    version: tuple[int, int] | None = None,
    read: Reader | None = None,
    root: Path | None = None,
    container: ContainerPaths | None = None,
    server: str | None = None,
) -> RedisConfig:
    """Add redis-server command-line options (the argv after the config path) to ``base``, the
    way redis-server appends them to the file: each ``--name`` starts a line, the words after it
    are its arguments, ``--save`` adds points instead of replacing them (FACTS A.1)."""
    if len(args) != len(spans):
        raise ValueError("config_from_args needs one span per argument")
    if base is not None and version is None:
        version = base.version
    if server is None:
        server = base.server if base is not None else "redis"
    state = base._state.copy() if base is not None and base._state is not None else _State()
    loader = _Loader(read or _default_reader, version, state, server)
    loader.root = _resolve(root) if root is not None else None
    loader.container = container
    if base is not None:
        loader.directives = list(base.directives)
        loader.last = {d.canonical: d for d in base.directives}
        loader.problems = list(base.problems)
        loader.files = list(base.files)
        loader.file_ids = {id(f) for f in base.files}
        loader.seen = {(f.span.path, f.span.start, f.message) for f in base.problems}
        loader.open_options = list(base.open_options)
    for words in _option_lines(args):
        loader.load_option(words, args, spans)
    loader.finish()
    return RedisConfig(
        base.source if base is not None else None,
        loader.directives,
        loader.problems,
        loader.files,
        service=base.service if base is not None else None,
        kind=base.kind if base is not None else "redis",
        version=version,
        server=server,
        open_options=tuple(dict.fromkeys(loader.open_options)),
        _state=loader.state,
    )


def looks_like_redis_conf(text: str) -> bool:
    """Sniff for folder walks: most non-comment lines start with a known directive name, and
    at least one of them is specific to Redis (``port`` or ``include`` alone prove nothing)."""
    names = _sniff_names()
    known = strong = total = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        total += 1
        parts = line.split(None, 2)
        word = parts[0].lower()
        if word in names and not (len(parts) > 1 and parts[1][:1] in "=:{"):
            known += 1
            strong += word not in _GENERIC_NAMES
        if total >= 200:
            break
    return strong > 0 and known * 2 > total


def not_a_redis_conf(text: str) -> str | None:
    """Why a file named like a Redis config is something else (None: it reads as one).

    Each line is split with the redis.conf tokenizer as redis-server splits it; the file is not
    a Redis config when half of its lines or more do not start with a directive Redis knows, or
    when most have YAML's shape (``key:``, ``- item``), as a monitoring agent's module config
    named ``redis.conf`` has. An empty or comment-only file is a Redis config (redis-server
    starts on it with its defaults)."""
    from vantage_lint.redis.tokenizer import TokenizeError, split_args

    names = _sniff_names()
    known = yaml_shaped = total = 0
    first_unknown = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        total += 1
        try:
            words = split_args(line)
        except TokenizeError:
            words = []
        head = words[0].text if words else line.split(None, 1)[0]
        if head.endswith(":") or head == "-" or head.startswith("- "):
            yaml_shaped += 1
        elif head.lower() in names:
            known += 1
            continue
        first_unknown = first_unknown or head
        if total >= 200:
            break
    if total == 0 or (known * 2 > total and yaml_shaped * 2 <= total):
        return None
    if yaml_shaped * 2 > total:
        return f"{yaml_shaped} of its {total} lines have YAML's shape ({first_unknown!r}), not redis.conf directives"
    return f"{total - known} of its {total} lines start with no directive Redis knows ({first_unknown!r})"


_GENERIC_NAMES = frozenset({"include", "user", "port", "bind", "dir", "timeout", "pidfile", "logfile",
                            "loglevel", "daemonize", "databases"})


@functools.cache
def _sniff_names() -> frozenset[str]:
    t = table()
    return frozenset(t.directives) | frozenset(t.aliases)


# ---------------------------------------------------------------------------------------------
# Loading


class _Loader:
    __slots__ = ("read", "version", "vkey", "modern", "state", "directives", "problems", "files",
                 "base_dir", "stack", "kind", "seen", "root", "container", "loads", "loaded_chars", "exhausted", "file_ids",
                 "outside_cache", "identities", "last", "open_options")

    def __init__(self, read: Reader, version: tuple[int, int] | None, state: _State, server: str = "redis"):
        self.read = read
        self.version = version
        self.vkey = version_key(version, server)
        self.modern = self.vkey != "6.2"
        self.state = state
        self.directives: list[Directive] = []
        self.last: dict[str, Directive] = {}  # the effective directive of each canonical name
        self.problems: list[Finding] = []
        self.root: Path | None = None
        self.container: ContainerPaths | None = None
        self.loads = 0          # files loaded through include, repeats counted
        self.loaded_chars = 0
        self.exhausted = False
        self.files: list[SourceFile] = []
        self.file_ids: set[int] = set()
        self.outside_cache: dict[str, bool] = {}
        self.identities: dict[str, Path] = {}
        self.base_dir = Path.cwd()
        self.stack: list[Path] = []
        self.kind = "redis"
        self.seen: set[tuple[str, int, str]] = set()
        self.open_options: list[str] = []  # see RedisConfig.open_options

    # -- files ----------------------------------------------------------------------------

    def load_main(self, source: SourceFile) -> str:
        self.stack.append(_identity(source))
        self._load_file(source)
        return self.kind

    def _load_file(self, source: SourceFile) -> None:
        if not any(f is source for f in self.files[-1:]) and id(source) not in self.file_ids:
            # By identity: SourceFile equality compares whole texts, and a list scan per
            # include made many includes quadratic.
            self.file_ids.add(id(source))
            self.files.append(source)
        first_problem = len(self.problems)
        if source.bom:
            # redis-server reads the BOM bytes as part of the first line.
            self._add(_Error(BAD_DIRECTIVE, source.line_span(1),
                             "the file starts with a UTF-8 byte order mark, which redis-server reads as "
                             "part of the first directive; save it without BOM"), "(byte order mark)")
        template_line = _template_line(source.text)
        if template_line is not None:
            self._template(source, template_line)
            return
        stats = _FileStats()
        offset = 0
        for line_no, raw in enumerate(source.text.split("\n"), 1):
            text = raw.strip(_TRIM)
            if text and text[0] != "#":  # most lines of a redis.conf are comments: keep them cheap
                self._load_line(source, line_no, offset, raw, text, stats)
            offset += len(raw) + 1
        if stats.unknown >= 3 and stats.unknown * 2 > stats.lines:
            self._not_redis(source, first_problem, stats)

    def _template(self, source: SourceFile, line_no: int) -> None:
        text = source.line_text(line_no).strip(_TRIM)
        if source is self.files[0]:
            self.kind = "template"
        self.problems.append(problem(
            "VL005", source.line_span(line_no),
            f"this file is a template, not a redis.conf redis-server can read: line {line_no} "
            f"`{_clip(text)}` uses template syntax (Jinja, Helm or ERB); its lines are not checked",
            TEMPLATE_HINT))
        stats = _FileStats()
        offset = 0
        for number, raw in enumerate(source.text.split("\n"), 1):
            text = raw.strip(_TRIM)
            if text and text[0] != "#" and not any(marker in raw for marker in TEMPLATE_MARKERS):
                self._load_line(source, number, offset, raw, text, stats, quiet=True)
            offset += len(raw) + 1

    def _not_redis(self, source: SourceFile, first_problem: int, stats: _FileStats) -> None:
        del self.problems[first_problem:]
        self.directives = [d for d in self.directives if d.source is not source]
        self.last = {d.canonical: d for d in self.directives}
        if source is self.files[0]:
            self.kind = "other"
        span = stats.first_unknown or source.line_span(1)
        self.problems.append(problem(
            "VL005", span,
            f"this file does not look like a redis.conf: {stats.unknown} of its {stats.lines} settings are "
            f"not redis directives (first: line {span.line} `{_clip(source.line_text(span.line).strip())}`); "
            f"redis-server would stop at that line with \"{BAD_DIRECTIVE}\"",
            NOT_REDIS_HINT))

    def _load_line(self, source: SourceFile, line_no: int, offset: int, raw: str, text: str,
                   stats: _FileStats, quiet: bool = False) -> None:
        """One non-blank, non-comment line; ``text`` is ``raw`` trimmed as redis-server trims it."""
        lead = len(raw) - len(raw.lstrip(_TRIM))
        start = offset + lead
        stats.lines += 1

        def span(a: int, b: int) -> Span:
            return Span(source.path, line_no, lead + a + 1, line_no, lead + b + 1, start + a, start + b)

        try:
            tokens = split_args(text)
        except TokenizeError as exc:
            if not quiet:
                self._add(_Error(UNBALANCED, span(exc.column - 1, len(text)), _QUOTE_DETAIL),
                          _shown_unparsed(text))
            return
        if not tokens:
            return
        spans = [span(t.start, t.end) for t in tokens]
        name = _lower(tokens[0].text)
        directive = Directive(name, canonical_name(name), [t.text for t in tokens[1:]],
                              span(0, len(text)), spans[0], spans[1:], source)
        if quiet:
            if is_accepted(name, self.vkey) or "." in name:
                self._append(directive)
            return
        error = self._check(directive)
        if error is None:
            self._append(directive)
            return
        if error.server == BAD_DIRECTIVE and error.span is directive.name_span:
            stats.unknown += 1
            stats.first_unknown = stats.first_unknown or error.span
        self._add(error, _shown(name, directive.args, text))

    def load_option(self, words: _OptionLine, args: Sequence[str], spans: Sequence[Span]) -> None:
        """One command-line line: ``--name`` (possibly with values in the same word) + values."""
        argv: list[str] = []
        arg_spans: list[Span] = []
        if words.name is not None:
            name_span = spans[words.name]
            try:
                head = [t.text for t in split_args(args[words.name][2:])]
            except TokenizeError:
                self._add(_Error(UNBALANCED, name_span), _shown_unparsed(args[words.name][2:]))
                return
            argv.extend(head)
            arg_spans.extend([name_span] * len(head))
        for index in words.values:
            argv.append("" if index is None else args[index])
            arg_spans.append(spans[words.name if index is None else index])  # type: ignore[index]
        if not argv:
            return
        if words.name is None or has_unknown(argv[0]):
            opened = names_in(argv)  # words before any --name, or `--${NAME}`: flags, at deploy time
            if opened:
                self.open_options.extend(opened)
                return
        else:
            entry = directive_info(_lower(argv[0]))
            if (entry is not None and not entry.get("multi_arg") and entry["type"] != "special"
                    and entry["name"] not in NON_TABLE and len(argv) > 2):
                # `--appendonly yes ${EXTRA}`: a word past the one value is more flags at deploy time
                extra = names_in(argv[2:])
                if extra and all(has_unknown(word) for word in argv[2:]):
                    self.open_options.extend(extra)
                    argv, arg_spans = argv[:2], arg_spans[:2]
        first, last = arg_spans[0], arg_spans[-1]
        whole = first
        if first.path == last.path and last.end >= first.start:
            whole = Span(first.path, first.line, first.column, last.end_line, last.end_column,
                         first.start, last.end)
        name = _lower(argv[0])
        directive = Directive(name, canonical_name(name), argv[1:], whole, arg_spans[0], arg_spans[1:],
                              None, from_command_line=True)
        shown = " ".join([argv[0], *(_repr(a) for a in argv[1:])])
        if any(has_unknown(word) for word in argv):
            # A value the deployment supplies (compose.unknown): what redis-server makes of it
            # is not known here. A known name is set, to that unknown value; no VL005 either way.
            if not has_unknown(argv[0]) and is_accepted(name, self.vkey) and directive_info(name) is not None:
                self._append(directive)
            return
        error = self._check(directive)
        if error is None:
            self._append(directive)
        else:
            self._add(error, _shown(name, directive.args, shown))

    def finish(self) -> None:
        """Checks redis-server makes after the whole configuration is read."""
        cluster = self._effective("cluster-enabled")
        replica = self._effective("replicaof")
        if (
            cluster is not None and _lower(cluster.args[0]) == "yes"
            and replica is not None and [_lower(a) for a in replica.args] != ["no", "one"]
        ):
            detail = (f"cluster-enabled is yes (line {cluster.span.line}); a cluster node gets its primary "
                      "from the cluster, not from replicaof")
            self._add(_Error("replicaof directive not allowed in cluster mode", replica.span, detail),
                      _clip(" ".join([replica.name, *replica.args])))
        aclfile = self._effective("aclfile")
        users = [d for d in self.directives if d.canonical == "user"]
        if aclfile is not None and aclfile.args and aclfile.args[0] and users:
            # ACLLoadUsersAtStartup (src/acl.c) exits before it opens the file; not a FATAL
            # CONFIG FILE ERROR banner, but the server never starts.
            where = f"line {aclfile.span.line}" if aclfile.source is not None else "the command line"
            self._add(_Error(
                "users defined in redis.conf and an ACL file at the same time",
                users[0].name_span,
                f"aclfile is set ({where}); redis-server exits: define users either in the ACL file or "
                "with user lines, not both"),
                _clip(" ".join([users[0].name, users[0].args[0] if users[0].args else ""])))

    def _append(self, directive: Directive) -> None:
        self.directives.append(directive)
        self.last[directive.canonical] = directive

    def _effective(self, canonical: str) -> Directive | None:
        # A dict, not a scan: `user` lines ask for acl-pubsub-default one by one (300,000 of
        # them were quadratic).
        return self.last.get(canonical)

    def _add(self, error: _Error, shown: str) -> None:
        message = f"redis-server refuses `{shown}`: {error.server}"
        if error.detail:
            message += f" ({error.detail})"
        key = (error.span.path, error.span.start, message)
        if key in self.seen:
            return  # a file included twice reports each line once
        self.seen.add(key)
        if len(self.problems) == MAX_PROBLEMS:
            self.problems.append(problem(
                "VL005", error.span,
                f"more than {MAX_PROBLEMS} lines redis-server refuses; the rest are not listed", HINT))
        if len(self.problems) > MAX_PROBLEMS:
            return
        self.problems.append(problem("VL005", error.span, message, HINT))

    # -- one directive --------------------------------------------------------------------

    def _check(self, d: Directive) -> _Error | None:
        """The error redis-server reports for this line, after applying what it changes."""
        name = d.name
        if is_accepted(name, self.vkey):
            entry = directive_info(name)
            if entry is None:  # accepted names always have an entry; keep the parser total
                return None
            canonical = entry["name"]
            kind = entry["type"]
            if kind == "deprecated_ignored":
                return None if len(d.args) == 1 else _Error(BAD_DIRECTIVE, d.span, _count_detail(name, 1, d.args))
            if canonical in NON_TABLE:
                return self._non_table(canonical, d)
            if entry.get("multi_arg"):
                if self.modern and len(d.args) == 1 and d.args[0]:
                    self._resplit(d)
            elif len(d.args) != 1:
                return _Error(WRONG_ARGS, d.span, _count_detail(name, 1, d.args))
            if kind == "special":
                return self._special(canonical, d)
            message = check_standard(entry, d.args, self.vkey)
            if message is None:
                return None
            at = d.arg_spans[0] if d.arg_spans else d.span
            return _Error(message, at, _value_detail(entry, d.args, self.vkey))
        if "." in name and self.modern:
            if not d.args:
                return _Error("Module config specified without value", d.span)
            return None
        return _Error(BAD_DIRECTIVE, d.name_span, _unknown_detail(name, self.vkey))

    def _resplit(self, d: Directive) -> None:
        """A multi-arg directive given one quoted value is split again (``save "900 1"``); a
        value that cannot be split counts as no arguments at all."""
        try:
            parts = [t.text for t in split_args(d.args[0])]
        except TokenizeError:
            parts = []
        d.arg_spans = [d.arg_spans[0]] * len(parts)
        d.args = parts

    def _non_table(self, name: str, d: Directive) -> _Error | None:
        args = d.args
        if name == "include":
            if len(args) != 1:
                return _Error(BAD_DIRECTIVE, d.span, _count_detail(name, 1, args))
            return self._include(d)
        if name == "rename-command":
            if len(args) != 2:
                return _Error(BAD_DIRECTIVE, d.span, _count_detail(name, 2, args))
            return self._rename(d)
        if name in ("user", "loadmodule"):
            if not args:
                return _Error(BAD_DIRECTIVE, d.span, f"{name} needs at least one argument")
            return self._user(d) if name == "user" else None
        # sentinel: only valid in Sentinel mode, so a file with such lines is a Sentinel config.
        if args and self.files and d.source is self.files[0]:
            self.kind = "sentinel"
        return None

    def _special(self, name: str, d: Directive) -> _Error | None:
        args = d.args
        if name == "save":
            return self._save(d)
        if name == "client-output-buffer-limit":
            return _buffer_limit(d)
        if name == "bind":
            if len(args) > 16:
                return _Error("Too many bind addresses specified.", d.span,
                              f"{len(args)} addresses; the limit is 16")
            return None
        if name == "replicaof":
            if len(args) != 2:
                return _Error(WRONG_ARGS, d.span, "use `replicaof <host> <port>` or `replicaof no one`")
            if _lower(args[0]) == "no" and _lower(args[1]) == "one":
                return None
            port = strtoll(args[1])
            if port is None or not 0 <= port <= 65535:
                return _Error("Invalid master port", d.arg_spans[1], "the port must be a number from 0 to 65535")
            return None
        if name == "oom-score-adj-values":
            if len(args) != 3:
                return _Error(WRONG_ARGS, d.span, "it takes three values: primary, replica, background child")
            for arg, span in zip(args, d.arg_spans):
                value = strtoll(arg)
                if value is None or not -2000 <= value <= 2000:
                    return _Error("Invalid oom-score-adj-values, elements must be between -2000 and 2000.", span)
            return None
        if name == "latency-tracking-info-percentiles":
            if len(args) == 1 and args[0] == "":
                return None
            for arg, span in zip(args, d.arg_spans):
                value = string2d(arg)
                if value is None:
                    return _Error("Invalid latency-tracking-info-percentiles parameters", span)
                if not 0.0 <= value <= 100.0:
                    return _Error("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
                                  span)
            return None
        if name == "notify-keyspace-events":
            bad = [c for c in args[0] if c not in _KEYSPACE_EVENTS]
            if bad:
                return _Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.", d.arg_spans[0],
                              f"{bad[0]!r} is not an event class; classes are case-sensitive")
            return None
        if name == "dir" and args[0] == "":
            return _Error("No such file or directory", d.arg_spans[0],
                          "redis-server cannot change directory to an empty path")
        return None

    # -- save ---------------------------------------------------------------------------------

    def _save(self, d: Directive) -> _Error | None:
        state = self.state
        args = d.args
        if not self.modern:
            return self._save_62(d)
        clear = len(args) == 1 and args[0] == ""
        if clear:
            args = []
        if len(args) % 2:
            return _Error("Invalid save parameters", d.span,
                          "save takes <seconds> <changes> pairs" + (
                              f"; `save {args[0]}` has no number of changes" if len(args) == 1 else ""))
        values: list[int] = []
        for j, (arg, span) in enumerate(zip(args, d.arg_spans)):
            value = strtoll(arg)
            if value is None or (j % 2 == 0 and value < 1) or (j % 2 == 1 and value < 0):
                what = "seconds must be a number >= 1" if j % 2 == 0 else "changes must be a number >= 0"
                return _Error("Invalid save parameters", span, what)
            values.append(value)
        if clear or not state.reading_file:
            state.save_points = []
        elif not state.save_loaded:
            state.save_loaded = True
            state.save_points = []
        points = state.save_points if state.save_points is not None else list(_DEFAULT_SAVE)
        points.extend((values[j], _int32(values[j + 1])) for j in range(0, len(values), 2))
        state.save_points = points
        return None

    def _save_62(self, d: Directive) -> _Error | None:
        """Redis 6.2: only ``save <s> <c>`` and ``save ""`` do anything; other lines are
        accepted and ignored (so a multi-pair line leaves no save points at all)."""
        state = self.state
        args = d.args
        if not state.save_loaded:
            state.save_loaded = True
            state.save_points = []
        points = state.save_points if state.save_points is not None else []
        if len(args) == 2:
            seconds, changes = _strtoll_prefix(args[0]), _strtoll_prefix(args[1])
            if seconds < 1 or changes < 0:
                return _Error("Invalid save parameters", d.span)
            points.append((seconds, _int32(changes)))
        elif len(args) == 1 and args[0] == "":
            points = []
        state.save_points = points
        return None

    # -- include ------------------------------------------------------------------------------

    def _include(self, d: Directive) -> _Error | None:
        target = d.args[0]
        reason = bad_path(target)
        if reason is not None:
            self.state.reading_file = False
            return _Error(f"{CANT_OPEN} '{target}'", d.arg_spans[0], f"the path {reason}")
        if Path(target).is_absolute() and self.container is not None:
            host = self.container(target)
            if host is None:
                self.problems.append(problem(
                    "VL005", d.arg_spans[0],
                    f"include '{target}' is a container path no bind mount of the service provides; not read",
                    "Mount the included file (or its folder) from the project, or lint the image that contains it.",
                    Severity.WARNING))
                self.state.reading_file = False
                return None
            if not exists(host):
                # The mount's host side is missing: Docker puts an empty folder there. VL203
                # reports it at the volume, where the user must act; not a second finding here.
                self.state.reading_file = False
                return None
            path = host
        else:
            path = Path(target) if Path(target).is_absolute() else self.base_dir / target
        if self._refuse_outside(d, target, path):
            return None
        if any(c in target for c in _GLOB_CHARS):
            paths = glob_paths(str(path))
        else:
            paths = [path]
        error = None
        for one in paths:
            error = self._include_file(d, target, one)
            if error is not None:
                break
        self.state.reading_file = False  # an included file's end clears reading_config_file
        return error

    def _refuse_outside(self, d: Directive, target: str, path: Path) -> bool:
        """Never read (or glob) host files outside the project: `../..` may reach the user's
        home, a symbolic link anywhere; True (reported) when ``path`` is such a file."""
        key = str(path)
        refused = self.outside_cache.get(key)
        if refused is None:  # links are resolved once per name, however often it is included
            refused = self.outside_cache[key] = outside(path, self.root)
        if not refused:
            return False
        self.problems.append(problem(
            "VL005", d.arg_spans[0], f"include '{target}' is outside the project folder; not read",
            OUTSIDE_HINT, Severity.WARNING))
        self.state.reading_file = False
        return True

    def _include_file(self, d: Directive, target: str, path: Path) -> _Error | None:
        if self._refuse_outside(d, target, path):  # a wildcard match may be a link to anywhere
            return None
        identity = self.identities.get(str(path))
        if identity is None:
            identity = self.identities[str(path)] = _resolve(path)
        if identity in self.stack:
            return _Error("include cycle", d.arg_spans[0],
                          f"{target} includes itself through {' -> '.join(p.name for p in self.stack)}; "
                          "redis-server recurses until it crashes")
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            return _Error("includes nested too deeply", d.arg_spans[0],
                          f"more than {MAX_INCLUDE_DEPTH} levels of include")
        try:
            included = self.read(path)
        except IsADirectoryError:
            return None  # redis-server opens a directory and reads nothing from it
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return _Error(f"{CANT_OPEN} '{target}': {reason}", d.arg_spans[0],
                          f"looked for {path}; redis-server resolves relative paths against its working directory")
        except SourceError as exc:
            return _Error(f"cannot read include file '{target}'", d.arg_spans[0], exc.message)
        if self.exhausted:
            return None
        self.loads += 1
        self.loaded_chars += len(included.text)
        if self.loads > MAX_INCLUDE_LOADS or self.loaded_chars > MAX_INCLUDE_CHARS:
            self.exhausted = True
            self.problems.append(problem(
                "VL005", d.arg_spans[0],
                f"includes expand to more than {MAX_INCLUDE_LOADS:,} files or {MAX_INCLUDE_CHARS // 2**20} MiB "
                "(files included again and again); the rest is not read",
                "Include each file once.", Severity.WARNING))
            return None
        self.stack.append(identity)
        reading = self.state.reading_file
        self.state.reading_file = True
        try:
            self._load_file(included)
        finally:
            self.stack.pop()
            self.state.reading_file = reading
        return None

    # -- rename-command -----------------------------------------------------------------------

    def _rename(self, d: Directive) -> _Error | None:
        state = self.state
        if state.commands is None:
            state.commands = set(commands(self.vkey))
        old, new = _lower(d.args[0]), _lower(d.args[1])
        redis = redis_equivalent(self.vkey)
        newer_server = redis is not None and VERSIONS.index(redis) > VERSIONS.index("7.0")
        if old not in state.commands:
            if newer_server and old not in commands(None) and not is_valkey(self.vkey):
                return None  # a command the 7.0 table does not know may exist in a newer Redis
            if old in commands(self.vkey):
                detail = f"{d.args[0]} was already renamed or removed by an earlier rename-command"
            else:
                close = suggest(old, sorted(c for c in state.commands if "|" not in c))
                detail = f"{d.args[0]} is not a Redis command"
                if close:
                    detail += f"; did you mean {close.upper()}?"
            return _Error("No such command in rename-command", d.arg_spans[0], detail)
        if "|" in old:
            return _Error("rename-command cannot rename a subcommand", d.arg_spans[0],
                          "redis-server 7.0 aborts with an assertion on this line")
        state.commands.discard(old)
        if new:
            if new in state.commands:
                return _Error("Target command name already exists", d.arg_spans[1])
            state.commands.add(new)
        return None

    # -- user ---------------------------------------------------------------------------------

    def _user(self, d: Directive) -> _Error | None:
        username = d.args[0]
        pubsub = self._effective("acl-pubsub-default")
        if pubsub is not None:
            all_channels = _lower(pubsub.args[0]) == "allchannels"
        else:
            all_channels = not self.modern  # the default changed to resetchannels in 7.0
        failure = _acl_error(d.args[1:], all_channels)
        if failure is not None:
            index, reason = failure
            span = d.arg_spans[1 + index] if 1 + index < len(d.arg_spans) else d.span
            return _Error(f"Error in user declaration '{username}': {reason}", span)
        first = self.state.users.get(username)
        if first is not None:
            return _Error(f"Error in user declaration '{username}': Duplicate user found. "
                          "A user can only be defined once in config files", d.arg_spans[0],
                          f"{username} is already defined at {first}")
        self.state.users[username] = d.span
        return None


@dataclass(slots=True)
class _FileStats:
    lines: int = 0
    unknown: int = 0
    first_unknown: Span | None = None


@dataclass(slots=True)
class _OptionLine:
    name: int | None                                            # index of the --name word
    values: list[int | None] = field(default_factory=list)      # None: an implied "" value


def _option_lines(args: Sequence[str]) -> Iterator[_OptionLine]:
    """Group argv words into config lines as redis-server's main() does (server.c, 7.0)."""
    current: _OptionLine | None = None
    handled = True  # handled_last_config_arg
    last = len(args) - 1
    for j, word in enumerate(args):
        if word == "-" and j in (0, last):
            continue  # "read the config from stdin"
        if handled and word.startswith("--"):
            if current is not None:
                yield current
            current = _OptionLine(j)
            try:
                alone = len(split_args(word)) == 1
            except TokenizeError:
                alone = False
            handled = not alone
            if alone:
                next_is_option = j != last and args[j + 1].startswith("--")
                if _lower(word) == "--save" and (next_is_option or j == last):
                    current.values.append(None)  # `--save` alone means `save ""`
                    handled = True
                elif _lower(word) == "--sentinel" and next_is_option:
                    handled = True
        else:
            if current is None:
                current = _OptionLine(None)
            current.values.append(j)
            handled = True
    if current is not None:
        yield current


# ---------------------------------------------------------------------------------------------
# Checks that need no loader state


def _buffer_limit(d: Directive) -> _Error | None:
    args = d.args
    if len(args) % 4:
        return _Error("Wrong number of arguments in buffer limit configuration.", d.span,
                      "each class takes <class> <hard limit> <soft limit> <soft seconds>")
    for j in range(0, len(args), 4):
        if _lower(args[j]) not in _BUFFER_CLASSES:
            return _Error("Invalid client class specified in buffer limit configuration.", d.arg_spans[j],
                          "classes are normal, replica (or slave) and pubsub")
        seconds = strtoll(args[j + 3])
        if parse_memory(args[j + 1]) is None or parse_memory(args[j + 2]) is None or seconds is None \
                or _int32(seconds) < 0:
            return _Error("Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                          d.arg_spans[j + 1], "limits are memory values (b, k, kb, m, mb, g, gb), seconds >= 0")
    return None


_ACL_FLAGS = frozenset({"on", "off", "skip-sanitize-payload", "sanitize-payload", "clearselectors"})
_ACL_ERRORS = {
    "ENOENT": "Unknown command or category name in ACL",
    "EINVAL": "Syntax error",
    "EEXIST": "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
              "effect. Try 'resetkeys' to start with an empty list of patterns",
    "EISDIR": "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
              "any effect. Try 'resetchannels' to start with an empty list of channels",
    "ENODEV": "The password you are trying to remove from the user does not exist",
    "EBADMSG": "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    "ECHILD": "Allowing first-arg of a subcommand is not supported",
}
_HEX_LOWER = frozenset("0123456789abcdef")


def _acl_error(ops: list[str], all_channels: bool) -> tuple[int, str] | None:
    """The first ACL rule redis-server refuses while reading a ``user`` line, as (index, reason).

    Unknown commands and categories are not refused here: redis-server checks them after the
    load (with a different message), since modules may add commands."""
    merged: list[tuple[int, str]] = []
    open_at = -1
    for j, op in enumerate(ops):
        if op.startswith("(") and not op.endswith(")"):
            open_at, pending = j, op  # (re)opens a selector, as ACLMergeSelectorArguments does
            continue
        if open_at != -1:
            pending += " " + op
            if op.endswith(")"):
                merged.append((open_at, pending))
                open_at = -1
            continue
        merged.append((j, op))
    if open_at != -1:
        return open_at, _ACL_ERRORS["ENOENT"]  # what 7.0 prints for an unclosed "("
    passwords: set[str] = set()
    root = _Selector(all_channels)
    for index, op in merged:
        errno = _acl_user_op(op, passwords, root, all_channels)
        if errno is not None and errno != "ENOENT":
            return index, _ACL_ERRORS[errno]
    return None


class _Selector:
    __slots__ = ("all_keys", "all_channels")

    def __init__(self, all_channels: bool):
        self.all_keys = False
        self.all_channels = all_channels


def _acl_user_op(op: str, passwords: set[str], root: _Selector, all_channels: bool) -> str | None:
    if not op:
        return None
    lowered = _lower(op)
    if lowered in _ACL_FLAGS:
        return None
    if lowered in ("nopass", "resetpass"):
        passwords.clear()
        return None
    if lowered == "reset":
        passwords.clear()
        root.all_keys, root.all_channels = False, all_channels
        return None
    first = op[0]
    if first in "><":
        import hashlib  # only for user lines with passwords

        digest = hashlib.sha256(op[1:].encode("utf-8", "surrogateescape")).hexdigest()
        if first == ">":
            passwords.add(digest)
            return None
        if digest not in passwords:
            return "ENODEV"
        passwords.discard(digest)
        return None
    if first in "#!":
        digest = op[1:]
        if len(digest) != 64 or not set(digest) <= _HEX_LOWER:
            return "EBADMSG"
        if first == "#":
            passwords.add(digest)
            return None
        if digest not in passwords:
            return "ENODEV"
        passwords.discard(digest)
        return None
    if first == "(" and op.endswith(")"):
        try:
            inner = [t.text for t in split_args(op[1:-1])]
        except TokenizeError:
            return "EINVAL"
        selector = _Selector(all_channels)
        for part in inner:
            errno = _acl_selector_op(part, selector)
            if errno is not None:
                return errno
        return None
    return _acl_selector_op(op, root)


def _acl_selector_op(op: str, selector: _Selector) -> str | None:
    lowered = _lower(op)
    if lowered in ("allkeys", "~*"):
        selector.all_keys = True
        return None
    if lowered == "resetkeys":
        selector.all_keys = False
        return None
    if lowered in ("allchannels", "&*"):
        selector.all_channels = True
        return None
    if lowered == "resetchannels":
        selector.all_channels = False
        return None
    if lowered in ("allcommands", "+@all", "nocommands", "-@all"):
        return None
    first = op[:1]
    if first in ("~", "%"):
        if selector.all_keys:
            return "EEXIST"
        if first == "%":
            flags = set()
            for c in op[1:]:
                upper = c.upper()
                if upper in "RW" and upper not in flags:
                    flags.add(upper)
                elif c == "~":
                    break
                else:
                    return "EINVAL"
            if not flags:
                return "EINVAL"
        return None
    if first == "&":
        return "EISDIR" if selector.all_channels else None
    if first in ("+", "-") and op[1:2] != "@":
        if first == "+" and "|" in op:
            container, sub = op[1:].rsplit("|", 1)
            commands = table().commands
            if _lower(container) not in commands:
                return "ENOENT"
            if "|" in container:
                return "ECHILD"
            if not sub:
                return "EINVAL"
        return None if _lower(op[1:]) in table().commands else "ENOENT"
    if first in ("+", "-"):
        return None if _lower(op[2:]) in table().acl_categories or _lower(op[2:]) == "all" else "ENOENT"
    return "EINVAL"


# ---------------------------------------------------------------------------------------------
# Messages


def _count_detail(name: str, wanted: int, args: list[str]) -> str:
    comment = next((i for i, a in enumerate(args) if a.startswith("#")), None)
    if comment is not None and comment >= wanted - 1:
        return (f"redis.conf has no inline comments: `{' '.join(args[comment:])}` is read as arguments; "
                "put the comment on its own line")
    unit = "argument" if wanted == 1 else "arguments"
    return f"{name} takes {wanted} {unit}, got {len(args)}"


def _value_detail(entry: dict[str, Any], args: list[str], vkey: str | None) -> str | None:
    kind = entry["type"]
    value = args[0] if args else ""
    if kind in ("memory", "memory_or_percent") and parse_memory(value) is None:
        extra = " or a percentage such as 10%" if kind == "memory_or_percent" else ""
        return (f"{value!r} is not a Redis memory value: use digits with b, k, kb, m, mb, g or gb{extra} "
                "(k/m/g are powers of 1000, kb/mb/gb of 1024; no t, MiB, decimals or negatives)")
    if kind == "bool":
        return f"use yes or no, not {value!r}"
    if kind == "enum":
        values = enum_values(entry, vkey)
        bad = next((a for a in args if _lower(a) not in values), value)
        close = suggest(_lower(bad), values)
        return f"did you mean {close}?" if close else None
    return None


def _unknown_detail(name: str, vkey: str | None) -> str:
    t = table()
    entry = t.directives.get(name)
    alias = t.aliases.get(name)
    versions = entry["versions"] if entry is not None else (alias["versions"] if alias is not None else [])
    redis_versions = [v for v in versions if not is_valkey(v)]
    if is_valkey(vkey):
        assert vkey is not None
        if redis_versions:
            return f"{name} is a Redis {redis_versions[-1]} directive that Valkey {vkey.split('-', 1)[1]} does not have"
    elif redis_versions:
        where = "Redis 7.x" if vkey is None else f"Redis {vkey}"
        newest, oldest = redis_versions[-1], redis_versions[0]
        if vkey is None or VERSIONS.index(vkey) > VERSIONS.index(newest):
            return f"{name} is not a {where} directive: it was removed after Redis {newest}"
        return f"{name} needs Redis {oldest} or newer"
    elif versions:
        return f"{name} is a Valkey directive, not a Redis one"
    close = suggest(name, known_names(vkey))
    text = f"unknown directive {name}"
    if close:
        text += f"; did you mean {close}?"
    return text


_QUOTE_DETAIL = ("a closing quote must be followed by a space or the end of the line, and every quote must "
                 "be closed")


def _shown(name: str, args: list[str], text: str) -> str:
    """The line as the message shows it, with passwords masked."""
    canonical = canonical_name(name)
    if (canonical in SENSITIVE or "pass" in name.lower() or "auth" in name.lower()) and args:
        return _clip(" ".join([name, *(_mask(a) for a in args)]))
    if canonical == "user":
        return _clip(" ".join([name, *(_mask(a) if a[:1] in "><#!" else a for a in args)]))
    return _clip(text)


def _shown_unparsed(text: str) -> str:
    """A line that could not be split: everything after a secret's name is masked."""
    name = _lower(text.split(None, 1)[0]) if text.split() else ""
    if canonical_name(name) in SENSITIVE or name == "user":
        return f"{name} ***"
    return _clip(text)


def _mask(value: str) -> str:
    if value[:1] in "><#!":
        return value[:2] + "***"
    return value[:1] + "***" if value else value


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _repr(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


# ---------------------------------------------------------------------------------------------
# Small helpers


def _template_line(text: str) -> int | None:
    if not any(marker in text for marker in TEMPLATE_MARKERS):
        return None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(_TRIM)
        if line and line[0] != "#" and any(marker in line for marker in TEMPLATE_MARKERS):
            return number
    return None


def _lower(text: str) -> str:
    """``sdstolower``: ASCII letters only (C locale)."""
    return ascii_lower(text)


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _strtoll_prefix(text: str) -> int:
    """C ``strtoll(s, NULL, 10)``: the leading number, 0 when there is none."""
    stripped = text.lstrip(" \t\n\v\f\r")
    sign = -1 if stripped[:1] == "-" else 1
    digits = stripped[1:] if stripped[:1] in "+-" else stripped
    end = 0
    while end < len(digits) and digits[end].isascii() and digits[end].isdigit():
        end += 1
    return sign * int(digits[:end]) if end else 0


def _identity(source: SourceFile) -> Path:
    return _resolve(source.real_path) if source.real_path is not None else Path(source.path)


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _default_reader(path: Path) -> SourceFile:
    from vantage_lint.source import display_path, read_source

    return read_source(path, display_path(path))

