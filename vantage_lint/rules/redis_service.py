"""VL201-VL206: the Redis service in Compose: its config file, healthcheck, clients and secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from vantage_lint.compose.model import Service
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.compose.nodes import MapNode, ScalarNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Applicability, Finding, Fix, Severity
from vantage_lint.redis.auth import Auth, auth_of
from vantage_lint.redis.clients import Probe, clients_of, healthcheck_probes, service_urls
from vantage_lint.redis.link import data_dir, effective, link_of, mounted_file, stock_image
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.redis_persistence import with_severity
from vantage_lint.secrets import mask

REDIS_PASSWORD_NAMES = ("REDIS_PASSWORD", "REDIS_PASS", "REDISCLI_AUTH", "REDIS_AUTH")
# Image variables whose words the image appends to the server's arguments (link.IMAGE_VARIABLES).
_FLAG_VARIABLES = ("VALKEY_EXTRA_FLAGS", "REDIS_EXTRA_FLAGS", "REDIS_ARGS")


# --- VL201 -------------------------------------------------------------------------------------
@rule(
    code="VL201",
    name="redis-no-config-file",
    summary="The Redis service does not start redis-server with a mounted config file.",
    severity=Severity.WARNING,
    hint="Mount a redis.conf read-only and start it: command: [\"redis-server\", \"/usr/local/etc/redis/redis.conf\"].",
    roles=["redis"],
    contexts=PRODUCTION_ONLY,
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
    if link.profile.kind == "bitnami":
        name = "valkey" if link.server == "valkey" else "redis"
        yield ctx.finding(
            link.anchor,
            f'Redis service "{service.name}" runs the {name}.conf the bitnami image writes from environment '
            "variables, not a reviewed config file",
            hint=f"Mount your {name}.conf read-only at /opt/bitnami/{name}/mounted-etc/{name}.conf.",
        )
        return
    how = "with command-line flags only, no config file" if link.flags else "without a config file"
    defaults = _unset_defaults(link)
    tail = f" ({', '.join(defaults)})" if defaults else ""
    yield ctx.finding(
        link.anchor,
        f'Redis service "{service.name}" starts {link.server}-server {how}: every other setting is the image\'s '
        f"compiled default{tail}",
    )


def _unset_defaults(link: object) -> list[str]:
    """The compiled defaults that matter most and that neither flags nor image variables set."""
    conf = getattr(link, "config", None)
    if conf is None:
        return ["no password", "no maxmemory", "AOF off"]
    shown = []
    if auth_of(conf).required is False:
        shown.append("no password")
    if not conf.memory("maxmemory"):
        shown.append("no maxmemory")
    if effective(conf, "appendonly") != "yes":
        shown.append("AOF off")
    return shown


# --- VL202 -------------------------------------------------------------------------------------
@rule(
    code="VL202",
    name="redis-config-writable",
    summary="The redis.conf mount is writable: it lacks `:ro` (short syntax) or `read_only: true` (long syntax).",
    severity=Severity.WARNING,
    hint="Mount the config read-only: add :ro to the volume (or read_only: true in the long syntax).",
    roles=["redis"],
    fix=Applicability.SAFE,
    contexts=PRODUCTION_ONLY,
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
    if link.mount.access_unknown:
        return  # ":${MODE}": the deployment decides
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
# Files redis-server opens at start besides its config (TLS files only when TLS is on).
_READ_FILES = ("aclfile", "include")
_TLS_FILES = ("tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-dh-params-file",
              "tls-client-cert-file", "tls-client-key-file")
# What redis-server 7 does when the file is a folder (Docker's stand-in for a missing bind
# source) or is not there at all (tests/test_redis_claims_real.py).
_AS_FOLDER = {
    "aclfile": "reads it as an empty ACL file and starts with `user default on nopass`: no password at all",
    "include": "reads it as an empty file and starts without the settings it was meant to add",
    "tls": "refuses to start (Failed to configure TLS)",
}
_ABSENT = {
    "aclfile": "refuses to start (Error loading ACLs ... No such file or directory)",
    "include": "refuses to start (Fatal error, can't open config file)",
    "tls": "refuses to start (Failed to configure TLS)",
}


@rule(
    code="VL203",
    name="redis-config-path-mismatch",
    summary="A file redis-server reads (its config, aclfile, include, tls-*-file) is not mounted, or its bind-mount source does not exist.",
    severity=Severity.ERROR,
    hint="Mount the host file at exactly the path redis-server reads, and check that the host file exists.",
    roles=["redis"],
)
def redis_config_path_mismatch(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Resolves the path passed to `redis-server` (relative paths against `working_dir`, `/data`
    in the official image) and looks for the volume or `configs:` entry whose target is that
    file or a folder holding it. Reports a path nothing mounts (on a stock image, where the
    file cannot be baked in), and a bind mount whose host file (relative to the project
    folder) does not exist or is a folder. The files the configuration itself names get the
    same check: `aclfile`, every `include`, and the `tls-*-file` paths when TLS is on.

    ## Why it matters
    For a missing bind-mount source Docker creates an empty folder on the host and mounts it.
    redis-server 7 opens a folder without error and reads nothing from it: given as its
    config, it starts silently on its compiled defaults (no password, no `maxmemory`,
    protected mode off in the official image); as the `aclfile`, the default user becomes
    `user default on nopass`; as an `include`, its settings are missing. A TLS certificate
    or key that is a folder, or an `aclfile`/`include`/config path nothing mounts, stops
    redis-server at start and the container restarts in a loop.

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
    Make the mount target and the path redis-server reads the same, and commit the host file
    (or create it in the deployment before `docker compose up`).
    """
    link = link_of(service)
    if link is None:
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
    if link.problem in ("missing", "not-a-file"):
        what = "does not exist" if link.problem == "missing" else "is a folder, not a file"
        node = link.mount_node
        yield ctx.finding(
            node.span if node is not None else link.anchor,
            f'the host file {_host_shown(link)} mounted at {link.container_path} for Redis service "{service.name}" '
            f"{what}: Docker mounts an empty folder there, and redis-server 7 reads a folder as an empty config "
            "and starts silently on its compiled defaults (no password, no maxmemory)",
        )
        return
    conf = link.config
    if conf is None:
        return
    yield from _read_file_findings(service, conf, ctx)


