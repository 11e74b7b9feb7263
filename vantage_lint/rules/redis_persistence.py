"""VL207, VL210-VL212: Redis persistence (AOF, RDB) and where its files live."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from vantage_lint.context import RuleContext
from vantage_lint.findings import Applicability, Finding, Fix, Severity
from vantage_lint.redis.config import RedisConfig
from vantage_lint.redis.link import OFFICIAL, anchor, checkable, data_dir, effective, link_of, subject
from vantage_lint.registry import PRODUCTION_ONLY, rule


def aof_on(conf: RedisConfig) -> bool:
    return effective(conf, "appendonly") == "yes"


def rdb_on(conf: RedisConfig) -> bool:
    points = conf.save_points()
    if points is None:
        return not defaults_cleared(conf)  # else the compiled default save points apply
    return bool(points)


def defaults_cleared(conf: RedisConfig) -> bool:
    """Redis 6.0 and older drop the default save points as soon as redis-server gets any
    argument, a config file or a flag (src/server.c main() of 6.0 calls resetServerSaveParams()
    before loadServerConfig(); 6.2 moved the reset to the first `save` line, and 7.0 keeps the
    defaults without one: tests/test_redis_claims_real.py)."""
    version = conf.version
    if version is None or version > (6, 0) or conf.save_points() is not None:
        return False
    link = link_of(conf.service) if conf.service is not None else None
    if link is not None and link.profile is not OFFICIAL:
        return False  # bitnami and redis-stack start it with their own file
    return conf.source is not None or bool(conf.directives)


def role_of(conf: RedisConfig) -> str | None:
    """``broker``, ``backend``, ``cache`` or None: what the Redis holds, from its clients."""
    from vantage_lint.redis.clients import clients_of, queue_named, redis_role

    service = conf.service
    if service is None:
        return None
    role = redis_role(service)  # type: ignore[arg-type]
    if role is not None:
        return role
    urls = clients_of(service)  # type: ignore[arg-type]
    kinds = {url.kind for url in urls}
    if kinds == {"backend"}:
        return "backend"
    # Not a cache, for a reason redis_role saw: job-queue clients, or a name such as "broker".
    return "queue" if urls or queue_named(service) else None  # type: ignore[arg-type]


def persistence_on(conf: RedisConfig) -> bool:
    return aof_on(conf) or rdb_on(conf)


def directive_fix(conf: RedisConfig, name: str, value: str, title: str) -> Fix | None:
    """An unsafe fix that sets ``name value`` in the redis.conf (None for flags-only configs,
    and, by the sharing rule, for a file another Redis service of the project reads too)."""
    from vantage_lint.edits import set_directive_edit

    edit = set_directive_edit(conf, name, value)
    if edit is None or _shared_file(conf, edit.path):
        return None
    return Fix(title, (edit,), Applicability.UNSAFE)


def _shared_file(conf: RedisConfig, path: str) -> bool:
    service = conf.service
    project = getattr(service, "project", None)
    if project is None:
        return False
    users = {getattr(other.service, "name", None) for other in project.redis_configs
             if any(f.path == path for f in other.files)}
    return len(users - {None}) > 1


def with_severity(finding: Finding, severity: Severity) -> Finding:
    """A finding of a rule that reports some cases above or below its default severity."""
    finding.severity = severity
    finding.explicit_severity = True
    return finding


# Roles that can lose recent writes: a cache is rebuilt, results expire and are written again.
LOSSY_ROLES = frozenset({"cache", "backend"})
_ROLE_NAMES = {"cache": "cache", "backend": "Celery result backend"}
AOF_FIX_TITLE = ("Turn on the append-only file (run CONFIG SET appendonly yes on the live server first, "
                 "or the restart loads an empty AOF instead of the RDB)")


# --- VL207 -------------------------------------------------------------------------------------
@rule(
    code="VL207",
    name="redis-data-not-persisted",
    summary="Redis persistence is on but its data directory is not a named volume or bind mount.",
    severity=Severity.WARNING,
    hint="Mount a named volume at the data directory: volumes: [\"redis-data:/data\"].",
    scope="redis",
    contexts=PRODUCTION_ONLY,
)
def redis_data_not_persisted(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    When AOF or RDB is on, resolves the data directory (`dir`, relative to the working
    directory; `/data` in the official image) and looks for the service mount that holds it.
    Reports no mount, an anonymous volume (`- /data`) and a tmpfs; a tmpfs whose `size` is
    below `maxmemory` (or with no `maxmemory`) is an error, since snapshots that do not fit
    fail (seen on redis-server 7.0 and valkey 8.1 with a 1 MB tmpfs: BGSAVE fails, then writes
    and PING get `MISCONF` while `redis-cli ping` exits 0). RDB is on by default when
    no `save` line exists, except on Redis 6.0 and older, where any config file or flag
    clears the default save points (see VL212).

    ## Why it matters
    Without a named volume or bind mount the RDB and AOF files live in an anonymous volume
    (the official image declares `VOLUME /data`) or the container's writable layer.
    `docker compose up` with a new image carries anonymous volumes over to the new container,
    but `docker compose down`, `docker compose rm` and `up -V` (`--renew-anon-volumes`) do
    not: the next start begins with an empty dataset. Data in the writable layer is lost
    whenever the container is recreated, a new image included.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--appendonly", "yes"]
    ```

    ## Fix
    ```yaml
        volumes:
          - redis-data:/data
    volumes:
      redis-data:
    ```
    """
    service = conf.service
    if service is None or not checkable(conf) or not persistence_on(conf):
        return
    link = link_of(service)
    directory = data_dir(conf)
    what = "AOF and RDB files" if aof_on(conf) and rdb_on(conf) else "AOF files" if aof_on(conf) else "RDB snapshots"
    best = None
    for mount in service.mounts:  # type: ignore[attr-defined]
        target = posixpath.normpath(mount.target) if mount.target else ""
        if target and (directory == target or directory.startswith(target.rstrip("/") + "/")):
            if best is None or len(target) >= len(best.target):
                best = mount
    tmpfs = _tmpfs_targets(service)
    covering = [size for target, size in _tmpfs_sizes(service) if _inside(directory, target)]
    if best is None and any(_inside(directory, t) for t in tmpfs):
        yield _tmpfs_finding(ctx, conf, service.span_of("tmpfs"), what, directory, covering[0] if covering else None)  # type: ignore[attr-defined]
        return
    if best is not None:
        if best.type == "tmpfs":
            size = _long_tmpfs_size(best.node)
            yield _tmpfs_finding(ctx, conf, best.span, what, directory, size)
        elif best.type == "volume" and not best.source:
            yield ctx.finding(
                best.span,
                f"{subject(conf)} writes its {what} to {directory}, an anonymous volume: `up` with a new image "
                "keeps it, but after `docker compose down`, `rm` or `up -V` Redis starts with an empty dataset",
            )
        return
    image_volume = link is not None and link.profile is OFFICIAL and directory == "/data"
    if image_volume:
        where = ("only the image's anonymous volume: `up` with a new image keeps it, but after `docker compose "
                 "down`, `rm` or `up -V` Redis starts with an empty dataset")
    else:
        where = ("the container's writable layer: recreating the container (a new image, `docker compose down`) "
                 "starts Redis with an empty dataset")
    yield ctx.finding(
        service.span_of("volumes"),  # type: ignore[attr-defined]
        f"{subject(conf)} writes its {what} to {directory}, {where}",
        hint=f'Mount a named volume at {directory}: volumes: ["redis-data:{directory}"].',
    )


