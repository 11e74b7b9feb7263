"""Masking secrets in everything vantage-lint prints: messages, excerpts, diffs.

Every detector below reports the *span* of a secret in the original text; the spans are merged
and each is replaced once, so a value is masked whole whatever characters it holds, and the work
is linear in the text (no pattern here can backtrack over a long run: each starts at a fixed word
or at a word boundary and the secret's extent is scanned by hand)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from vantage_lint.lazyre import lazy

SECRET_NAME = lazy(r"(PASSWORD|PASSWD|PASS|PWD|(?<![A-Z])PW(?![A-Z])|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|AUTH|CREDENTIAL)",
                         re.IGNORECASE)
# The shell's working-directory variables match PWD but hold paths.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    # cached: the secret scan asks for every key of every file, and keys repeat
    return bool(SECRET_NAME.search(name)) and name.upper() not in _NOT_SECRET_NAMES


MASK = "****"


def mask(value: str) -> str:
    """A fixed-width mask that tells neither the value nor its length: ``s3cretvalue`` →
    ``s3****``. Long values keep two characters so a reader can tell two secrets apart."""
    if not value:
        return value
    return (value[:2] if len(value) >= 12 else "") + MASK


# --- detectors: each yields (start, end) of a secret in the text ---------------------------------

_QUOTES = "\"'"
# Only a blank or a delimiter ends the scan: a password with "#", "'", "/" or "?" stays whole
# (a path with "@" after a port is masked too: over-masking is the safe side).
_URL_END = frozenset("<>\"` \t\r\n")


def _extent(text: str, start: int, quote: str) -> int:
    """End of a secret starting at ``start``: the closing ``quote`` (or the line's end) for a
    quoted value, the next blank for a bare one."""
    if quote:
        end = text.find(quote, start)
        line_end = text.find("\n", start)
        if end < 0 or (0 <= line_end < end):
            return line_end if line_end >= 0 else len(text)
        # text glued to the closing quote ("0"000) belongs to the same word: mask it too
        tail = end + 1
        while tail < len(text) and not text[tail].isspace():
            tail += 1
        return end if tail == end + 1 else tail
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return end


def _url_spans(text: str) -> Iterator[tuple[int, int]]:
    """``scheme://user:password@host``: everything between the userinfo's first ``:`` and the
    last ``@`` before the next blank, so ``@``, ``:``, ``#`` or quotes in a password stay inside."""
    pos = text.find("://")
    while pos >= 0:
        begin = pos + 3
        end = begin
        while end < len(text) and text[end] not in _URL_END:
            end += 1
        at = text.rfind("@", begin, end)
        if at > begin:
            colon = text.find(":", begin, at)
            if colon >= 0 and colon + 1 < at and text[colon + 1] != "$":
                yield colon + 1, at
        pos = text.find("://", max(end, begin))


_QUERY = lazy(r"[?&;](?:password|pass)=", re.IGNORECASE)
_QUERY_END = frozenset("&#;\"'` \t\r\n")


def _query_spans(text: str) -> Iterator[tuple[int, int]]:
    """``redis://host/0?password=...`` (redis-py reads it; ``pass`` is masked too, to be safe)."""
    for match in _QUERY.finditer(text):
        end = match.end()
        while end < len(text) and text[end] not in _QUERY_END:
            end += 1
        if end > match.end() and text[match.end()] != "$":
            yield match.end(), end


# redis.conf directives and redis-server/redis-cli flags whose argument is a password; a typo
# such as ``requirepasss`` still announces one.
_DIRECTIVE = lazy(
    r"(?:(?<=[\s\"'\[,=(])|^)(?:(?:--)?(?:requirepass\w*|masterauth\w*|tls-(?:client-)?key-file-pass|"
    r"sentinel[ \t]+auth-pass[ \t]+[^\s\"']+)|(?-i:-a)|--pass(?:word)?|--auth)"
    # the value follows a blank or "=", or is the next item of a list ("-a", "pw")
    r"(?:=|[ \t]+|[\"']?[ \t]*,[ \t]*)(?P<q>[\"']?)",
    re.IGNORECASE,
)
_AUTH = lazy(r"(?<![\w-])(?:AUTH|(?i:auth))[ \t]+(?P<q>[\"']?)")
_NEXT_WORD = lazy(r"[ \t]+(?P<q>[\"']?)(?=[^\s&|;)])")
_ACL_LINE = lazy(r"\b(?:set)?user\b", re.IGNORECASE)
_ACL = lazy(r"(?:(?<=[\s\"'\[,])|^)>")
_ASSIGNMENT = lazy(
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)[\"']?[ \t]*(?:=|:[ \t])[ \t]*(?P<q>[\"']?)"
)


def _head_spans(pattern: re.Pattern[str], text: str, accept: Any = None) -> Iterator[tuple[int, int]]:
    for match in pattern.finditer(text):
        if accept is not None and not accept(match):
            continue
        start = match.end()
        end = _extent(text, start, match.group("q"))
        if end == start and match.group("q"):  # a lone quote is the value itself
            start -= 1
            end = _extent(text, start, "")
        if end > start and text[start] != "$":
            yield start, end


def _auth_spans(text: str) -> Iterator[tuple[int, int]]:
    """``redis-cli AUTH [user] pw``: both words after AUTH."""
    # only in a redis-cli command line (or one typed to it): elsewhere "auth" is prose
    if "redis-cli" not in text and not text.lstrip("\"' [").upper().startswith("AUTH "):
        return
    for match in _AUTH.finditer(text):
        start = match.end()
        end = _extent(text, start, match.group("q"))
        # redis-cli sends the rest of its line as one command: AUTH user pw
        following = _NEXT_WORD.match(text, end + (1 if match.group("q") else 0))
        if following is not None:
            end = _extent(text, following.end(), following.group("q"))
        if end > start and text[start] != "$":
            yield start, end


def _acl_spans(text: str) -> Iterator[tuple[int, int]]:
    if ">" not in text or not _ACL_LINE.search(text):
        return
    for match in _ACL.finditer(text):
        start = match.end()
        quote = text[match.start() - 1] if match.start() and text[match.start() - 1] in _QUOTES else ""
        end = _extent(text, start, quote)
        if end > start and text[start] != "$":
            yield start, end


def _secret_assignment(match: re.Match[str]) -> bool:
    name = match.group("name")
    # Environment-style names only (REDIS_PASSWORD, api_token): prose such as
    # "the secrets: key" is not an assignment.
    return is_secret_name(name) and (any(c.isupper() for c in name) or "_" in name)


# --- the values a run has seen ------------------------------------------------------------------


def run_secrets(sources: Iterable[Any]) -> tuple[str, ...]:
    """The secret values (>= 4 characters) written in these source files, to be masked in any
    text of the same run: a password reused elsewhere (``--maxmemory ${REDIS_PW}``) or quoted by
    a policy's ``{error}`` is found by its value."""
    found: set[str] = set()
    for source in sources:
        values = secret_values(source.path, source.text, getattr(source, "yaml_root", None))
        found.update(v for v in values if len(v) >= _MIN_SECRET and v.lower() not in _MESSAGE_WORDS)
    return tuple(sorted(found, key=lambda v: (-len(v), v)))


# Words of vantage-lint's own messages. A secret that is one of them (`POSTGRES_PASSWORD=postgres`,
# `REDIS_PASSWORD=password`) is a well-known default that VL410 and VL217 name as such; masked
# by its value in every text, it would turn "has no password" into "has no ****" in every
# message of the run. It is still masked where it stands as a password (an assignment, a URL,
# a flag's argument), like every other secret.
_MESSAGE_WORDS = frozenset({"password", "passwords", "secret", "secrets", "token", "redis", "valkey", "celery",
                            "postgres", "broker", "cache", "worker", "default", "latest", "admin", "root",
                            "user", "guest", "example"})


# A known secret inside a longer name is not that secret: `paperless` in the image
# `ghcr.io/paperless-ngx/paperless-ngx` or the service `paperless-db` stays readable. Only
# letters, digits, `_` and `-` join words into one name; any other neighbour (space, quote,
# `:`, `@`, `=`, `.`, end of text) leaves the value standing alone, and masked.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _known_spans(text: str, values: Iterable[str]) -> Iterator[tuple[int, int]]:
    for value in values:
        pos = text.find(value)
        while pos >= 0:
            end = pos + len(value)
            inside_name = ((pos > 0 and text[pos - 1] in _NAME_CHARS and value[0] in _NAME_CHARS)
                           or (end < len(text) and text[end] in _NAME_CHARS and value[-1] in _NAME_CHARS))
            if not inside_name:
                yield pos, end
            pos = text.find(value, end if not inside_name else pos + 1)


def _apply(text: str, spans: Iterable[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if not merged:
        return text
    out: list[str] = []
    last = 0
    for start, end in merged:
        value = text[start:end]
        # a value masked already (a rule's message) keeps the two letters that tell secrets apart
        out += [text[last:start], value if _is_masked(value) else mask(value)]
        last = end
    out.append(text[last:])
    return "".join(out)


def _is_masked(value: str) -> bool:
    return value.endswith(MASK) and len(value) <= len(MASK) + 2 and "*" not in value[:-len(MASK)]


# Credentials a provider issues, by the shape it documents for them (the prefixes secret
# scanners look for): masked wherever they appear, whatever the variable is called, and
# reported by VL410 even in a development stack.
PROVIDER_KEYS: tuple[tuple[str, str], ...] = (
    ("an AWS access key id", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),
    ("a GitHub token", r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("a GitLab token", r"glpat-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"xox[abprs]-[A-Za-z0-9-]{10,}"),
    ("a Stripe live key", r"(?:sk|rk)_live_[A-Za-z0-9]{20,}"),
    ("a Google API key", r"AIza[0-9A-Za-z_-]{35}"),
    ("an Anthropic API key", r"sk-ant-[A-Za-z0-9_-]{32,}"),
    ("an OpenAI API key", r"sk-(?:proj-)?[A-Za-z0-9_-]{32,}"),
    ("a SendGrid API key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
)
_PROVIDER = lazy("(?<![A-Za-z0-9_-])(?:" + "|".join(f"(?P<k{i}>{p})" for i, (_, p) in enumerate(PROVIDER_KEYS))
                 + ")(?![A-Za-z0-9_-])")
_PRIVATE_KEY = "-----BEGIN"


def provider_key(value: str) -> str | None:
    """What kind of provider-issued credential ``value`` is (the whole value), or None."""
    text = value.strip()
    if text.startswith(_PRIVATE_KEY) and "PRIVATE KEY-----" in text:
        return "a private key"
    found = _PROVIDER.fullmatch(text)
    return PROVIDER_KEYS[int(found.lastgroup[1:])][0] if found and found.lastgroup else None


def _provider_spans(text: str) -> Iterator[tuple[int, int]]:
    for found in _PROVIDER.finditer(text):
        yield found.start(), found.end()


def _spans(text: str, known: tuple[str, ...] = ()) -> Iterator[tuple[int, int]]:
    yield from _provider_spans(text)
    yield from _url_spans(text)
    yield from _query_spans(text)
    yield from _head_spans(_DIRECTIVE, text)
    yield from _auth_spans(text)
    yield from _acl_spans(text)
    yield from _head_spans(_ASSIGNMENT, text, _secret_assignment)
    yield from _known_spans(text, known)


@lru_cache(maxsize=8192)
def redact(text: str, known: tuple[str, ...] = ()) -> str:
    """Mask every password-like value in a line of source, a message or a diff, and every
    ``known`` secret value wherever it appears.

    Cached: hints and many messages repeat across thousands of findings. A value the
    deployment supplies (an unknown marker, see compose.unknown) reads as the ``${NAME}`` the
    user wrote: it holds no secret and is shown whole."""
    if not text:
        return text
    if "\ue000" in text:  # compose.unknown.OPEN
        from vantage_lint.compose.unknown import as_written

        text = as_written(text)
    return _apply(text, _spans(text, known))


# ---------------------------------------------------------------------------------------------
# Secrets that only their file's structure reveals


@lru_cache(maxsize=4096)
def redact_source_line(line: str, path: str, text: str) -> str:
    """:func:`redact` for a line quoted from the file ``path`` whose whole text is ``text``.

    A line alone does not always show that it holds a secret: the password of a block list
    (``- --requirepass`` then ``- s3cret`` on the next line) or of a ``*_PWD`` key quoted without
    its key. Every secret value the whole file reveals is masked wherever it appears; a short one
    (under 4 characters) only where it stands as a whole word.

    Cached: a finding's fingerprint and its span both ask for the same text."""
    values = secret_values(path, text)
    spans = list(_spans(line, tuple(v for v in values if len(v) >= _MIN_SECRET)))
    for value in values:
        if len(value) < _MIN_SECRET:
            spans += [(m.start(), m.end()) for m in _short_pattern(value).finditer(line)]
    return _apply(line, spans)


@lru_cache(maxsize=256)
def _short_pattern(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w$])" + re.escape(value) + r"(?!\w)")


# Flags whose next argument is a password (redis-server, redis-cli, celery/kombu-style tools).
PASSWORD_FLAGS = frozenset({"-a", "--requirepass", "--masterauth", "--pass", "--password", "--auth",
                            "--tls-key-file-pass", "--tls-client-key-file-pass"})
_MIN_SECRET = 4  # shorter values would mask ordinary words and numbers in every message


# (path, text) -> secret values: fingerprints, spans and excerpts ask again for every finding.
_MEMO_LIMIT = 256
_memo: dict[tuple[str, str], tuple[str, ...]] = {}


def secret_values(path: str, text: str, tree: Any = None) -> tuple[str, ...]:
    """The secret values written in a file, longest first.

    ``tree`` is the loader's node tree of ``text`` when it is at hand (``SourceFile.yaml_root``,
    the file as parsed, before includes and extends): a Compose file's secrets are then read
    from it instead of from a second parse of the text."""
    key = (path, text)
    found = _memo.get(key)
    if found is None:
        found = _stored_secret_values(path, text, tree)
        if len(_memo) >= _MEMO_LIMIT:
            del _memo[next(iter(_memo))]  # the oldest
        _memo[key] = found
    return found


def _stored_secret_values(path: str, text: str, tree: Any) -> tuple[str, ...]:
    """Finding the values parses the file (a YAML parse for a Compose file), which a run
    answered from the result cache otherwise never does; so where each value is written in the
    text is cached by the text's digest. The cache holds offsets only, never a secret: the
    values are read back from the text itself. A value not written verbatim (an escaped YAML
    scalar) is not cached."""
    from vantage_lint import cache

    kind = _file_kind(path)
    if cache.folder() is None:
        return _secret_values(kind, path, text, tree)
    # the tool digest too: a changed detector must look again, never reuse an older answer
    payload = f"{cache.tool_digest()}\0{kind}\0{text}".encode("utf-8", "surrogatepass")
    digest = cache.key("secret-offsets", payload)
    stored = cache.get(digest)
    if isinstance(stored, list):
        try:
            return tuple(text[start:end] for start, end in stored)
        except (TypeError, ValueError):
            pass
    values = _secret_values(kind, path, text, tree)
    offsets = [[text.find(v), text.find(v) + len(v)] for v in values]
    if all(start >= 0 for start, _ in offsets):
        cache.put(digest, offsets)
    return values


def _file_kind(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    return "conf" if name.endswith(".conf") else "yaml" if name.endswith((".yml", ".yaml")) else "env"


def _secret_values(kind: str, path: str, text: str, tree: Any = None) -> tuple[str, ...]:
    if kind == "conf":
        found = _redis_conf_secrets(text)
    elif kind == "yaml":
        found = _yaml_secrets(path, text, tree)
    else:
        found = _env_secrets(text)
    kept = {v for v in found if v and not v.startswith("$")}
    return tuple(sorted(kept, key=lambda v: (-len(v), v)))


def _redis_conf_secrets(text: str) -> set[str]:
    from vantage_lint.redis.tokenizer import TokenizeError, split_args

    found: set[str] = set()
    for line in text.splitlines():
        try:
            args = [t.text for t in split_args(line)]
        except TokenizeError:
            continue
        if len(args) < 2:
            continue
        directive = args[0].lower()
        if directive == "user":
            found.update(a[1:] for a in args[2:] if a.startswith(">"))
        elif directive == "sentinel" and len(args) >= 4 and args[1].lower() == "auth-pass":
            found.add(args[3])
        elif "pass" in directive or "auth" in directive:  # also typos such as requirepasss
            found.update(args[1:2])
    return found


def _env_secrets(text: str) -> set[str]:
    found: set[str] = set()
    for line in text.splitlines():
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and is_secret_name(name.strip()):
            value = value.strip()
            # an unterminated quote keeps the rest of the line (and the quote is not the secret)
            found.add(value[1:].rstrip(value[0]) if value and value[0] in _QUOTES else value)
        found.update(_url_passwords(value if sep else line))
    return found


def _url_passwords(text: str) -> set[str]:
    if "://" not in text:
        return set()
    from vantage_lint.redis.clients import parse_url

    found = {text[s:e] for s, e in _url_spans(text)} | {text[s:e] for s, e in _query_spans(text)}
    password = parse_url(text.strip())[2]
    if password:
        found.add(password)
    return found


def fallback_secrets(raw: str) -> set[str]:
    """Literal defaults of secret variables: ``changeme`` in ``${REDIS_PASSWORD:-changeme}``."""
    from vantage_lint.compose.interpolation import references

    found: set[str] = set()
    for ref in references(raw):
        if not ref.braced or not is_secret_name(ref.name):
            continue
        inner = raw[ref.start + 2 + len(ref.name) : ref.end - 1]
        default = inner[2:] if inner.startswith(":-") else inner[1:] if inner.startswith("-") else ""
        if default and "$" not in default:
            found.add(default)
    return found


def _yaml_secrets(path: str, text: str, tree: Any = None) -> set[str]:
    """The values as written, before interpolation: a node's ``raw`` text wherever the parser
    typed it a string (the only values interpolation changes), so the loader's interpolated
    tree reads the same as a tree parsed without an environment (tests compare both)."""
    from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode, walk

    root = tree
    if root is None:
        from vantage_lint.compose.yaml_loader import parse_yaml
        from vantage_lint.source import SourceError, decode

        try:
            root = parse_yaml(decode(text.encode("utf-8"), path)).root
        except SourceError:
            return set()
    found: set[str] = set()
    for node in walk(root):
        if isinstance(node, ScalarNode) and isinstance(node.raw, str) and "${" in node.raw:
            found.update(fallback_secrets(node.raw))
        if isinstance(node, MapNode):
            for key, value in node.items.items():
                if isinstance(value, ScalarNode) and isinstance(value.value, str):
                    if isinstance(key, str) and is_secret_name(key):
                        found.add(value.raw)
                    found.update(_url_passwords(value.raw))
        elif isinstance(node, SeqNode):
            previous = ""
            for item in node.items:
                text = item.raw if isinstance(item, ScalarNode) and isinstance(item.value, str) else None
                if text is None:
                    previous = ""
                    continue
                if previous in PASSWORD_FLAGS or previous.upper() == "AUTH":
                    found.add(text)
                item_name, sep, item_value = text.partition("=")
                if sep and is_secret_name(item_name) and " " not in item_name:
                    found.add(item_value)
                found.update(_url_passwords(text))
                previous = text.strip()
    return found


# --- control characters and CI workflow commands in human output ---------------------------------

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c != 0x09}
_CONTROL.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def printable(text: str) -> str:
    """``text`` with control characters (newlines, terminal escapes) shown as ``\\xNN``, so a
    file's content or name can neither move the cursor nor start a new output line."""
    return text.translate(_CONTROL)


def line_start(text: str) -> str:
    """:func:`printable` for text that begins an output line: a leading ``::`` or ``##[`` would
    be run by GitHub Actions as a workflow command, so it is pushed off the line's start."""
    text = printable(text)
    return "./" + text if text.startswith(("::", "##[")) else text


def conceal_span(span: Any, source: Any) -> Any:
    """A span over a secret shrunk to its first character: an underline or ``end_column`` as
    long as the secret would tell its length."""
    if source is None or span.end <= span.start:
        return span
    text = source.text[span.start : span.end]
    if redact_source_line(text, source.path, source.text) == text:
        return span
    return span._replace(end_line=span.line, end_column=span.column, end=span.start)
