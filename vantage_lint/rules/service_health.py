"""VL104, VL105, VL108, VL109: healthchecks and what waits on them.

Also home of two helpers the other service rules share: which services run once
(:func:`is_one_shot`) and which images are known to ship (or to lack) a HEALTHCHECK.
"""

from __future__ import annotations

import re

from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from typing import Any

from vantage_lint.compose.kind import service_kind
from vantage_lint.compose.model import ImageRef, Service
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, child
from vantage_lint.compose.units import compose_duration
from vantage_lint.context import RuleContext
from vantage_lint.edits import depends_on_healthy_edit, guard_fix, source_of
from vantage_lint.findings import Applicability, Finding, Fix, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.images.facts import DECLARED, NONE, UNKNOWN, image_healthcheck, reason_depends

# Images whose Dockerfile declares a HEALTHCHECK (checked in their published Dockerfiles):
# GitLab's omnibus images, Mailu's images, mailcow's unbound and docker-library/healthcheck's.
# Official Docker Library images (redis, postgres, ...) declare none.
DEFAULT_IMAGES_WITH_HEALTHCHECK = [
    "gitlab/gitlab-ce", "gitlab/gitlab-ee", "mailu/*", "mailcow/unbound", "healthcheck/*",
]

IMAGES_OPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "images-with-healthcheck": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Image repositories (globs, without tag) known to declare a HEALTHCHECK.",
        }
    },
    "additionalProperties": False,
}

_DOCKER_HUB = (None, "docker.io", "index.docker.io", "registry-1.docker.io")
# Docker's own defaults for a healthcheck field that is absent or zero.
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0


# --- shared helpers --------------------------------------------------------------------------
def image_matches(image: ImageRef, patterns: Iterable[str]) -> bool:
    """True when the image's repository (with or without registry/``library/``) matches a glob."""
    repo = image.repository
    candidates = {repo, repo.removeprefix("library/"), image.name}
    if image.registry:
        candidates.add(f"{image.registry.lower()}/{repo}")
    return any(fnmatchcase(c, p.strip().lower()) for p in patterns for c in candidates)


def is_official_image(image: ImageRef | None) -> bool:
    """A Docker Library image (``redis``, ``docker.io/library/postgres``): these ship no HEALTHCHECK."""
    if image is None or image.registry not in _DOCKER_HUB:
        return False
    return "/" not in image.repository or image.repository.startswith("library/")


def is_one_shot(service: Service) -> bool:
    """A one-shot job rather than a long-running service (the model decides, from evidence)."""
    return service_kind(service).job


def image_healthcheck_known(service: Service, patterns: Iterable[str]) -> bool:
    """The service's image declares a HEALTHCHECK: listed in the option, or known from the
    image table or the service's Dockerfile."""
    image = service.image
    if image is not None and service.get("build") is None and image_matches(image, patterns):
        return True
    return image_healthcheck(service).state == DECLARED


def _patterns(ctx: RuleContext) -> list[str]:
    value = ctx.options.get("images-with-healthcheck", DEFAULT_IMAGES_WITH_HEALTHCHECK)
    return [str(p) for p in value] if isinstance(value, list) else []


def _disabled_at(service: Service) -> Node:
    check = service.healthcheck
    assert check is not None
    disable = check.get("disable")
    if isinstance(disable, ScalarNode) and disable.value in (True, "true"):
        return disable
    return check.get("test") or check


def _role_hint(service: Service) -> str | None:
    if service.has_role("redis"):
        return ('Add a healthcheck, e.g. test: ["CMD-SHELL", "redis-cli ping | grep PONG"] '
                "(add credentials through REDISCLI_AUTH when Redis requires auth).")
    if service.has_role("celery-worker"):
        return ('Add a healthcheck that probes this worker, e.g. test: ["CMD-SHELL", '
                '"celery -A app inspect ping -d celery@$$HOSTNAME"] with timeout: 10s.')
    return None