def _tls_on(conf: object) -> bool:
    value = getattr(conf, "value")
    return value("tls-port") not in (None, "0") or "yes" in (value("tls-replication"), value("tls-cluster"))


def _read_file_findings(service: Service, conf: object, ctx: RuleContext) -> Iterator[Finding]:
    names = _READ_FILES + (_TLS_FILES if _tls_on(conf) else ())
    for name in names:
        for directive in conf.all(name):  # type: ignore[attr-defined]
            if not directive.args or not directive.args[0]:
                continue
            path = directive.args[0]
            if "$" in path or has_unknown(path) or any(c in path for c in "*?["):
                continue  # a variable or a glob: the file cannot be known here
            kind = "tls" if name.startswith("tls-") else name
            at = directive.arg_spans[0] if directive.arg_spans else directive.span
            found = mounted_file(service, path)
            if found is None:
                if stock_image(service) and path.startswith("/"):
                    yield ctx.finding(
                        at,
                        f'{name} {path} of Redis service "{service.name}" is not mounted into the container: '
                        f"redis-server {_ABSENT[kind]}",
                        hint=f"Mount the file at {path} (read-only), or point {name} at a mounted path.",
                    )
                continue
            shown = found.mount.source if found.mount is not None and found.mount.source else str(found.host_path)
            where = f'{name} {found.container_path} of Redis service "{service.name}"'
            if found.state in ("missing", "folder"):
                if found.state == "missing":
                    what = f"the host file {shown} behind {where} does not exist: Docker mounts an empty folder there"
                else:
                    what = f"the host path {_relative(service, found.host_path)} behind {where} is a folder, not a file"
                yield ctx.finding(
                    found.node.span if found.node is not None else at,
                    f"{what}, and redis-server {_AS_FOLDER[kind]}",
                    hint=f"Create the host file, or fix the volume's source so that {found.container_path} is that file.",
                )
            elif found.state == "source-missing":
                yield ctx.finding(
                    found.node.span if found.node is not None else at,
                    f"the host folder {shown} mounted for {where} does not exist: Docker mounts an empty folder, "
                    f"the file is not there and redis-server {_ABSENT[kind]}",
                    hint="Create the host folder with the file in it, or fix the volume's source.",
                )


