"""VL005, VL225, VL226: what redis-server makes of a redis.conf line by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from vantage_lint.context import RuleContext
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity
from vantage_lint.redis.config import ACCUMULATING, HINT, SENSITIVE, Directive, RedisConfig
from vantage_lint.redis.directives import directive_info, in_version, is_valkey, table, version_key
from vantage_lint.registry import rule

# What an ignored directive used to do, for the message.
_IGNORED = {
    "list-max-ziplist-entries": "lists are sized with list-max-listpack-size",
    "list-max-ziplist-value": "lists are sized with list-max-listpack-size",
    "lua-replicate-commands": "scripts are always replicated by their effects",
}


@rule(
    code="VL005",
    name="redis-config-error",
    summary="A redis.conf line that redis-server refuses at start (FATAL CONFIG FILE ERROR).",
    severity=Severity.ERROR,
    hint=HINT,
    scope="input",
)
def redis_config_error() -> Iterable[Finding]:
    """## What it does
    Reads a redis.conf the way the server that runs it does (same tokenizer, same directive
    table, same value parsers, includes followed in place) and reports every line it would
    refuse. The server and version come from the image tag of the service that mounts the
    file: `redis:6.2` is judged as Redis 6.2, `valkey/valkey:8` (or `bitnami/valkey`) as
    Valkey 8.1, whose table adds directives (`dual-channel-replication-enabled`,
    `primaryauth`, ...), enum values (`repl-diskless-load flush-before-load`) and narrower
    ranges (`maxmemory-samples` at most 64). A tag without a version means the newest Valkey
    the table knows, or for Redis any 7.x (a line is accepted if some 7.x accepts it).
    Reported:
    unknown directives (with a did-you-mean), a wrong number of arguments, bad yes/no, enum,
    memory or integer values, unbalanced quotes, invalid `save` points, an inline `# comment`
    after a value, a missing `include` file, bad `user` rules. The verdict and the line are
    checked against real redis-server 7.0 and valkey-server 8.1. Users defined with `user`
    lines next to an `aclfile` are reported too: the server exits before it reads the file.

    In a folder walk, a file named like a Redis config whose content is not one (half of its
    lines or more start with no directive Redis knows, or have YAML's shape, like a monitoring
    agent's `redis.conf` module config) is one info saying so instead of an error per line, and
    is not linted; given by name, or mounted by a Compose service as Redis's config, it is.

    An absolute `include` path is a path inside the container: it is read from the host file
    the service's bind mount serves there (`./conf:/usr/local/etc/redis:ro` serves
    `include /usr/local/etc/redis/common.conf` from `./conf/common.conf`). An include that no
    mount provides, or that resolves outside the project folder (or into `.git`), is a
    warning and is never opened; includes that repeat past 10,000 files are cut short.

    ## Why it matters
    redis-server stops at the first such line with `*** FATAL CONFIG FILE ERROR ***` and exit
    status 1: the container restarts in a loop and nothing else in the file takes effect.
    Values that look right elsewhere are the usual cause: `1.5gb`, `100MiB` and `1t` are not
    Redis memory values, `true` is not a Redis boolean, and redis.conf has no inline comments.

    ## Example
    ```
    maxmemory 512mb # half of the container limit
    appendonly true
    ```

    ## Fix
    Correct the line to what redis-server accepts; comments go on their own line.
    ```
    # half of the container limit
    maxmemory 512mb
    appendonly yes
    ```
    """
    return ()


@rule(
    code="VL225",
    name="redis-deprecated-directive",
    summary="A redis.conf directive written under an old name, or one Redis 7 ignores.",
    severity=Severity.INFO,
    hint="Use the current directive name.",
    scope="redis",
    fix=Applicability.SAFE,
)
def redis_deprecated_directive(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports directives written under a name Redis only keeps for compatibility (`slaveof`,
    `slave-read-only` and the other `slave*` names, `hash-max-ziplist-*`, `zset-max-ziplist-*`,
    `list-max-ziplist-size`, `lua-time-limit`, and from Redis 7.4 `server_cpulist` and friends),
    and the ones Redis 7 reads and ignores (`list-max-ziplist-entries`,
    `list-max-ziplist-value`, `lua-replicate-commands`).

    ## Why it matters
    Old names are documented nowhere but in old configs, `CONFIG GET` shows both names, and
    `CONFIG REWRITE` writes the new one: readers and tools get confused. An ignored directive
    looks like tuning but does nothing at all.

    ## Example
    ```
    slaveof redis-primary 6379
    hash-max-ziplist-entries 512
    ```

    ## Fix
    Rename the directive (`--fix` does it: same setting, no change in behaviour). Remove an
    ignored one, or replace it with what Redis 7 reads.
    ```
    replicaof redis-primary 6379
    hash-max-listpack-entries 512
    ```
    """
    if conf.kind == "other":
        return
    vkey = version_key(conf.version, conf.server)
    for directive in conf.directives:
        if directive.name != directive.canonical:
            alias = table().aliases.get(directive.name)
            if alias is not None and alias["versions"] and all(is_valkey(v) for v in alias["versions"]):
                continue  # Valkey's new spelling (primaryauth for masterauth), not an old name
            entry = directive_info(directive.canonical)
            # Only suggest a name the target Redis knows; an unknown 7.x must be 7.0 or newer.
            if entry is None or not (in_version(entry["versions"], vkey) if vkey else "7.0" in entry["versions"]):
                continue
            yield ctx.finding(
                directive.name_span,
                f"`{directive.name}` is the old name of `{directive.canonical}`; Redis still accepts it "
                "as an alias",
                hint=f"Rename it to `{directive.canonical}`.",
                fix=_rename_fix(directive),
            )
        elif directive.name in _IGNORED:
            yield ctx.finding(
                directive.name_span,
                f"`{directive.name}` is ignored by Redis 7.0 and newer ({_IGNORED[directive.name]}); "
                "this line has no effect",
                hint="Remove the line, or replace it with the setting Redis 7 reads.",
            )


