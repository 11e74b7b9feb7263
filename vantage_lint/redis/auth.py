"""Authentication as redis-server sees it (FACTS A.4).

* ``requirepass`` only sets the default user's password, and only when nothing else defines it:
  a ``user default ...`` line overrides it whatever the order, and with ``aclfile`` it is ignored.
* A ``user default`` line starts from ``reset`` (off, no password, no commands); the default user
  lets clients in unauthenticated only when it is ``on`` and ``nopass``.
* Defining other users does not protect the default user; ``user default off`` refuses every
  unauthenticated command.
* With ``aclfile`` the users live in a file inside the container: unknown here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from vantage_lint.compose.unknown import OPEN as UNKNOWN_OPEN
from vantage_lint.findings import Span
from vantage_lint.redis.config import Directive, RedisConfig

# Markers of a value that is filled in later (shell or template variables): never a literal secret.
TEMPLATE_MARKERS = ("$", "{{", "<%", "%(", UNKNOWN_OPEN)  # UNKNOWN_OPEN: a value the deployment supplies

# The commands VL223 watches and the ACL categories each belongs to (redis 7.0 COMMAND INFO).
WATCHED_COMMANDS: dict[str, frozenset[str]] = {
    "flushall": frozenset({"keyspace", "write", "slow", "dangerous"}),
    "flushdb": frozenset({"keyspace", "write", "slow", "dangerous"}),
    "config": frozenset({"admin", "slow", "dangerous"}),
    "debug": frozenset({"admin", "slow", "dangerous"}),
    "keys": frozenset({"keyspace", "read", "slow", "dangerous"}),
}


def is_template(value: str) -> bool:
    """A value supplied by a variable or a template engine, not written out."""
    return any(marker in value for marker in TEMPLATE_MARKERS)


class Password(NamedTuple):
    """A plaintext password of the default user and where it is written (``>`` included)."""

    value: str
    span: Span
    directive: Directive

    @property
    def templated(self) -> bool:
        return is_template(self.value)


@dataclass(slots=True)
class Auth:
    # True: unauthenticated clients are refused; False: they get in; None: unknown (aclfile).
    required: bool | None
    mechanism: str                  # "requirepass", "user", "aclfile" or "none"
    directive: Directive | None     # the line that decides it
    passwords: list[Password] = field(default_factory=list)
    # A requirepass line Redis ignores, and the line that makes it ignore it.
    ignored_requirepass: Directive | None = None
    ignored_by: Directive | None = None


def default_user_line(conf: RedisConfig) -> Directive | None:
    users = [d for d in conf.all("user") if d.args and d.args[0] == "default"]
    return users[-1] if users else None


def auth_of(conf: RedisConfig) -> Auth:
    requirepass = conf.get("requirepass")
    aclfile = conf.get("aclfile")
    user = default_user_line(conf)
    if aclfile is not None and aclfile.args and aclfile.args[0]:
        auth = Auth(None, "aclfile", aclfile)
        if requirepass is not None:
            auth.ignored_requirepass, auth.ignored_by = requirepass, aclfile
        return auth
    if user is not None:
        auth = _user_auth(user)
        if requirepass is not None:
            auth.ignored_requirepass, auth.ignored_by = requirepass, user
        return auth
    if requirepass is not None and requirepass.args and requirepass.args[0]:
        return Auth(True, "requirepass", requirepass,
                    [Password(requirepass.args[0], requirepass.arg_spans[0], requirepass)])
    return Auth(False, "none", requirepass)


def _user_auth(user: Directive) -> Auth:
    enabled = False
    nopass = False
    passwords: list[Password] = []
    for op, span in zip(user.args[1:], user.arg_spans[1:]):
        lowered = op.lower()
        if lowered == "on":
            enabled = True
        elif lowered == "off":
            enabled = False
        elif lowered == "nopass":
            nopass = True
            passwords.clear()
        elif lowered in ("resetpass", "reset"):
            nopass = False
            passwords.clear()
            if lowered == "reset":
                enabled = False
        elif op.startswith(">"):
            nopass = False
            passwords.append(Password(op[1:], span, user))
        elif op.startswith("#"):
            nopass = False  # a hashed password protects like a plaintext one
        elif op.startswith("<"):
            passwords = [p for p in passwords if p.value != op[1:]]
    return Auth(not (enabled and nopass), "user", user, passwords)


def default_user_commands(conf: RedisConfig) -> set[str] | None:
    """Which of :data:`WATCHED_COMMANDS` the default user may run (before renames), or None
    when the users are defined in an aclfile."""
    aclfile = conf.get("aclfile")
    if aclfile is not None and aclfile.args and aclfile.args[0]:
        return None
    user = default_user_line(conf)
    if user is None:
        return set(WATCHED_COMMANDS)  # the compiled default user has +@all
    allowed: set[str] = set()
    enabled = False
    for op in user.args[1:]:
        lowered = op.lower()
        if lowered == "on":
            enabled = True
        elif lowered in ("off", "reset"):
            enabled = False
            if lowered == "reset":
                allowed.clear()
        elif lowered in ("allcommands", "+@all"):
            allowed = set(WATCHED_COMMANDS)
        elif lowered in ("nocommands", "-@all"):
            allowed.clear()
        elif lowered.startswith(("+@", "-@")):
            category = lowered[2:]
            members = {c for c, cats in WATCHED_COMMANDS.items() if category in cats}
            allowed = allowed | members if lowered[0] == "+" else allowed - members
        elif lowered[:1] in "+-" and lowered[1:].split("|", 1)[0] in WATCHED_COMMANDS:
            command = lowered[1:].split("|", 1)[0]
            if lowered[0] == "+":
                allowed.add(command)
            elif "|" not in lowered:
                allowed.discard(command)
    return allowed if enabled else set()
