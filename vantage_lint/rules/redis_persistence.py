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
    return points is None or bool(points)  # None: the compiled default save points apply


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
    When AOF or RDB is on (RDB is on by default when no `save` line exists), resolves the data
    directory (`dir`, relative to the working directory; `/data` in the official image) and
    looks for the service mount that holds it. Reports no mount, an anonymous volume
    (`- /data`) and a tmpfs.

    ## Why it matters
    Without a named volume or bind mount the RDB and AOF files live in the image's anonymous
    volume or the container's writable layer: `docker compose down` (or a rebuild) detaches
    them and Redis starts empty: persistence was configured but the data is gone anyway.

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
    if best is None and any(directory == t or directory.startswith(t.rstrip("/") + "/") for t in tmpfs):
        yield ctx.finding(
            service.span_of("tmpfs"),  # type: ignore[attr-defined]
            f"{subject(conf)} writes its {what} to {directory}, a tmpfs: they vanish at every restart",
        )
        return
    if best is not None:
        if best.type == "tmpfs":
            yield ctx.finding(best.span, f"{subject(conf)} writes its {what} to {directory}, a tmpfs: they vanish at every restart")
        elif best.type == "volume" and not best.source:
            yield ctx.finding(
                best.span,
                f"{subject(conf)} writes its {what} to {directory}, an anonymous volume: `docker compose down` "
                "detaches it and the next start begins with an empty dataset",
            )
        return
    image_volume = link is not None and link.profile is OFFICIAL and directory == "/data"
    where = ("only the image's anonymous volume" if image_volume
             else "the container's writable layer")
    yield ctx.finding(
        service.span_of("volumes"),  # type: ignore[attr-defined]
        f"{subject(conf)} writes its {what} to {directory}, {where}: recreating the container "
        "(`docker compose down`, a new image) starts Redis with an empty dataset",
        hint=f'Mount a named volume at {directory}: volumes: ["redis-data:{directory}"].',
    )


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
    hint="Set appendonly yes (with appendfsync everysec) so at most a second of writes is lost on a crash.",
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

    ## Fix
    `appendonly yes` (unsafe fix: it changes disk usage and start-up time).
    """
    if not checkable(conf) or aof_on(conf):
        return
    directive = conf.get("appendonly")
    state = f"appendonly {directive.args[0] if directive.args else ''}".strip() if directive else "no appendonly line (default no)"
    yield ctx.finding(
        anchor(conf, "appendonly"),
        f"{subject(conf)} runs without AOF ({state}): a crash loses every write since the last RDB snapshot",
        fix=directive_fix(conf, "appendonly", "yes", "Turn on the append-only file"),
    )


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
    it silently and stores no save points at all (7.0 reads it as intended).

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
    if conf.save_points() == []:
        last = conf.all("save")
        at = (last[-1].arg_spans[0] if last[-1].arg_spans else last[-1].span) if last else anchor(conf)
        yield ctx.finding(at, f"{subject(conf)} has RDB snapshots turned off (save \"\")")
