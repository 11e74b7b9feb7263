"""Masking secrets in everything vantage-lint prints: messages, excerpts, diffs."""

from __future__ import annotations

import re
from functools import lru_cache

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|AUTH|CREDENTIAL)", re.IGNORECASE)
# user:password@ inside any URL
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)(?P<secret>[^@\s'\"]+)(?=@)", re.IGNORECASE)
# redis.conf directives and redis-server/redis-cli flags whose argument is a password
_DIRECTIVE = re.compile(
    r"(?P<head>(?:^|[\s\"'\[,])(?:(?:--)?(?:requirepass|masterauth|tls-(?:client-)?key-file-pass|"
    # the value follows a blank or "=", or is the next item of an exec-form list ("-a", "pw")
    r"sentinel\s+auth-pass\s+\S+)|(?-i:-a)|--pass(?:word)?|--auth)(?:[\s=]+|[\"']\s*,\s*)[\"']?)(?P<secret>[^\s\"',\]]+)",
    re.IGNORECASE,
)
_ACL_PASSWORD = re.compile(r"(?P<head>(?:^|\s)>)(?P<secret>\S+)")
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
    if ">" in text:
        text = _ACL_PASSWORD.sub(_masked, text)

    def assignment(match: re.Match[str]) -> str:
        name = match.group("name")
        # Environment-style names only (REDIS_PASSWORD, api_token): prose such as
        # "the secrets: key" is not an assignment.
        if not SECRET_NAME.search(name) or not (any(c.isupper() for c in name) or "_" in name):
            return match.group(0)
        return _masked(match)

    return _ASSIGNMENT.sub(assignment, text)
