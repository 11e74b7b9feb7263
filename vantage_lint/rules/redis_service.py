"""VL201-VL206: the Redis service in Compose: its config file, healthcheck, clients and secrets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import MapNode, ScalarNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Applicability, Finding, Fix, Severity
from vantage_lint.redis.auth import Auth, auth_of
from vantage_lint.redis.clients import Probe, clients_of, healthcheck_probes, service_urls
from vantage_lint.redis.link import BITNAMI, data_dir, link_of
from vantage_lint.registry import rule
from vantage_lint.rules.redis_persistence import with_severity
from vantage_lint.secrets import mask

REDIS_PASSWORD_NAMES = ("REDIS_PASSWORD", "REDIS_PASS", "REDISCLI_AUTH", "REDIS_AUTH")


# --- VL201 -------------------------------------------------------------------------------------
@rule(
    code="VL201",
    name="redis-no-config-file",
    summary="The Redis service does not start redis-server with a mounted config file.",
    severity=Severity.WARNING,
    hint="Mount a redis.conf read-only and start it: command: [\"redis-server\", \"/usr/local/etc/redis/redis.conf\"].",
    roles=["redis"],
)
def redis_no_config_file(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Redis service that runs `redis-server` without a configuration file: the image's
    default command, or `redis-server` followed only by `--flags`. A service that runs something
    else (a start script) is not judged.

    ## Why it matters
    Without a file every setting that is not a flag is the image's compiled default: no
    password, no `maxmemory`, AOF off, and in the official image protected mode off. A
    reviewed `redis.conf` in the repository keeps persistence, memory and security settings
    in one place that code review sees, and lets vantage-lint check them.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: redis-server --appendonly yes
    ```

    ## Fix
    ```yaml
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"]
        volumes:
          - ./docker/redis/redis.conf:/usr/local/etc/redis/redis.conf:ro
    ```
    """
    link = link_of(service)
    if link is None or not link.known or link.uses_file:
        return
    if link.profile is BITNAMI:
        yield ctx.finding(
            link.anchor,
            f'Redis service "{service.name}" runs the redis.conf the bitnami image writes from environment '
            "variables, not a reviewed config file",
            hint="Mount your redis.conf read-only at /opt/bitnami/redis/mounted-etc/redis.conf.",
        )
        return
    how = "with command-line flags only, no config file" if link.flags else "without a config file"
    yield ctx.finding(
        link.anchor,
        f'Redis service "{service.name}" starts redis-server {how}: every other setting is the image\'s '
        "compiled default (no password, no maxmemory, AOF off)",
    )


