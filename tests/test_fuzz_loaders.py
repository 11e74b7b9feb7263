"""Property tests for the input loaders, end to end through ``lint``.

Compose files (arbitrary text and bytes, random YAML trees, generated valid projects) and
redis.conf files (arbitrary text, quotes, escapes, NULs, long lines, dangling includes) must give
findings or a UsageError, never another exception, and every finding must point inside the file:
1 <= line <= number of lines, 1 <= column <= that line's length + 1, end not before start, and
the character offsets agree with the line/column. For valid Compose documents each finding must
point at the start of a node (or of a mapping key) of the tree the loader builds, or at a part of
a one-line scalar (``nodes.sub_span``: a celery option inside a command string).

Lines are counted the way the product counts them (``SourceFile.line_starts``: ``\\n`` only).
The celery parser's problem offsets are checked here too (test_celery_command.py checks only the
settings' offsets); interpolation positions are already covered by test_interpolation.py.

The bugs these properties found (recursive aliases, lone surrogate escapes, a collection as
``version``, libyaml's extra line breaks, a document ending at EOF without a newline) are kept as
regression examples at the end of the module.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers import run
from vantage_lint.celery.command import find_celery, find_celery_in_script
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.compose.yaml_loader import parse_yaml
from vantage_lint.discovery import UsageError
from vantage_lint.engine import InternalError
from vantage_lint.source import SourceError, SourceFile, decode, display_path

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FUZZ_SMALL = settings(FUZZ, max_examples=60)

# Characters libyaml treats as line breaks but SourceFile does not (it splits on "\n" only),
# and U+FEFF inside the decoded text, which the YAML parsers skip in columns but not in offsets.
FOREIGN_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
SKEW_CHARACTERS = (*FOREIGN_BREAKS, "\ufeff")


# --- running lint and checking positions --------------------------------------------------------


def lint_file(name: str, data: bytes, *, explicit: bool = False):
    """Write ``data`` as ``name`` in a fresh folder, lint the folder (or the file) and return
    ``(report or None, display path)``; None means a UsageError (a clean refusal)."""
    with tempfile.TemporaryDirectory(prefix="vl-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            report = run([path if explicit else Path(folder)])
        except UsageError as exc:
            assert str(exc) and "\n" not in str(exc).strip()
            return None, display_path(path)
        return report, display_path(path)


def tree_nodes(root: Node | None) -> list[Node]:
    nodes: list[Node] = []
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        if isinstance(node, MapNode):
            stack.extend(node.items.values())
        elif isinstance(node, SeqNode):
            stack.extend(node.items)
    return nodes


def line_lengths(report, shown: str, data: bytes) -> tuple[list[int], str | None]:
    """Lengths of the file's lines as the product counts them, and the decoded text (None when
    the file could not be decoded: decode errors locate bytes)."""
    source = report.sources.get(shown)
    if source is None:
        try:
            source = decode(data, shown)
        except SourceError:
            return [len(line) for line in data.split(b"\n")], None
    text = source.text
    if not source.cr_breaks:
        return [len(line) for line in text.split("\n")], text
    # A YAML file with a lone CR: lines end at LF, CRLF or CR, as editors show them.
    starts = source.line_starts + [len(text) + 1]
    return [len(text[a:b - 1]) if text[b - 2 : b] != "\r\n" else b - a - 1
            for a, b in zip(starts, starts[1:])], text


def check_positions(report, shown: str, data: bytes, *, offsets: bool = True) -> list:
    """Assert the position invariants for every finding in the linted file; return those findings."""
    lengths, text = line_lengths(report, shown, data)
    mine = [f for f in report.findings if f.span.path == shown]
    for finding in mine:
        s = finding.span
        where = f"{finding.code} {s.line}:{s.column}-{s.end_line}:{s.end_column} {finding.message!r}"
        assert 1 <= s.line <= len(lengths), where
        assert 1 <= s.column <= lengths[s.line - 1] + 1, where
        assert (s.line, s.column) <= (s.end_line, s.end_column), where
        # the end may sit one past the last line (end of file after a final newline)
        assert s.end_line <= len(lengths) + 1, where
        if s.end_line <= len(lengths):
            assert 1 <= s.end_column <= lengths[s.end_line - 1] + 1, where
        else:
            assert s.end_column == 1, where
        if offsets and text is not None and (s.start, s.end) != (0, 0):
            source = SourceFile(shown, None, text)
            product = report.sources.get(shown)
            if product is not None and product.cr_breaks:
                source.use_cr_breaks()
            assert 0 <= s.start <= s.end <= len(text), where
            assert source.position(s.start) == (s.line, s.column), where
            # libyaml ends a collection that runs to EOF on the line after the last one
            at_eof = s.end == len(text) and (s.end_line, s.end_column) == (len(lengths) + 1, 1)
            assert at_eof or source.position(s.end) == (s.end_line, s.end_column), where
    return mine


# --- 1. the Compose loader on arbitrary text and bytes -----------------------------------------

YAML_BITS = st.sampled_from(
    list(":-[]{}&*!|>'\"%@`#,?~ \t\n\\") + [
        "\r\n", "\r", "\x00", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "é", "\U0001f600",
        "services:", "\n  ", "\n    ", "image: ", "- ", "&a ", "*a", "<<: ", "!!str ", "!!binary ",
        "---\n", "...\n", "%YAML 1.1\n", "%TAG ! x\n", "? ", "${", "$$", "${A:?x}", "x-", "command: [",
        "environment:\n", "ports:\n  - ", '"\\u', "'", "\\x41", "0x1F", ".inf", "~", "yes", "0o17",
    ]
)
COMPOSE_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(YAML_BITS | st.text(max_size=3), max_size=60).map("".join),
)


@FUZZ
@given(COMPOSE_TEXT)
@example("services:\r\n  a:\r\n    image: x:1\r\n    ports:\r\n      - 80\r\n")
@example("services:\n\ta:\n\t\timage: x\n")
@example("-")
@example("---\n")
@example("services: {a: {image: x, <<: *b}}\n")
@example("services:\n  a:\n    image: x\n    environment: [A=${B:?need}]\n")
@example("%YAML 1.1\n---\nservices: {a: {image: x, restart: no}}\n")
def test_compose_any_text(text):
    data = text.encode("utf-8", "surrogatepass")
    report, shown = lint_file("docker-compose.yml", data)
    if report is not None:
        check_positions(report, shown, data)


@FUZZ_SMALL
@given(st.lists(YAML_BITS | st.sampled_from(SKEW_CHARACTERS), max_size=50).map("".join))
def test_compose_any_text_with_foreign_line_breaks(text):
    data = text.encode("utf-8")
    report, shown = lint_file("docker-compose.yml", data)
    if report is not None:
        check_positions(report, shown, data)


@FUZZ
@given(st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from([
        b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\x00", b"\xc3", b"\xc3\xa9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
        b"\n", b"\r\n", b"services:\n", b"  a:\n", b"    image: x\n", b": ", b"[", b"- ",
    ]), max_size=30).map(b"".join),
))
@example(b"\xff\xfe" + "services:".encode("utf-16-le"))
@example(b"services:\n  a:\n    image: caf\xe9\n")
@example(b"services:\n  a:\n    image: x\x00y\n")
@example(b"\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbf")
def test_compose_any_bytes(data):
    report, shown = lint_file("docker-compose.yml", data)
    if report is not None:
        found = check_positions(report, shown, data)
        try:
            decode(data, shown)
        except SourceError:
            assert [f.code for f in found] == ["VL001"], found  # undecodable: exactly one VL001


# --- 2. random YAML trees with Compose keys --------------------------------------------------------

COMPOSE_KEYS = [
    "services", "image", "command", "entrypoint", "environment", "env_file", "ports", "volumes",
    "healthcheck", "test", "interval", "timeout", "retries", "start_period", "depends_on", "condition",
    "deploy", "resources", "limits", "memory", "cpus", "restart", "networks", "configs", "secrets",
    "user", "read_only", "cap_drop", "security_opt", "logging", "driver", "options", "build",
    "context", "extends", "service", "include", "profiles", "labels", "x-common", "x-env", "name",
    "version", "redis", "worker", "web", "beat", "target", "published", "source", "file",
]
SCALARS = st.one_of(
    st.sampled_from([
        "redis:7.2", "python:3.12-slim", "celery -A app worker -l info", "redis-server /etc/redis.conf",
        "8080:80", "127.0.0.1:6379:6379", "10s", "1m30s", "bogus", "CMD", "CMD-SHELL", "redis-cli ping",
        "./redis.conf:/usr/local/etc/redis/redis.conf", "no", "always", "unless-stopped", "true", "false",
        "null", "~", "", "512m", "0.5", "1e3", "0x10", "A=1", "PASSWORD=secret", "${HOME}", "$$x", "${X:-d}",
        "${Y:?required}", "$", "é", "x" * 90,
    ]),
    st.integers(-5, 70000),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
)
KEYS = st.one_of(st.sampled_from(COMPOSE_KEYS), st.text(max_size=8).map(lambda s: "x-" + s), st.text(max_size=6))

TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(KEYS, children), max_size=5),  # a list of pairs: duplicate keys allowed
    ),
    max_leaves=25,
)


def is_map(node) -> bool:
    return isinstance(node, list) and all(isinstance(x, tuple) for x in node) and bool(node)


def scalar_yaml(value, style: int) -> str:
    """A YAML scalar: plain when it reads back as itself, else quoted (style picks the quoting)."""
    if value is None:
        return ["null", "~", ""][style % 3]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain_ok = (
        text and text.strip() == text and all(c.isprintable() for c in text)
        and not any(c in text for c in ":#[]{},&*!|>'\"%@`?") and text[0] not in "-"
        and text.lower() not in ("null", "~", "true", "false", "yes", "no", "on", "off")
    )
    if plain_ok and style % 3 == 0:
        return text
    if style % 3 == 1 and all(c.isprintable() or c == " " for c in text):
        return "'" + text.replace("'", "''") + "'"
    # JSON strings are YAML double-quoted scalars; ensure_ascii=False keeps astral characters
    # as they are (escaped as surrogate pairs they hit a known crash, see the end of the module)
    return json.dumps(text, ensure_ascii=False)


class Emitter:
    """Block-style YAML with a chosen indentation, optional flow collections and anchors/aliases."""

    def __init__(self, indent: int, choices, *, aliases: bool = True):
        self.indent = indent
        self.choices = choices  # an iterator of small ints driving the style decisions
        self.aliases = aliases
        self.anchors: list[str] = []

    def choose(self, n: int) -> int:
        return next(self.choices, 1) % n  # shrinks towards block style, no anchors

    def props(self) -> str:
        """An anchor on a collection, sometimes."""
        if self.aliases and self.choose(5) == 0:
            name = f"a{len(self.anchors)}"
            self.anchors.append(name)
            return f"&{name} "
        return ""

    def inline(self, node) -> str:
        if isinstance(node, list):
            if is_map(node):
                return "{" + ", ".join(f"{scalar_yaml(k, 2)}: {self.inline(v)}" for k, v in node) + "}"
            return "[" + ", ".join(self.inline(v) for v in node) + "]"
        if self.anchors and self.choose(7) == 0:
            return "*" + self.anchors[self.choose(len(self.anchors))]
        return scalar_yaml(node, self.choose(3) if isinstance(node, str) else 1)

    def block(self, node, level: int) -> list[str]:
        """Lines of ``node`` (a non-empty collection) at indentation ``level``."""
        pad = " " * level
        lines: list[str] = []
        if is_map(node):
            if self.anchors and self.choose(6) == 0:
                lines.append(f"{pad}<<: *{self.anchors[self.choose(len(self.anchors))]}")
            for key, value in node:
                key_text = scalar_yaml(key, self.choose(3))
                lines.extend(self.entry(f"{pad}{key_text}:", value, level, in_map=True))
        else:
            for value in node:
                lines.extend(self.entry(f"{pad}-", value, level, in_map=False))
        return lines

    def entry(self, head: str, value, level: int, *, in_map: bool) -> list[str]:
        if not isinstance(value, list) or not value or self.choose(4) == 0:
            return [f"{head} {self.inline(value)}"]
        props = self.props()
        if not in_map and not props and self.choose(2) == 0:
            # "- key: v" with the rest of the item aligned after the dash
            inner = self.block(value, level + 2)
            return [head + " " + inner[0][level + 2:]] + inner[1:]
        # a sequence under a key may sit at the key's indentation (Compose style)
        child = level if in_map and not is_map(value) and self.choose(2) == 0 else level + self.indent
        return [f"{head} {props}".rstrip()] + self.block(value, child)


def dump(node, indent: int, choices, *, aliases: bool = True) -> str:
    emitter = Emitter(indent, iter(choices), aliases=aliases)
    if isinstance(node, list) and node:
        return "\n".join(emitter.block(node, 0)) + "\n"
    return emitter.inline(node) + "\n"


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(["services", "x-base", "volumes", "networks", "name"]) | KEYS, TREES),
             min_size=1, max_size=4),
    st.sampled_from([2, 4]),
    st.lists(st.integers(0, 100), max_size=60),
    st.sampled_from(["\n", "\r\n"]),
)
def test_compose_random_trees(top, indent, choices, newline):
    text = dump(top, indent, choices).replace("\n", newline)
    data = text.encode("utf-8", "surrogatepass")
    report, shown = lint_file("compose.yaml", data)
    if report is not None:
        check_positions(report, shown, data)


# --- 3. valid Compose projects: findings point at nodes -----------------------------------------

SERVICE_NAMES = ["web", "worker", "redis", "beat", "flower", "db", "api", "cache"]
IMAGES = ["redis:7.2", "redis:7.2-alpine", "python:3.12-slim", "nginx:1.25", "postgres:16", "myapp",
          "ghcr.io/org/app:latest", "valkey/valkey:8", "mher/flower:2.0"]
COMMANDS = [
    "celery -A app worker -l info", "celery -A app worker --concurrency=4 -B",
    "celery -A app beat -s /tmp/schedule", "celery -A app flower --port=5555",
    "celery -A app worker --concurency=4", "redis-server --maxmemory 100mb --appendonly yes",
    "redis-server --requirepass secret", "gunicorn app:app -b 0.0.0.0:8000", "sh -c 'celery -A app worker'",
]
ENV_NAMES = ["CELERY_BROKER_URL", "REDIS_URL", "DEBUG", "CELERY_WORKER_CONCURRENCY", "PASSWORD",
             "REDIS_PASSWORD", "DJANGO_SETTINGS_MODULE", "TZ"]
ENV_VALUES = ["redis://redis:6379/0", "redis://:pw@cache:6379/1", "1", "true", "secret", "app.settings", ""]
PORTS = ["8080:80", "6379:6379", "127.0.0.1:5555:5555", "8000", "5432:5432/tcp", 80]
DURATIONS = ["10s", "5s", "1m", "1m30s", "500ms", "0s", "3"]
RESTARTS = ["always", "unless-stopped", "on-failure", "no", "on-failure:3"]


@st.composite
def compose_projects(draw):
    names = draw(st.lists(st.sampled_from(SERVICE_NAMES), min_size=1, max_size=4, unique=True))
    services = []
    for name in names:
        body = [("image", draw(st.sampled_from(IMAGES)))]
        if draw(st.booleans()):
            command = draw(st.sampled_from(COMMANDS))
            body.append(("command", command if draw(st.booleans()) else command.split()))
        if draw(st.booleans()):
            env = draw(st.lists(st.tuples(st.sampled_from(ENV_NAMES), st.sampled_from(ENV_VALUES)),
                                min_size=1, max_size=3, unique_by=lambda kv: kv[0]))
            body.append(("environment", env if draw(st.booleans()) else [f"{k}={v}" for k, v in env]))
        if draw(st.booleans()):
            body.append(("ports", draw(st.lists(st.sampled_from(PORTS), min_size=1, max_size=2))))
        if draw(st.booleans()):
            test = draw(st.sampled_from([
                ["CMD", "redis-cli", "ping"], ["CMD-SHELL", "celery -A app inspect ping || exit 1"],
                ["CMD", "curl", "-f", "http://localhost"], ["NONE"],
            ]))
            check = [("test", test), ("interval", draw(st.sampled_from(DURATIONS)))]
            if draw(st.booleans()):
                check.append(("timeout", draw(st.sampled_from(DURATIONS))))
            if draw(st.booleans()):
                check.append(("retries", draw(st.integers(0, 5))))
            body.append(("healthcheck", check))
        others = [n for n in names if n != name]
        if others and draw(st.booleans()):
            body.append(("depends_on", draw(st.lists(st.sampled_from(others), min_size=1, unique=True))))
        if draw(st.booleans()):
            body.append(("restart", draw(st.sampled_from(RESTARTS))))
        if draw(st.booleans()):
            body.append(("user", draw(st.sampled_from(["1000", "1000:1000", "app", "root"]))))
        services.append((name, body))
    return [("services", services)]


def node_starts(root: Node | None) -> set[tuple[int, int]]:
    """(line, column) of every node and every mapping key of the tree."""
    starts: set[tuple[int, int]] = set()
    for node in tree_nodes(root):
        starts.add((node.span.line, node.span.column))
        if node.key_span is not None:
            starts.add((node.key_span.line, node.key_span.column))
        if isinstance(node, MapNode):
            starts.update((s.line, s.column) for s in node.keys.values())
    return starts


@FUZZ
@given(compose_projects(), st.sampled_from([2, 4]), st.lists(st.integers(0, 100), max_size=80))
def test_valid_projects_point_at_nodes(project, indent, choices):
    text = dump(project, indent, choices, aliases=False)
    report, shown = lint_file("docker-compose.yml", text.encode())
    assert report is not None
    loaded = parse_yaml(decode(text.encode(), shown), {})
    assert loaded.problems == [] and isinstance(loaded.root, MapNode), text
    starts = node_starts(loaded.root)
    scalars = [n.span for n in tree_nodes(loaded.root) if isinstance(n, ScalarNode)]
    for finding in check_positions(report, shown, text.encode()):
        s = finding.span
        assert finding.code != "VL001", (finding.message, text)
        # at a node or a key, or (nodes.sub_span) at a part of a scalar written on one line
        assert (s.line, s.column) in starts or any(
            n.line == n.end_line == s.line == s.end_line and n.column <= s.column <= s.end_column <= n.end_column
            and n.start <= s.start <= s.end <= n.end
            for n in scalars
        ), (finding.code, s, finding.message, text)


# --- 4. redis.conf --------------------------------------------------------------------------------

REDIS_BITS = st.sampled_from([
    "maxmemory", " ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "100mb", "save", "900 1", '"', "'", "\\",
    "\\x41", "\\x4", "\\n", '\\"', "#", "bind 127.0.0.1", "requirepass", "user default on >pw ~* +@all",
    "rename-command CONFIG \"\"", "include /nonexistent/vl-fuzz/missing.conf", "include ./missing-vl.conf",
    "include /nonexistent/vl-fuzz/*.conf", "appendonly yes", "port 6379", "{{ x }}", "<%= y %>",
    "sentinel monitor m 127.0.0.1 6379 2", "client-output-buffer-limit normal 0 0 0", "é", "\u2028",
    "\ufeff", "\x00", "x" * 300, "loadmodule /x.so", "-1", "notify-keyspace-events Ex",
])
REDIS_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(REDIS_BITS | st.text(max_size=3), max_size=60).map("".join),
)


@FUZZ
@given(REDIS_TEXT)
@example("maxmemory " + "9" * 5000 + "\n")
@example('requirepass "abc\n')
@example("include /nonexistent/vl-fuzz/missing.conf\nmaxmemory 1mb\n")
@example("a\x00b\n")
@example("save \"\\x41\" 1\r\nport 6379\r\n")
@example("\ufeffport 6379\n")
def test_redis_conf_any_text(text):
    data = text.encode("utf-8", "surrogatepass")
    report, shown = lint_file("redis.conf", data, explicit=True)
    if report is not None:
        check_positions(report, shown, data)


@settings(FUZZ, max_examples=25)
@given(st.lists(st.sampled_from(["a" * 70_000, "maxmemory 1mb", "#" * 200_000, '"' + "x" * 100_000]),
                min_size=1, max_size=4).map("\n".join))
def test_redis_conf_long_lines(text):
    data = text.encode()
    report, shown = lint_file("redis.conf", data, explicit=True)
    assert report is not None
    check_positions(report, shown, data)


# --- 5. celery command parser: problem offsets ----------------------------------------------------

CELERY_WORDS = st.sampled_from([
    "celery", "-A", "app", "worker", "beat", "flower", "inspect", "ping", "pong", "wroker", "-c", "-c4",
    "--concurrency=", "--concurency=4", "-Ofair", "-O", "fiar", "--", "-B", "-BE", "-Z", "--basic-auth",
    "--basic-auht=u:p", "--port=x", "--without-gossip=1", "-d", "$X", "sh", "-c", "python", "-m", "'", '"',
    "&&", "|", ";", "multi", "--app=x", "-l", "info", "--pool=prefrok", "\\", "é", "\n", "exec", "VAR=1",
])


def check_invocation(invocation, parts: list[str]) -> None:
    if invocation is None:
        return

    def inside(part: int, start: int, end: int) -> None:
        assert 0 <= part < len(parts), (part, parts)
        assert 0 <= start <= end <= len(parts[part]), (start, end, parts[part])

    for problem in invocation.problems:
        inside(problem.part, problem.start, problem.end)
        assert problem.message
    for word in [invocation.celery_word, *invocation.words, *invocation.arguments]:
        inside(word.part, word.start, word.end)
    for setting in invocation.settings.values():
        if setting.source == "flag":
            inside(setting.part, setting.start, setting.end)


@FUZZ
@given(st.lists(CELERY_WORDS | st.text(max_size=6), max_size=12), st.booleans())
@example(["celery", ""], False)  # an empty subcommand: "No such command ''." with an empty span
def test_celery_problem_offsets_inside_parts(words, as_string):
    parts = [" ".join(words)] if as_string else words
    check_invocation(find_celery(parts, shell_string=as_string), parts)
    script = " ".join(words)
    check_invocation(find_celery_in_script(script, part=0), [script])


# --- bugs these properties found, kept as regression examples ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "services:\r  web:\r    image: nginx\r",                        # classic Mac line endings
        "x: '\u2028'\nservices:\n  web:\n    image: nginx\n",              # U+2028 inside a quoted scalar
        "x: 'a\rb'\nservices:\n  web:\n    image: nginx\n",                # lone CR inside a quoted scalar
        "x: \x85\nservices:\n  web:\n    image: nginx\n",                  # NEL as a value
        "\ufeff\ufeff: x\n",                                               # a BOM, then U+FEFF as text
    ],
    ids=["cr-only", "u2028", "lone-cr", "nel", "double-bom"],
)
def test_position_skew_characters(text):
    data = text.encode()
    report, shown = lint_file("docker-compose.yml", data)
    assert report is not None
    check_positions(report, shown, data)


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a]\n",
        "a: &a {b: *a}\n",
        "x-a: &a [*a]\nservices:\n  w:\n    image: x:1\n",
        "services: &s\n  a:\n    image: x\n    x: *s\n",
    ],
    ids=["seq", "map", "extension-field", "services"],
)
def test_recursive_alias_is_a_finding(text):
    report, _shown = lint_file("docker-compose.yml", text.encode())
    assert report is not None and "VL001" in {f.code for f in report.findings}


@pytest.mark.parametrize(
    "text",
    [
        'services:\n  a:\n    image: "\\ud800"\n',
        '"\\ud800": 1\n',
        'services:\n  "\\ud800":\n    image: x:1\n',
        # what json.dumps writes for an emoji: a surrogate pair, joined by JSON, not by ruamel
        'services:\n  a:\n    image: "\\ud83d\\ude00"\n',
        'services:\n  "\\ud83d\\ude00":\n    image: x:1\n',
    ],
    ids=["image", "top-key", "service-name", "pair-image", "pair-service-name"],
)
def test_surrogate_escapes_are_a_finding(text):
    report, shown = lint_file("docker-compose.yml", text.encode())
    assert report is not None
    check_positions(report, shown, text.encode())


@pytest.mark.parametrize(
    "text",
    ["version: []\n", "version: {}\n", "version: [3]\nservices:\n  a:\n    image: x:1\n"],
    ids=["empty-seq", "empty-map", "seq-with-services"],
)
def test_version_collection_is_reported(text):
    report, _shown = lint_file("docker-compose.yml", text.encode())
    assert report is not None and {"VL002", "VL006"} <= {f.code for f in report.findings}


@pytest.mark.parametrize("text", ["---", "--- "], ids=["dashes", "dashes-space"])
def test_empty_document_at_eof_stays_on_the_last_line(text):
    report, shown = lint_file("docker-compose.yml", text.encode())
    assert report is not None
    check_positions(report, shown, text.encode())