def _inside(path: str, target: str) -> bool:
    return path == target or path.startswith(target.rstrip("/") + "/")


def _tmpfs_finding(ctx: RuleContext, conf: RedisConfig, at: object, what: str, directory: str,
                   size: int | None) -> Finding:
    """A tmpfs loses the files at every restart; a small one (below maxmemory, or with no
    maxmemory at all) also makes snapshots fail, and Redis then refuses writes and PING with
    MISCONF (tests/test_redis_claims_real.py, a 1 MB tmpfs on both servers)."""
    from vantage_lint.compose.units import human_bytes

    message = f"{subject(conf)} writes its {what} to {directory}, a tmpfs: they vanish at every restart"
    maxmemory = conf.memory("maxmemory") or 0
    if size is not None and (not maxmemory or size < maxmemory):
        limit = f"maxmemory {conf.value('maxmemory')}" if maxmemory else "no maxmemory"
        message += (f", and its size {human_bytes(size)} is below what the dataset may reach ({limit}): a snapshot "
                    "that does not fit fails, and Redis then answers writes and PING with MISCONF while a plain "
                    "redis-cli ping healthcheck still exits 0")
        return with_severity(ctx.finding(at, message,  # type: ignore[arg-type]
                                         hint=f"Mount a named volume at {directory} instead of the tmpfs."),
                             Severity.ERROR)
    return ctx.finding(at, message)  # type: ignore[arg-type]


