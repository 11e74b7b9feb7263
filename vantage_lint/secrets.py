"""Masking secrets in everything vantage-lint prints: messages, excerpts, diffs."""

from __future__ import annotations

import re
from functools import lru_cache

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|AUTH|CREDENTIAL)",
                         re.IGNORECASE)
# user:password@ inside any URL
# The shell's working-directory variables match PWD but hold paths.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and name.upper() not in _NOT_SECRET_NAMES


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)(?P<secret>[^@\s'\"]+)(?=@)", re.IGNORECASE)
# redis.conf directives and redis-server/redis-cli flags whose argument is a password
_DIRECTIVE = re.compile(
    r"(?P<head>(?:^|[\s\"'\[,])(?:(?:--)?(?:requirepass|masterauth|tls-(?:client-)?key-file-pass|"
    # the value follows a blank or "=", or is the next item of an exec-form list ("-a", "pw")
    r"sentinel\s+auth-pass\s+\S+)|(?-i:-a)|--pass(?:word)?|--auth)(?:[\s=]+|[\"']\s*,\s*)[\"']?)(?P<secret>[^\s\"',\]]+)",
    re.IGNORECASE,
)
_ACL_PASSWORD = re.compile(r"(?P<head>(?:^|\s)>)(?P<secret>[^\s=]\S*)")
# ACL rules appear on `user` lines (redis.conf, ACL SETUSER, --user flags); elsewhere ">" is prose.
_ACL_LINE = re.compile(r"\buser\b", re.IGNORECASE)
_ASSIGNMENT = re.compile(
    r"(?P<head>(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=|:\s)\s*[\"']?)(?P<secret>[^\s\"'#]+)"
)


def mask(value: str) -> str:
    """Keep at most the first two characters: ``s3cretvalue`` → ``s3*****``."""
    if not value:
        return value
    keep = 2 if len(value) > 6 else (1 if len(value) > 2 else 0)
    return value[:keep] + "*" * max(3, min(len(value) - keep, 8))


def _masked(match: re.Match[str]) -> str:
    secret = match.group("secret")
    if secret.startswith("${") or secret.startswith("$"):
        return match.group(0)
    return match.group("head") + mask(secret)


@lru_cache(maxsize=8192)
def redact(text: str) -> str:
    """Mask every password-like value in a line of source, a message or a diff.

    Cached: hints and many messages repeat across thousands of findings."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(_masked, text)
    text = _DIRECTIVE.sub(_masked, text)
    if ">" in text and _ACL_LINE.search(text):
        text = _ACL_PASSWORD.sub(_masked, text)

    def assignment(match: re.Match[str]) -> str:
        name = match.group("name")
        # Environment-style names only (REDIS_PASSWORD, api_token): prose such as
        # "the secrets: key" is not an assignment.
        if not is_secret_name(name) or not (any(c.isupper() for c in name) or "_" in name):
            return match.group(0)
        return _masked(match)

    return _ASSIGNMENT.sub(assignment, text)


# ---------------------------------------------------------------------------------------------
# Secrets that only their file's structure reveals


def redact_source_line(line: str, path: str, text: str) -> str:
    """:func:`redact` for a line quoted from the file ``path`` whose whole text is ``text``.

    A line alone does not always show that it holds a secret: the password of a block list
    (``- --requirepass`` then ``- s3cret`` on the next line) or of a ``*_PWD`` key quoted without
    its key. Every secret value the whole file reveals is masked wherever it appears."""
    line = redact(line)
    for value in secret_values(path, text):
        if value in line:
            line = line.replace(value, mask(value))
    return line


# Flags whose next argument is a password (redis-server, redis-cli, celery/kombu-style tools).
PASSWORD_FLAGS = frozenset({"-a", "--requirepass", "--masterauth", "--pass", "--password", "--auth",
                            "--tls-key-file-pass", "--tls-client-key-file-pass"})
_MIN_SECRET = 4  # shorter values would mask ordinary words and numbers everywhere


@lru_cache(maxsize=256)
def secret_values(path: str, text: str) -> tuple[str, ...]:
    """The secret values written in a file, longest first."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".conf"):
        found = _redis_conf_secrets(text)
    elif name.endswith((".yml", ".yaml")):
        found = _yaml_secrets(path, text)
    else:
        found = _env_secrets(text)
    kept = {v for v in found if len(v) >= _MIN_SECRET and not v.startswith("$")}
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
        if directive in ("requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass"):
            found.add(args[1])
        elif directive == "user":
            found.update(a[1:] for a in args[2:] if a.startswith(">"))
        elif directive == "sentinel" and len(args) >= 4 and args[1].lower() == "auth-pass":
            found.add(args[3])
    return found


def _env_secrets(text: str) -> set[str]:
    found: set[str] = set()
    for line in text.splitlines():
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and is_secret_name(name.strip()):
            found.add(value.strip().strip("'\""))
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


def _yaml_secrets(path: str, text: str) -> set[str]:
    from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode, walk
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
                if (isinstance(value, ScalarNode) and isinstance(key, str) and is_secret_name(key)
                        and isinstance(value.value, str)):
                    found.add(value.value)
        elif isinstance(node, SeqNode):
            previous = ""
            for item in node.items:
                text = item.value if isinstance(item, ScalarNode) and isinstance(item.value, str) else None
                if text is None:
                    previous = ""
                    continue
                if previous in PASSWORD_FLAGS:
                    found.add(text)
                item_name, sep, item_value = text.partition("=")
                if sep and is_secret_name(item_name) and " " not in item_name:
                    found.add(item_value)
                previous = text.strip()
    return found