def _rename_fix(directive: Directive) -> Fix | None:
    if directive.from_command_line or directive.source is None:
        return None  # the compose text around an argv word is not ours to splice
    span = directive.name_span
    return Fix(
        title=f"Rename `{directive.name}` to `{directive.canonical}`",
        edits=(Edit(span.path, span.start, span.end, directive.canonical),),
        applicability=Applicability.SAFE,
    )


@rule(
    code="VL226",
    name="redis-duplicate-directive",
    summary="A redis.conf directive set twice in one file: redis-server silently keeps the last.",
    severity=Severity.WARNING,
    hint="Keep one line for the directive; redis-server silently uses the last one.",
    scope="redis",
)
def redis_duplicate_directive(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a directive that is set more than once in the same file when only the last line
    counts (`maxmemory`, `bind`, `appendonly`, ...). Directives that act line by line pass:
    `save` (adds points), `include`, `rename-command`, `user`, `loadmodule`, `sentinel`, and
    `client-output-buffer-limit` for different client classes. An `include` that overrides a
    value, or a command-line option that does, is deliberate and passes.

    ## Why it matters
    redis-server gives no warning: the earlier line looks like the setting but has no effect.
    A `maxmemory` near the top of a long file and another near the bottom is a classic way to
    run with a limit nobody chose.

    ## Example
    ```
    maxmemory 2gb
    maxmemory-policy noeviction
    maxmemory 256mb
    ```

    ## Fix
    Keep the value you want, once.
    ```
    maxmemory 2gb
    maxmemory-policy noeviction
    ```
    """
    if conf.kind == "other":
        return
    last: dict[tuple[int, str], Directive] = {}
    for directive in reversed(conf.directives):
        if directive.source is None or directive.canonical in ACCUMULATING or "." in directive.canonical:
            continue
        entry = directive_info(directive.canonical)
        if entry is not None and entry["type"] == "deprecated_ignored":
            continue
        for key in _duplicate_keys(directive):
            winner = last.get((id(directive.source), key))
            if winner is None:
                last[(id(directive.source), key)] = directive
            elif winner.span != directive.span:
                yield ctx.finding(directive.span, _duplicate_message(directive, winner, key))


def _duplicate_keys(directive: Directive) -> list[str]:
    if directive.canonical != "client-output-buffer-limit":
        return [directive.canonical]
    classes = {a.lower() for a in directive.args[0::4]}
    return [f"client-output-buffer-limit {'replica' if c == 'slave' else c}" for c in sorted(classes)]


def _duplicate_message(directive: Directive, winner: Directive, key: str) -> str:
    secret = winner.canonical in SENSITIVE
    shown = f"{winner.name} ***" if secret else " ".join([winner.name, *winner.args])
    if len(shown) > 60:
        shown = shown[:59] + "…"
    same = " with the same value" if directive.args == winner.args else ""
    return (f"`{key}` is set again{same} on line {winner.span.line} (`{shown}`); redis-server keeps only the "
            "last value, so this line has no effect")