def _relative(service: Service, path: object) -> str:
    try:
        return "./" + str(Path(str(path)).relative_to(service.project.directory))
    except ValueError:
        return str(path)


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
            "redis-cli exits 0 whatever Redis answers: on LOADING, MISCONF (a failed save: every write is "
            "refused) and NOPERM replies the check passes, so it only detects refused connections",
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
    - no `-e` and no PONG check: redis-cli exits 0 on `LOADING`, `MISCONF` and `NOPERM`
      replies too, so the check only detects refused connections. A warning when another
      service waits for it (`depends_on: condition: service_healthy`), else info;
    - the password on the command line (`-a`, `--pass`, `-u`): info, prefer `REDISCLI_AUTH`.

    ## Why it matters
    `depends_on: condition: service_healthy` and orchestrators trust this check. A check that
    reports healthy while every command fails with NOAUTH lets workers start against a Redis
    they cannot use; one that can never pass blocks the whole stack. Seen with redis-cli 7.0
    and valkey-cli 8.1: `redis-cli ping` prints `LOADING Redis is loading the dataset in
    memory`, `MISCONF ...` or `NOPERM ...` and exits 0.

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
    waiting = _waiting_for_healthy(service)
    for probe in probes:
        for verdict in classify_probe(probe, auth):
            message, severity = verdict.message, verdict.severity
            if waiting and severity is Severity.INFO and not (probe.errors_exit or probe.output_checked):
                names = ", ".join(f'"{n}"' for n in waiting)
                message += f"; {names} {'waits' if len(waiting) == 1 else 'wait'} for service_healthy and start anyway"
                severity = Severity.WARNING
            finding = ctx.finding(
                probe.span,
                f'healthcheck of Redis service "{service.name}": {message}',
                hint=verdict.hint,
            )
            yield finding if severity is Severity.ERROR else with_severity(finding, severity)


def _waiting_for_healthy(service: Service) -> list[str]:
    """Services whose ``depends_on`` waits for this one to be healthy."""
    return sorted(
        other.name for other in service.project.services.values()
        if other is not service and any(
            dep.name == service.name and dep.condition == "service_healthy" for dep in other.depends_on.values())
    )


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
    contexts=PRODUCTION_ONLY,
)
def redis_secret_in_compose(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports Redis passwords written out in the Compose file: `--requirepass`/`--masterauth`
    flags of redis-server (also inside `VALKEY_EXTRA_FLAGS`, `REDIS_EXTRA_FLAGS` and
    `REDIS_ARGS`, which the images append to the command), `REDIS_PASSWORD`-like and
    `REDISCLI_AUTH` environment values, the
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
    for var_name in _FLAG_VARIABLES:
        var = service.environment.get(var_name)
        if var is None or var.origin != "environment" or not var.literal or not var.value:
            continue
        words = var.value.split()
        for index, word in enumerate(words[:-1]):
            if (word.lower() in ("--requirepass", "--masterauth") and "$" not in words[index + 1]
                    and not has_unknown(words[index + 1])):
                yield ctx.finding(
                    var.span,
                    f'service "{name}" passes {word} {mask(words[index + 1])} in {var_name}, written in the Compose file',
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
    if "$" in text or has_unknown(text):
        return True
    nodes = service.command_nodes
    part = getattr(word, "part", -1)
    node = nodes[part] if 0 <= part < len(nodes) else None
    return node is not None and "$" in node.raw and text not in node.raw