# --- VL104 -----------------------------------------------------------------------------------
@rule(
    code="VL104",
    name="missing-healthcheck",
    summary="A long-running service has no healthcheck, or disables the image's.",
    severity=Severity.WARNING,
    hint="Add a healthcheck: with a test that fails when the service cannot do its work.",
    options_schema=IMAGES_OPTION_SCHEMA,
    default_options={"images-with-healthcheck": DEFAULT_IMAGES_WITH_HEALTHCHECK},
    contexts=PRODUCTION_ONLY,
    summarised="have no healthcheck, and their images declare none",
)
def missing_healthcheck(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a long-running service without a `healthcheck:` whose image is known to declare
    no HEALTHCHECK, and a healthcheck switched off with `disable: true` or `test: ["NONE"]`.
    What the image declares comes from the table of known images shipped with vantage-lint
    (the official `redis`, `postgres`, ... declare none) and, for a `build:` service, from its
    Dockerfile (`HEALTHCHECK` in the built stage, the stages it builds on, or its base image).
    A `healthcheck:` block without `test` keeps the image's own test and passes. Images listed
    in the option `images-with-healthcheck` (repository globs; default: GitLab's omnibus
    images, `mailu/*`, `mailcow/unbound`, `healthcheck/*`) pass without one. When the image
    cannot be judged (not known, Dockerfile unreadable) VL118 says so at info instead.

    One-shot jobs (see "service kinds" in the README: `x-vantage: {kind: job}`, a service
    waited on with `condition: service_completed_successfully`, `deploy.replicas: 0`, a tool
    profile, a migration command with no restart policy) are exempt: they exit by design.

    In the recommended preset the services of one file that have no healthcheck are reported
    once, at info, in one finding naming them; a healthcheck switched off in the file is
    reported on its own, as a warning. The production preset reports every service.

    ## Why it matters
    Without a healthcheck Docker only knows whether the process exists: a hung worker or a
    Redis that refuses connections still shows as "running", and `depends_on` with
    `condition: service_healthy` cannot wait for it.

    ## Example
    ```yaml
    services:
      api:
        image: myapp:1.4.2
        restart: unless-stopped
    ```

    ## Fix
    Add a healthcheck that exercises the service, e.g.
    `test: ["CMD", "curl", "-f", "http://localhost:8000/health"]`.
    """
    if is_one_shot(service):
        return
    check = service.healthcheck
    if check is not None:
        if service.healthcheck_disabled:
            node = _disabled_at(service)
            how = "disable: true" if node is check.get("disable") else 'test: ["NONE"]'
            yield ctx.finding(
                node,
                f'service "{service.name}" disables its healthcheck ({how}): Docker cannot tell whether it works',
                hint=_role_hint(service) or "Remove the override and define a healthcheck test.",
                severity=Severity.WARNING,  # written in this file: reported on its own, never summarised
            )
        return
    if image_healthcheck_known(service, _patterns(ctx)):
        return
    fact = image_healthcheck(service)
    if fact.state != NONE:
        return  # unknown: VL118 says so
    yield ctx.finding(
        service.span_of("healthcheck"),
        f'service "{service.name}" has no healthcheck and {fact.reason}: a hung or broken process still '
        "counts as running",
        hint=_role_hint(service),
    )


@rule(
    code="VL118",
    name="healthcheck-unknown",
    summary="No healthcheck in the Compose file and vantage-lint cannot tell whether the image declares one.",
    severity=Severity.INFO,
    hint="Add a healthcheck: to the service (or HEALTHCHECK to its Dockerfile) so its state is visible.",
    options_schema=IMAGES_OPTION_SCHEMA,
    default_options={"images-with-healthcheck": DEFAULT_IMAGES_WITH_HEALTHCHECK},
    summarised="have no healthcheck, and vantage-lint cannot tell whether their images declare one",
)
def healthcheck_unknown(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports, as information, a long-running service without a `healthcheck:` whose image
    vantage-lint cannot judge: the image is not in its table of known images (nor in the
    option `images-with-healthcheck`), or its Dockerfile cannot be read, or the Dockerfile
    builds on an image vantage-lint does not know. VL104 reports the services it knows lack a
    healthcheck; this rule says what its silence means for the others. In the recommended preset
    the services of one file are named in one finding. One-shot jobs are
    not reported.

    ## Why it matters
    Without a healthcheck Docker only knows whether the process exists, and
    `condition: service_healthy` cannot wait for it. A HEALTHCHECK declared in an image is
    invisible in the Compose file, so a reviewer cannot tell either.

    ## Example
    ```yaml
    services:
      api:
        image: registry.example.com/api:1.4.2
        restart: unless-stopped
    ```

    ## Fix
    Add a `healthcheck:` with a test that exercises the service, or list the image in
    `images-with-healthcheck` when it declares one.
    """
    if is_one_shot(service) or service.healthcheck is not None:
        return
    if image_healthcheck_known(service, _patterns(ctx)):
        return
    fact = image_healthcheck(service)
    if fact.state != UNKNOWN:
        return
    yield ctx.finding(
        service.span_of("healthcheck"),
        f'service "{service.name}" has no healthcheck in the Compose file, and vantage-lint cannot tell whether '
        f"its image declares one: {fact.reason}",
        hint=_role_hint(service),
        depends_on=reason_depends(service, fact.reason),
    )


# --- VL105 -----------------------------------------------------------------------------------
def _duration_of(node: Node | None) -> tuple[float | None, bool]:
    """(seconds, usable): absent → (None, True); unparsable → (None, False)."""
    if node is None:
        return None, True
    if not isinstance(node, ScalarNode):
        return None, False
    seconds = compose_duration(node.value)
    return seconds, seconds is not None


def _show(seconds: float) -> str:
    if seconds >= 1 and seconds == int(seconds):
        whole = int(seconds)
        minutes, secs = divmod(whole, 60)
        return f"{minutes}m{secs}s" if minutes and secs else f"{minutes}m" if minutes else f"{secs}s"
    return f"{seconds * 1000:g}ms"


@rule(
    code="VL105",
    name="healthcheck-timing",
    summary="Healthcheck timing that defeats the check: timeout not below interval, retries below 1, "
            "interval under 1s.",
    severity=Severity.WARNING,
    hint="Keep timeout well below interval (e.g. interval: 30s, timeout: 10s), retries >= 1 and interval >= 1s.",
)
def healthcheck_timing(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reads `interval`, `timeout` and `retries` of the service's healthcheck with Compose's
    duration syntax (`1m30s`, `500ms`) and Docker's defaults for absent or zero values
    (interval 30s, timeout 30s, retries 3), and reports:

    - `timeout` not shorter than `interval`, when at least one of them is written (an
      `interval: 10s` without `timeout` gets the default 30s timeout), as information: it
      slows the detection of a hang, the check still works;
    - `retries` below 1 (Docker ignores it and uses 3);
    - an `interval` under one second.

    ## Why it matters
    Docker runs one probe at a time and kills a hanging probe only after `timeout`. When the
    timeout is as long as the interval, a hung check holds the next one back and failure
    detection takes `retries × (interval + timeout)`. A sub-second interval runs the probe
    (a process inside the container) several times a second.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        healthcheck:
          test: ["CMD-SHELL", "redis-cli ping | grep PONG"]
          interval: 10s
    ```

    ## Fix
    Set an explicit timeout below the interval (`interval: 10s`, `timeout: 5s`), `retries: 3`
    or more, and an interval of at least one second.
    """
    check = service.healthcheck
    if check is None or service.healthcheck_disabled:
        return
    interval_node, timeout_node = check.get("interval"), check.get("timeout")
    interval, interval_ok = _duration_of(interval_node)
    timeout, timeout_ok = _duration_of(timeout_node)
    name = service.name
    if interval_node is not None and interval is not None and 0 < interval < 1:
        yield ctx.finding(
            interval_node,
            f'service "{name}": healthcheck interval {_show(interval)} is under 1s, so the probe runs '
            "several times a second",
            hint="Use an interval of at least 1s (30s is Docker's default).",
        )
    if interval_ok and timeout_ok and (interval_node is not None or timeout_node is not None):
        interval_eff = interval or DEFAULT_INTERVAL
        timeout_eff = timeout or DEFAULT_TIMEOUT
        if timeout_eff >= interval_eff:
            if timeout_node is None:
                at: Node = interval_node  # type: ignore[assignment]
                message = (f'service "{name}": healthcheck interval {_show(interval_eff)} without a timeout: '
                           f"the default timeout of {_show(timeout_eff)} is not shorter than the interval")
            elif interval_node is None:
                at = timeout_node
                message = (f'service "{name}": healthcheck timeout {_show(timeout_eff)} is not shorter than '
                           f"the default interval of {_show(interval_eff)}")
            else:
                at = timeout_node
                message = (f'service "{name}": healthcheck timeout {_show(timeout_eff)} is not shorter than '
                           f"interval {_show(interval_eff)}")
            # Slower detection of a hang, not a check that fails to work: information.
            yield ctx.finding(at, message + ": a hung probe delays the next one", severity=Severity.INFO)
    retries_node = check.get("retries")
    if isinstance(retries_node, ScalarNode):
        try:
            retries = int(retries_node.text)
        except ValueError:
            retries = None
        if retries is not None and retries < 1:
            yield ctx.finding(
                retries_node,
                f'service "{name}": healthcheck retries {retries} is below 1; Docker ignores it and uses 3',
                hint="Set retries: 3 or more (the number of failed probes in a row before unhealthy).",
            )


# --- VL108 / VL109 ---------------------------------------------------------------------------
def _condition_node(dep_node: Node) -> Node | None:
    return child(dep_node, "condition") if isinstance(dep_node, MapNode) else None


@rule(
    code="VL108",
    name="depends-on-not-healthy",
    summary="depends_on only waits for a container to start although the dependency has a healthcheck.",
    severity=Severity.WARNING,
    hint="Use the long form with condition: service_healthy so the service starts once its dependency is ready.",
    fix=Applicability.UNSAFE,
    options_schema=IMAGES_OPTION_SCHEMA,
    default_options={"images-with-healthcheck": DEFAULT_IMAGES_WITH_HEALTHCHECK},
)
def depends_on_not_healthy(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a `depends_on` entry in the short form (a list of names) or with
    `condition: service_started` when the dependency defines a healthcheck (in the Compose
    file, or by an image listed in `images-with-healthcheck`). The short form is a warning:
    it is what the user gets without thinking about readiness. `condition: service_started`
    written out is information: someone chose it, perhaps because the service retries its
    connections or the dependency takes minutes to become healthy. The short form is also
    information when nothing shows that the dependant connects to the dependency at start:
    its environment and command name no host of it (`DATABASE_URL=postgres://db/app`,
    `API_HOST=api`), and the dependency runs no database, broker or search engine image.

    ## Why it matters
    `service_started` only waits for the dependency's container to exist. Redis may still be
    loading its dataset and a database may still be initialising, so the dependant's first
    connections fail; the healthcheck that would tell Compose when it is ready goes unused.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        depends_on: [redis]
      redis:
        image: redis:7.2
        healthcheck:
          test: ["CMD-SHELL", "redis-cli ping | grep PONG"]
    ```

    ## Fix
    ```yaml
        depends_on:
          redis:
            condition: service_healthy
    ```
    The change makes startup wait (and fail if the dependency never becomes healthy), hence
    an unsafe fix.
    """
    patterns = _patterns(ctx)
    for dep in service.depends_on.values():
        target = service.project.services.get(dep.name)
        if target is None or dep.condition != "service_started":
            continue
        if not (target.has_healthcheck or (target.healthcheck is None and image_healthcheck_known(target, patterns))):
            continue
        if dep.short_form:
            how = "in the short form"
            at: Any = dep.node
        else:
            condition = _condition_node(dep.node)
            how = "with condition: service_started" if condition is not None else "without a condition"
            at = condition if condition is not None else dep.key_span
        message = (f'service "{service.name}" depends on "{dep.name}" {how}, which only waits for the container to '
                   f'start although "{dep.name}" has a healthcheck')
        fix, note = _healthy_fix(service, dep, patterns)
        message = f"{message} ({note})" if note else message
        if how == "with condition: service_started":
            # Written out, so chosen: a service that retries on its own may start early on purpose.
            yield ctx.finding(at, message + " (written explicitly, so perhaps on purpose)", fix=fix,
                              severity=Severity.INFO)
        elif not connects_at_start(service, target):
            # Ordering between application services: nothing shows the dependant needs it ready.
            yield ctx.finding(at, message + f' (nothing in "{service.name}" names "{dep.name}" as a host to connect '
                              "to, and it is not a database or broker: perhaps only ordering)", fix=fix,
                              severity=Severity.INFO)
        else:
            yield ctx.finding(at, message, fix=fix)


# Images of data services: whoever depends on one connects to it as soon as it starts.
_DATA_IMAGES = frozenset({"postgres", "postgis", "mysql", "mariadb", "redis", "valkey", "keydb", "redis-stack",
                          "rabbitmq", "mongo", "elasticsearch", "opensearch", "minio", "memcached", "kafka",
                          "zookeeper", "cassandra", "clickhouse-server", "nats", "etcd", "timescaledb"})
_HOST_SPLIT = re.compile(r"[^A-Za-z0-9_.-]+")


def connects_at_start(service: Service, target: Service) -> bool:
    """Evidence that ``service`` connects to ``target`` when it starts: a data-service image, or
    one of ``target``'s host names as a word of ``service``'s environment values or command."""
    image = target.image
    if image is not None and image.repository.rsplit("/", 1)[-1] in _DATA_IMAGES:
        return True
    if target.has_role("redis"):
        return True
    names = {n.lower() for n in target.host_names}
    texts = [v.value for v in service.environment.values() if v.value] + [w.text for w in service.command_words]
    return any(word.lower() in names for text in texts for word in _HOST_SPLIT.split(text))


def _waits_unhealthy(service: Service, patterns: list[str]) -> list[str]:
    """The dependencies VL108 reports for ``service`` (names, in order)."""
    names = []
    for dep in service.depends_on.values():
        target = service.project.services.get(dep.name)
        if target is None or dep.condition != "service_started":
            continue
        if target.has_healthcheck or (target.healthcheck is None and image_healthcheck_known(target, patterns)):
            names.append(dep.name)
    return names


def _healthy_fix(service: Service, dep: Any, patterns: list[str]) -> tuple[Fix | None, str]:
    """``condition: service_healthy`` for ``dep``, written where depends_on is written.

    The short form becomes the long form: every reported dependency waits for
    ``service_healthy``, the others keep ``service_started`` (what the short form meant)."""
    project = service.project
    node = service.get("depends_on")
    if node is None:
        return None, ""
    source = source_of(project, node)
    if source is None:
        return None, ""
    flagged = set(_waits_unhealthy(service, patterns))
    edit, target = depends_on_healthy_edit(source, service.node, dep.name, flagged)
    if edit is None:
        return None, ""
    fix = Fix(f'Wait for "{dep.name}" with condition: service_healthy', (edit,), Applicability.UNSAFE)
    services = project.services

    def wants(name: str) -> bool:
        return dep.name in _waits_unhealthy(services[name], patterns)

    return guard_fix(project, target, fix, wants)


@rule(
    code="VL109",
    name="depends-on-missing-healthcheck",
    summary="condition: service_healthy names a service without a healthcheck; docker compose up fails.",
    severity=Severity.ERROR,
    hint="Add a healthcheck to the dependency, or wait with condition: service_started.",
    options_schema=IMAGES_OPTION_SCHEMA,
    default_options={"images-with-healthcheck": DEFAULT_IMAGES_WITH_HEALTHCHECK},
)
def depends_on_missing_healthcheck(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `condition: service_healthy` on a dependency that has no healthcheck: none in the
    Compose file, or one switched off (`disable: true`, `test: ["NONE"]`). Image HEALTHCHECKs
    are not visible in the Compose file, so:

    - an official Docker Library image (`redis`, `postgres`, ...), which declares none, or a
      disabled healthcheck: error;
    - an image listed in `images-with-healthcheck`: passes;
    - any other image or a `build:`: information, since the image may declare one (an author
      who wrote `service_healthy` and saw the stack start most likely has one that does);
    - `required: false` on the dependency: warning (Compose then only warns).

    ## Why it matters
    `docker compose up` stops with `dependency failed to start: container <name> has no
    healthcheck configured`. The official redis image has no HEALTHCHECK, so
    `service_healthy` on Redis needs a healthcheck in the Compose file.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        depends_on:
          redis:
            condition: service_healthy
      redis:
        image: redis:7.2
    ```

    ## Fix
    Add a healthcheck to the dependency (for Redis:
    `test: ["CMD-SHELL", "redis-cli ping | grep PONG"]`), or use `service_started`.
    """
    patterns = _patterns(ctx)
    for dep in service.depends_on.values():
        target = service.project.services.get(dep.name)
        if target is None or dep.condition != "service_healthy" or target.has_healthcheck:
            continue
        condition = _condition_node(dep.node)
        at: Any = condition if condition is not None else dep.key_span
        image = target.image
        built = target.get("build") is not None
        if image is None and not built:
            continue  # an incomplete service (completed by another -f file); nothing to judge
        severity = Severity.ERROR
        failure = 'docker compose up fails with "has no healthcheck configured"'
        fact = image_healthcheck(target)
        if target.healthcheck_disabled:
            reason = f'"{dep.name}" disables its healthcheck'
        elif target.healthcheck is not None:
            # A healthcheck block without test keeps the image's test.
            if fact.state != NONE and not (not built and image is not None and is_official_image(image)):
                continue
            reason = f'"{dep.name}" sets healthcheck options but no test, and {fact.reason}' if fact.state == NONE \
                else f'"{dep.name}" sets healthcheck options but no test, and image {image.raw} declares none'
        elif image_healthcheck_known(target, patterns):
            continue
        elif fact.state == NONE:
            reason = f'"{dep.name}" has no healthcheck and {fact.reason}'
        elif not built and image is not None and is_official_image(image):
            reason = f'"{dep.name}" has no healthcheck and the official image {image.raw} declares none'
        else:
            what = "its build" if built else f"image {image.raw}"
            reason = f'"{dep.name}" has no healthcheck in the Compose file'
            failure = f"unless {what} declares a HEALTHCHECK, {failure}"
            severity = Severity.INFO
        if not dep.required:
            severity = Severity.WARNING
            failure = 'with required: false Compose warns "has no healthcheck configured" and starts it anyway'
        finding = ctx.finding(
            at, f'service "{service.name}" waits for "{dep.name}" to be healthy, but {reason}: {failure}'
        )
        if severity != Severity.ERROR:
            finding.severity = severity
            finding.explicit_severity = True
        yield finding