def _tmpfs_sizes(service: object) -> list[tuple[str, int | None]]:
    """(target, size in bytes or None) of the short-syntax ``tmpfs:`` entries (``/data:size=64m``)."""
    from vantage_lint.compose.nodes import ScalarNode, SeqNode
    from vantage_lint.compose.units import compose_bytes

    node = service.get("tmpfs")  # type: ignore[attr-defined]
    items = node.items if isinstance(node, SeqNode) else [node] if isinstance(node, ScalarNode) else []
    found = []
    for item in items:
        if not isinstance(item, ScalarNode) or not item.text:
            continue
        target, _, options = item.text.partition(":")
        size = None
        for option in options.split(","):
            key, _, value = option.partition("=")
            if key.strip() == "size":
                size = compose_bytes(value.strip())
        found.append((posixpath.normpath(target), size))
    return found


def _long_tmpfs_size(node: object) -> int | None:
    """``tmpfs.size`` of a long-syntax ``type: tmpfs`` volume."""
    from vantage_lint.compose.nodes import MapNode, ScalarNode
    from vantage_lint.compose.units import compose_bytes

    options = node.get("tmpfs") if isinstance(node, MapNode) else None
    size = options.get("size") if isinstance(options, MapNode) else None
    return compose_bytes(size.value) if isinstance(size, ScalarNode) else None


def _tmpfs_targets(service: object) -> list[str]:
    from vantage_lint.compose.nodes import ScalarNode, SeqNode

    node = service.get("tmpfs")  # type: ignore[attr-defined]
    items = node.items if isinstance(node, SeqNode) else [node] if isinstance(node, ScalarNode) else []
    return [posixpath.normpath(i.text.split(":", 1)[0]) for i in items if isinstance(i, ScalarNode) and i.text]