# --- VL202 -------------------------------------------------------------------------------------
@rule(
    code="VL202",
    name="redis-config-writable",
    summary="The redis.conf mount is writable: it lacks `:ro` (short syntax) or `read_only: true` (long syntax).",
    severity=Severity.WARNING,
    hint="Mount the config read-only: add :ro to the volume (or read_only: true in the long syntax).",
    roles=["redis"],
    fix=Applicability.SAFE,
)
def redis_config_writable(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Finds the bind mount that provides the config file given to `redis-server` (the file
    itself or a folder holding it) and reports it when it is not read-only. Compose `configs:`
    are always read-only and pass.

    ## Why it matters
    `CONFIG REWRITE` (or anyone who gets a shell in the container) can then change the file
    on the host, and the next start runs a configuration nobody reviewed. A read-only mount
    keeps the repository's file the single source of truth.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"]
        volumes:
          - ./redis.conf:/usr/local/etc/redis/redis.conf
    ```

    ## Fix
    Add `:ro`: `./redis.conf:/usr/local/etc/redis/redis.conf:ro` (safe fix: Redis only reads it).
    """
    link = link_of(service)
    if link is None or link.mount is None or link.mount.read_only or link.mount.type != "bind":
        return
    mount = link.mount
    conf = link.config
    holds_data = conf is not None and _inside(data_dir(conf), mount.target)
    if holds_data:
        yield ctx.finding(
            mount.span,
            f'Redis service "{service.name}" reads {link.container_path} from the writable mount {mount.target}, '
            "which also holds its data directory",
            hint="Move redis.conf to its own folder (e.g. /usr/local/etc/redis) and mount that read-only.",
        )
        return
    fix = _read_only_fix(service, mount.node, ctx)
    yield ctx.finding(
        mount.span,
        f'Redis service "{service.name}" mounts its config {link.container_path} writable '
        f'({mount.source or "?"} -> {mount.target})',
        fix=fix,
    )


def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder + "/") or folder == "/"


def _read_only_fix(service: Service, node: object, ctx: RuleContext) -> Fix | None:
    from vantage_lint.edits import guard_fix, insert_key_edit, replace_scalar_edit

    project = service.project
    source = project.sources.get(getattr(node, "span").path)
    if source is None:
        return None
    edit = None
    if isinstance(node, ScalarNode):
        if node.raw != node.value:
            return None  # written with ${VAR}: editing the text would drop the reference
        parts = node.text.split(":")
        if len(parts) == 2:
            new = node.text + ":ro"
        elif len(parts) == 3:
            modes = [m for m in parts[2].split(",") if m and m != "rw"]
            new = ":".join(parts[:2] + [",".join(["ro", *modes])])
        else:
            return None
        edit = replace_scalar_edit(source, node, new)
    elif isinstance(node, MapNode):
        if "read_only" in node.items:
            from vantage_lint.edits import replace_value_edit

            edit = replace_value_edit(source, node, "read_only", "true")
        else:
            edit = insert_key_edit(source, node, "read_only", "true")
    if edit is None:
        return None
    fix, _note = guard_fix(project, node, Fix("Mount the Redis config read-only", (edit,), Applicability.SAFE))  # type: ignore[arg-type]
    return fix


# --- VL203 -------------------------------------------------------------------------------------
@rule(
    code="VL203",
    name="redis-config-path-mismatch",
    summary="The config path given to redis-server is not the target of any mount, or the mounted host file does not exist.",
    severity=Severity.ERROR,
    hint="Mount the host file at exactly the path passed to redis-server, and check that the host file exists.",
    roles=["redis"],
)
def redis_config_path_mismatch(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Resolves the path passed to `redis-server` (relative paths against `working_dir`, `/data`
    in the official image) and looks for the volume or `configs:` entry whose target is that
    file or a folder holding it. Reports a path nothing mounts (on a stock image, where the
    file cannot be baked in), and a bind mount whose host file (relative to the project
    folder) does not exist or is a folder.

    ## Why it matters
    redis-server stops with `Fatal error, can't open config file` and the container
    restarts forever. When a bind mount's host file is missing, Docker creates an empty
    folder in its place, so the same error appears on every machine that lacks the file.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"]
        volumes:
          - ./redis/redis.conf:/etc/redis/redis.conf:ro
    ```

    ## Fix
    Make the mount target and the `redis-server` argument the same path, and commit the host file.
    """
    link = link_of(service)
    if link is None or link.problem not in ("unmounted", "missing", "not-a-file"):
        return
    if link.problem == "unmounted":
        at = service.word_span(link.path_word) if link.path_word is not None else link.anchor
        targets = sorted({m.target for m in service.mounts if m.target.endswith(".conf")})
        near = f" (mounted .conf files: {', '.join(targets)})" if targets else ""
        yield ctx.finding(
            at,
            f'Redis service "{service.name}" starts redis-server with {link.container_path}, but no volume or '
            f"config mounts that path{near}: redis-server exits with \"can't open config file\"",
        )
        return
    what = "does not exist" if link.problem == "missing" else "is a folder, not a file"
    node = link.mount_node
    yield ctx.finding(
        node.span if node is not None else link.anchor,
        f'the host file {_host_shown(link)} mounted at {link.container_path} for Redis service "{service.name}" {what}: '
        "Docker mounts an empty folder there and redis-server cannot open its config",
    )


def _host_shown(link: object) -> str:
    mount = getattr(link, "mount", None)
    if mount is not None and mount.source:
        return mount.source
    return str(getattr(link, "host_path", "") or "")


# --- VL204 -------------------------------------------------------------------------------------
class Verdict(NamedTuple):
    severity: Severity
    message: str
    hint: str


def classify_probe(probe: Probe, auth: Auth | None) -> list[Verdict]:
    """What a redis-cli healthcheck reports against a running server with ``auth``.

    An error verdict means the check does not report "healthy" exactly when Redis answers
    PONG to it (it passes on NOAUTH, or it can never pass); info verdicts are weaknesses of a
    check that works."""
    required = auth.required if auth is not None else None
    checked = probe.errors_exit or probe.output_checked
    fails = "the check can never pass and the service never becomes healthy"
    passes = "redis-cli prints the error and still exits 0, so the check always passes"
    errors: list[Verdict] = []
    if required:
        if not probe.has_credentials:
            errors.append(Verdict(
                Severity.ERROR,
                f"the probe sends no credentials to a Redis that requires auth ({auth.mechanism}): Redis answers "  # type: ignore[union-attr]
                f"NOAUTH and {fails if checked else passes}",
                "Pass the password through REDISCLI_AUTH and check the reply: "
                'test: ["CMD-SHELL", "redis-cli ping | grep -q PONG"] with REDISCLI_AUTH in the environment.',
            ))
        elif probe.url_empty_user and probe.username in ("", None):
            errors.append(Verdict(
                Severity.ERROR,
                "the -u URL has an empty user name before the password (a `:` right after redis://), which "
                "redis-cli sends as is: AUTH fails with WRONGPASS and "
                f"{fails if checked else passes}",
                "Name the user in the URL (default, then the password), or use REDISCLI_AUTH.",
            ))
        elif _wrong_password(probe, auth):
            errors.append(Verdict(
                Severity.ERROR,
                f"the probe's password ({mask(probe.password or '')}) is none of the passwords Redis accepts: "
                f"AUTH fails and {fails if checked else passes}",
                "Give the probe the same password as the server, from one variable.",
            ))
    if errors:
        return errors
    verdicts: list[Verdict] = []
    if not checked:
        verdicts.append(Verdict(
            Severity.INFO,
            "redis-cli exits 0 whatever Redis answers (errors included): the check only detects refused "
            "connections",
            'Add -e or check the reply: test: ["CMD-SHELL", "redis-cli ping | grep -q PONG"].',
        ))
    if probe.password_via in ("-a", "--pass", "-u"):
        verdicts.append(Verdict(
            Severity.INFO,
            f"the probe passes the password with {probe.password_via}: it shows in the process list and "
            "`docker inspect`, and redis-cli warns on every run",
            "Set REDISCLI_AUTH in the service environment instead of passing the password as an argument.",
        ))
    return verdicts


def _wrong_password(probe: Probe, auth: Auth | None) -> bool:
    if auth is None or auth.mechanism not in ("requirepass", "user") or probe.password_templated:
        return False
    if probe.username not in (None, "", "default") or probe.password is None:
        return False
    known = [p.value for p in auth.passwords if not p.templated]
    if not known or len(known) != len(auth.passwords):
        return False
    return probe.password not in known


@rule(
    code="VL204",
    name="redis-healthcheck-blind",
    summary="The redis-cli healthcheck passes against a server that rejects it, or cannot tell errors from PONG.",
    severity=Severity.ERROR,
    hint="Probe with credentials (REDISCLI_AUTH) and check the reply: redis-cli ping | grep -q PONG.",
    roles=["redis"],
)
def redis_healthcheck_blind(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reads every `redis-cli` call in the service's healthcheck (`CMD`, `CMD-SHELL` and string
    forms, pipes and `$(...)` included) with its credentials (`-a`, `--pass`, `-u`,
    `REDISCLI_AUTH`) and output checks (`-e`, a comparison with `PONG`), and judges it against
    the auth the service's config requires:

    - auth required and no credentials: error. redis-cli prints `NOAUTH Authentication
      required.` and exits 0, so the check always passes (or, with `-e` or a PONG check,
      never passes);
    - `-u redis://:password@host`: error when auth is required; redis-cli sends an empty user
      name and AUTH fails (`redis://default:password@host` works);
    - a literal password that is not the server's: error;
    - no `-e` and no PONG check: info, the check only detects refused connections;
    - the password on the command line (`-a`, `--pass`, `-u`): info, prefer `REDISCLI_AUTH`.

    ## Why it matters
    `depends_on: condition: service_healthy` and orchestrators trust this check. A check that
    reports healthy while every command fails with NOAUTH lets workers start against a Redis
    they cannot use; one that can never pass blocks the whole stack.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
        healthcheck:
          test: ["CMD", "redis-cli", "ping"]
    ```

    ## Fix
    ```yaml
        environment:
          REDISCLI_AUTH: ${REDIS_PASSWORD}
        healthcheck:
          test: ["CMD-SHELL", "redis-cli ping | grep -q PONG"]
    ```
    """
    probes = healthcheck_probes(service)
    if not probes:
        return
    conf = getattr(service, "redis_config", None)
    auth = auth_of(conf) if conf is not None else None
    for probe in probes:
        for verdict in classify_probe(probe, auth):
            finding = ctx.finding(
                probe.span,
                f'healthcheck of Redis service "{service.name}": {verdict.message}',
                hint=verdict.hint,
            )
            yield finding if verdict.severity is Severity.ERROR else with_severity(finding, verdict.severity)


# --- VL205 -------------------------------------------------------------------------------------
@rule(
    code="VL205",
    name="redis-client-missing-auth",
    summary="A redis:// URL points at a Redis that requires auth but carries no password.",
    severity=Severity.ERROR,
    hint="Put the password in the URL from a variable: redis://:${REDIS_PASSWORD}@redis:6379/0.",
    roles=["redis"],
)
def redis_client_missing_auth(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Collects every `redis://`/`rediss://` URL in any service (environment, env files,
    command, entrypoint) whose host is this Redis service (its name, an alias, `hostname` or
    `container_name`) and reports those without a password when the Redis requires auth
    (`requirepass`, a `user default` line with a password, or `user default off`). A literal
    password that is none of the server's literal passwords is reported too.

    ## Why it matters
    Turning on auth without updating the connection strings breaks every client at the first
    command with `NOAUTH Authentication required`: Celery workers do not exit but retry the
    connection forever (logging `Cannot connect to redis://...`), so they look up while they
    run nothing, and the web app returns errors.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
      worker:
        image: myapp:1.4.2
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
    ```

    ## Fix
    `CELERY_BROKER_URL: redis://:${REDIS_PASSWORD}@redis:6379/0`.
    """
    conf = getattr(service, "redis_config", None)
    if conf is None:
        return
    auth = auth_of(conf)
    if not auth.required:
        return
    known = [p.value for p in auth.passwords if not p.templated]
    all_known = bool(known) and len(known) == len(auth.passwords) and auth.mechanism in ("requirepass", "user")
    for url in clients_of(service):
        where = f'{url.setting} of service "{url.client.name}"'
        if not url.has_password:
            yield ctx.finding(
                url.span,
                f'{where} connects to Redis service "{service.name}" without a password, but it requires auth '
                f"({auth.mechanism}): every command fails with NOAUTH",
                service=url.client.name,
            )
        elif (all_known and url.password and not url.password_templated
              and url.username in (None, "", "default") and url.password not in known):
            yield ctx.finding(
                url.span,
                f'{where} connects to Redis service "{service.name}" with a password ({mask(url.password)}) '
                "that is not the server's: every command fails with WRONGPASS",
                hint="Take the password in the URL and in the Redis config from the same variable.",
                service=url.client.name,
            )


# --- VL206 -------------------------------------------------------------------------------------
@rule(
    code="VL206",
    name="redis-secret-in-compose",
    summary="A Redis password is written literally in the Compose file instead of coming from a variable, env file or secret.",
    severity=Severity.WARNING,
    hint="Take the password from ${REDIS_PASSWORD} (set in .env or the CI environment) or a Compose secret.",
    production=True,
)
def redis_secret_in_compose(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports Redis passwords written out in the Compose file: `--requirepass`/`--masterauth`
    flags of redis-server, `REDIS_PASSWORD`-like and `REDISCLI_AUTH` environment values, the
    password of a `redis://` URL in any service, and `-a`/`-u` passwords in a redis-cli
    healthcheck. Values from `${VAR}`, `$$VAR` (expanded in the container) or an `env_file`
    pass. The value is never printed.

    ## Why it matters
    The Compose file is committed, copied into CI logs and shown by `docker compose config`;
    a password in it is readable by everyone who can read the repository, and rotating it
    means a commit.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        environment:
          CELERY_BROKER_URL: redis://:hunter2hunter2@redis:6379/0
    ```

    ## Fix
    `CELERY_BROKER_URL: redis://:${REDIS_PASSWORD}@redis:6379/0`, with `REDIS_PASSWORD` in `.env`
    (not committed) or the deployment's environment.
    """
    name = service.name
    for var_name, var in service.environment.items():
        upper = var_name.upper()
        secret_name = (upper in REDIS_PASSWORD_NAMES or ("REDIS" in upper and "PASS" in upper)) and not upper.endswith(
            ("_FILE", "_PATH")
        )
        if secret_name and var.origin == "environment" and var.literal and var.value:
            yield ctx.finding(var.span, f'service "{name}" sets {var_name} to a literal password ({mask(var.value)})')
    for url in service_urls(service):
        if url.literal_password:
            yield ctx.finding(
                url.span,
                f'{url.setting} of service "{name}" holds a literal Redis password ({mask(url.password or "")})',
            )
    link = link_of(service)
    if link is not None:
        for index, word in enumerate(link.flags[:-1]):
            if word.text.lower() in ("--requirepass", "--masterauth"):
                value = link.flags[index + 1]
                at = service.word_span(value)
                if value.text and not _templated_word(service, value):
                    yield ctx.finding(
                        at, f'redis-server in service "{name}" gets {word.text} {mask(value.text)} written in the Compose file'
                    )
    if service.has_role("redis"):
        for probe in healthcheck_probes(service):
            if probe.password and not probe.password_templated and probe.password_via in ("-a", "--pass", "-u"):
                yield ctx.finding(
                    probe.password_span or probe.span,
                    f'healthcheck of service "{name}" passes a literal password ({mask(probe.password)}) to redis-cli',
                )


def _templated_word(service: Service, word: object) -> bool:
    """The word is a variable: ``$$VAR`` for the container's shell, or ``${VAR}`` substituted by Compose."""
    text = getattr(word, "text", "")
    if "$" in text:
        return True
    nodes = service.command_nodes
    part = getattr(word, "part", -1)
    node = nodes[part] if 0 <= part < len(nodes) else None
    return node is not None and "$" in node.raw and text not in node.raw