# --- VL210 -------------------------------------------------------------------------------------
@rule(
    code="VL210",
    name="redis-aof-disabled",
    summary="Redis runs without the append-only file: `appendonly` is not `yes`.",
    severity=Severity.WARNING,
    hint="On the running server run CONFIG SET appendonly yes first, then add appendonly yes to the config: "
         "adding only the line restarts Redis on an empty AOF and drops the RDB data.",
    scope="redis",
    fix=Applicability.UNSAFE,
    contexts=PRODUCTION_ONLY,
    supersedes=("VL201",),
)
def redis_aof_disabled(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Redis configuration whose effective `appendonly` is not `yes` (the compiled
    default is `no`; the bitnami image turns it on unless `REDIS_AOF_ENABLED=no`).

    ## Why it matters
    With RDB snapshots alone, a crash loses every write since the last snapshot, minutes of
    data with the default save points. For a Celery broker that means queued tasks. AOF with
    `appendfsync everysec` loses at most about one second.

    ## Example
    ```
    appendonly no
    save 900 1
    ```

    The severity follows what the Redis holds, as VL214 reads it from its clients: a warning
    for a Celery broker or a Redis that holds job queues (a queue client, or a service named
    `broker` or `queue`), info for a cache or a result backend (results expire and are
    written again; a cache is rebuilt), and info when no client shows what it holds.

    ## Fix
    On a server that already holds data, first run `CONFIG SET appendonly yes` on the live
    server (it writes the AOF from the dataset in memory), then add `appendonly yes` to the
    file. Adding only the line empties the dataset on the next restart: redis-server 7.0 and
    valkey 8.1 then start from a new, empty AOF and ignore the RDB (Redis issue 12484). The
    unsafe fix adds the line; do the `CONFIG SET` step first.
    """
    if not checkable(conf) or aof_on(conf) or conf.unknown("appendonly"):
        return  # appendonly ${VAR}: the deployment decides
    directive = conf.get("appendonly")
    state = f"appendonly {directive.args[0] if directive.args else ''}".strip() if directive else "no appendonly line (default no)"
    role = role_of(conf)
    tail = ""
    if role in LOSSY_ROLES:
        tail = f"; as a {_ROLE_NAMES[role]} it can rebuild what it loses"
    elif role is None:
        tail = "; what it holds is not known (no Celery broker or queue client is seen), so this is information"
    finding = ctx.finding(
        anchor(conf, "appendonly"),
        f"{subject(conf)} runs without AOF ({state}): a crash loses every write since the last RDB snapshot" + tail,
        fix=directive_fix(conf, "appendonly", "yes", AOF_FIX_TITLE),
        depends_on=conf.open_options if directive is None else (),
    )
    yield with_severity(finding, Severity.INFO) if role in LOSSY_ROLES or role is None else finding


# --- VL211 -------------------------------------------------------------------------------------
@rule(
    code="VL211",
    name="redis-appendfsync",
    summary="AOF is on with `appendfsync no` (the OS decides when to flush) or `always` (slow).",
    severity=Severity.WARNING,
    hint="Use appendfsync everysec.",
    scope="redis",
    fix=Applicability.UNSAFE,
    contexts=PRODUCTION_ONLY,
)
def redis_appendfsync(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    With `appendonly yes`, reports `appendfsync no` (warning) and `appendfsync always`
    (info). `everysec`, the default, passes.

    ## Why it matters
    `no` leaves flushing to the kernel, typically every 30 seconds, so a power loss drops that
    much of the AOF. `always` fsyncs every write: the safest setting and a large throughput
    cost, worth a deliberate choice.

    ## Example
    ```
    appendonly yes
    appendfsync no
    ```

    ## Fix
    `appendfsync everysec`.
    """
    if not checkable(conf) or not aof_on(conf):
        return
    policy = effective(conf, "appendfsync") or "everysec"
    fix = directive_fix(conf, "appendfsync", "everysec", "Use appendfsync everysec")
    if policy == "no":
        yield ctx.finding(
            anchor(conf, "appendfsync"),
            f"{subject(conf)} uses appendfsync no: the kernel flushes the AOF when it likes (about every 30s), "
            "so a power loss or host crash drops those writes",
            fix=fix,
        )
    elif policy == "always":
        yield with_severity(ctx.finding(
            anchor(conf, "appendfsync"),
            f"{subject(conf)} uses appendfsync always: every write waits for an fsync, a large throughput cost",
            hint="Keep always only if losing one second of writes is unacceptable; else use everysec.",
            fix=fix,
        ), Severity.INFO)


# --- VL212 -------------------------------------------------------------------------------------
@rule(
    code="VL212",
    name="redis-rdb-disabled",
    summary="RDB snapshots are off (`save \"\"`), or a multi-pair `save` line on Redis 6 silently stores no save points.",
    severity=Severity.WARNING,
    hint="Keep RDB snapshots: save 900 1, save 300 10 and save 60 10000 on separate lines.",
    scope="redis",
    contexts=PRODUCTION_ONLY,
)
def redis_rdb_disabled(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a configuration whose effective save points are empty (`save ""`, `--save ""`,
    bitnami's `REDIS_RDB_POLICY_DISABLED=yes`). On an image whose tag says Redis 6.x or older,
    a `save` line with more than one pair (`save 900 1 300 10`) is an error: Redis 6.2 accepts
    it silently and stores no save points at all (7.0 reads it as intended). On Redis 6.0 and
    older a config file or any flag without a `save` line clears the default save points
    (`main()` resets them before loading the arguments; 6.2 moved the reset to the first
    `save` line). For a cache or a Celery result backend (read from its clients, as VL214
    does) the finding is info: such data can be lost.

    ## Why it matters
    RDB snapshots are compact point-in-time backups and make restarts fast; with AOF off too,
    a restart loses everything. The Redis 6 case is worse because the file looks right.

    ## Example
    ```
    save ""
    ```

    ## Fix
    ```
    save 900 1
    save 300 10
    save 60 10000
    ```
    """
    if not checkable(conf):
        return
    version = conf.version
    multi = [d for d in conf.all("save") if len(d.args) > 2]
    if version is not None and version < (7, 0) and multi:
        for directive in multi:
            yield with_severity(ctx.finding(
                directive.arg_spans[0],
                f"{subject(conf)} runs Redis {version[0]}.{version[1]} (image tag), which accepts "
                f"`save {' '.join(directive.args)}` silently and stores no save points: RDB snapshots are off",
                hint="Write one pair per line (save 900 1, then save 300 10), or use a Redis 7 image.",
            ), Severity.ERROR)
        return
    role = role_of(conf)
    lossy = role in LOSSY_ROLES

    def rated(finding: Finding) -> Finding:
        return with_severity(finding, Severity.INFO) if lossy else finding

    if defaults_cleared(conf):
        assert version is not None
        yield rated(ctx.finding(
            anchor(conf, "save"),
            f"{subject(conf)} runs Redis {version[0]}.{version[1]} (image tag) with a config file or flags and no "
            "save line: before 6.2 any argument clears the default save points, so RDB snapshots are off",
            hint="Write the save points you want (save 900 1, save 300 10, save 60 10000), or use a Redis 7 image.",
        ))
        return
    if conf.save_points() == []:
        last = conf.all("save")
        at = (last[-1].arg_spans[0] if last[-1].arg_spans else last[-1].span) if last else anchor(conf)
        tail = (f" (a {_ROLE_NAMES[role]}: a restart without AOF starts it empty)" if lossy else "")
        yield rated(ctx.finding(at, f"{subject(conf)} has RDB snapshots turned off (save \"\"){tail}"))
