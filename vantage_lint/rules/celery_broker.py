"""VL316-VL318: the broker a Celery service talks to, as a service of the same project."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import NamedTuple, TYPE_CHECKING
from urllib.parse import urlsplit

from vantage_lint.celery.command import Setting
from vantage_lint.compose.merge import pairs_as_map
from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode, child
from vantage_lint.compose.roles import command_written, written_text
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.context import RuleContext
from vantage_lint.edits import depends_on_healthy_edit, guard_fix, source_of
from vantage_lint.findings import Applicability, Finding, Fix, Severity, Span
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.celery_options import (
    visibility_timeout,
    celery_view,
    command_span,
    env_text,
    env_value_span,
    intended_limit,
    known,
    number,
    seconds,
    text_span,
)
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.compose.model import EnvVar, Service
    from vantage_lint.compose.project import Project

# Transports whose URL names a broker host (kombu's aliases for Redis and AMQP).
BROKER_SCHEMES = frozenset({"redis", "rediss", "sentinel", "amqp", "amqps", "pyamqp", "librabbitmq"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "sentinel"})
# Read by the celery library in any process, besides the command line's own names.
LIBRARY_BROKER_VARS = ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL")
VISIBILITY_TIMEOUT = 3600.0


class BrokerURL(NamedTuple):
    service: Service
    url: str            # one URL (a failover list is split on ";")
    host: str | None
    scheme: str
    setting: Setting    # where it came from (flag or variable)
    offset: int         # of ``url`` inside the setting's written value

    @property
    def shown(self) -> str:
        return redact(self.url)


def _split(text: str) -> list[tuple[str, int]]:
    result, offset = [], 0
    for piece in text.split(";"):
        stripped = piece.strip()
        if stripped:
            result.append((stripped, offset + piece.index(stripped)))
        offset += len(piece) + 1
    return result


def _parse(service: Service, setting: Setting, value: str) -> list[BrokerURL]:
    urls = []
    for url, offset in _split(value):
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            continue
        scheme = parts.scheme.lower()
        if scheme not in BROKER_SCHEMES:
            continue
        if host is not None and ("$" in host or "{" in host or "`" in host or has_unknown(host)):
            host = None     # set through a variable the file does not resolve
        urls.append(BrokerURL(service, url, host or None, scheme, setting, offset))
    return urls


def broker_urls(service: Service) -> list[BrokerURL]:
    """The broker URLs a service uses: the one the ``celery`` command takes (``-b``,
    ``BROKER_URL``, ``CELERY_BROKER``, ``CELERY_BROKER_URL``) and the read/write URLs the
    library reads. A service that runs no Celery command is read for ``CELERY_BROKER_URL``
    and friends (an app that publishes tasks)."""
    cached = service.__dict__.get("_broker_urls")
    if cached is not None:
        return cached
    view = celery_view(service)
    settings: list[Setting] = []
    main = view.get("broker") if view is not None else None
    if main is not None:
        settings.append(main)
    for name in LIBRARY_BROKER_VARS:
        if main is not None and name == "CELERY_BROKER_URL":
            continue
        var = service.environment.get(name)
        text = env_text(service, var) if var is not None else None
        if text:
            settings.append(Setting("broker", text, "env", name, -1, -1, -1))
    if not settings and view is not None:
        # Only when nothing in the file overrides it: CELERY_BROKER_URL and -b beat the app.
        from vantage_lint.celery.app_join import app_setting
        from vantage_lint.rules.celery_options import app_config

        config = app_config(view)
        found = config.get("broker_url") if config is not None else None
        app_broker = app_setting("broker", found) if found is not None else None
        if app_broker is not None and known(app_broker.value):
            settings.append(app_broker)
    urls: list[BrokerURL] = []
    for setting in settings:
        if isinstance(setting.value, str):
            urls.extend(_parse(service, setting, setting.value))
    service.__dict__["_broker_urls"] = urls
    return urls


def _label(setting: Setting) -> str:
    """The flag (``-b``, ``--broker``) or variable name a broker URL was given with."""
    if setting.source == "flag":
        return setting.written.split()[0].partition("=")[0]
    return setting.written


def host_span(url: BrokerURL) -> Span:
    """The URL's host where it is written (the whole setting when it cannot be traced)."""
    service, setting = url.service, url.setting
    host = url.host or ""
    if setting.source == "app" and setting.span is not None:
        return setting.span
    if setting.source == "flag":
        base = command_span(service, setting.part, setting.start, setting.end)
        written = command_written(service)
        if 0 <= setting.part < len(written) and host:
            text = written[setting.part].text
            index = text.lower().find(host, setting.start, setting.end)
            if index != -1:
                return command_span(service, setting.part, index, index + len(host))
        return base
    var = service.environment.get(setting.written)
    if var is None:
        return service.span_of("environment")
    return _env_host_span(service, var, url)


def _env_host_span(service: Service, var: EnvVar, url: BrokerURL) -> Span:
    node = var.node
    host = url.host or ""
    if node is None or node.value is None or not host:
        return env_value_span(service, var)
    env = getattr(service.project, "env", None) or {}
    written = written_text(node, env)
    index = written.text.lower().find(host, written.text.find(url.url) if url.url in written.text else 0)
    if index == -1:
        return env_value_span(service, var)
    return text_span(service, node, written, index, index + len(host))


def service_for_host(project: Project, host: str) -> Service | None:
    for other in project.services.values():
        if host in {name.lower() for name in other.host_names}:
            return other
    return None


def _rabbitmq(service: Service) -> bool:
    image = service.image
    return image is not None and image.name in ("rabbitmq", "rabbitmq-server")


def broker_service(service: Service) -> tuple[Service, str] | None:
    """The project service this Celery service uses as its broker, and how that is known.

    From its broker URL's host; without a broker URL in the file, the one Redis that other
    services use as a Celery broker (or the one RabbitMQ) when there is exactly one."""
    urls = broker_urls(service)
    for url in urls:
        if url.host is not None:
            target = service_for_host(service.project, url.host)
            if target is not None and target is not service:
                return target, f"{_label(url.setting)} {url.shown}"
    if urls:
        return None
    candidates = []
    for other in service.project.services.values():
        if other is service:
            continue
        if other.has_role("redis"):
            try:
                from vantage_lint.redis.clients import redis_role
            except ImportError:
                continue
            if redis_role(other) == "broker":
                candidates.append(other)
        elif _rabbitmq(other):
            candidates.append(other)
    if len(candidates) == 1:
        return candidates[0], "the project's only Celery broker"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _extra_names(service: Service) -> set[str]:
    """Names the service resolves besides the project's services: links aliases, external
    links and extra_hosts."""
    names: set[str] = set()
    for key in ("links", "external_links"):
        node = service.get(key)
        if isinstance(node, SeqNode):
            for item in node.items:
                if isinstance(item, ScalarNode):
                    names.update(part.lower() for part in item.text.split(":"))
    hosts = service.get("extra_hosts")
    if hosts is not None:
        names.update(name.lower() for name in pairs_as_map(hosts).items)
    return names


def _on_external_network(service: Service) -> bool:
    top = service.project.top("networks")
    if top is None:
        return False
    for name in service.networks:
        entry = top.items.get(name)
        external = child(entry, "external") if isinstance(entry, MapNode) else None
        if external is not None and not (isinstance(external, ScalarNode) and external.value in (False, "false")):
            return True
    return False


def _network_shared(service: Service) -> bool:
    mode = (service.text("network_mode") or "").strip()
    return mode == "host" or mode.startswith(("service:", "container:"))


def _runs_broker(service: Service) -> bool:
    return service.has_role("redis") or _rabbitmq(service)


# --- VL316 -----------------------------------------------------------------------------------
@rule(
    code="VL316",
    name="celery-broker-not-a-service",
    summary="A Celery broker URL names a host that no service of the project provides.",
    severity=Severity.WARNING,
    hint="Point the broker URL at the broker's service name (e.g. redis://redis:6379/0), or add that service.",
)
def celery_broker_not_a_service(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reads the broker URLs of every service (`-b/--broker`, `BROKER_URL`, `CELERY_BROKER`,
    `CELERY_BROKER_URL`, `CELERY_BROKER_READ_URL`/`_WRITE_URL`; Redis and AMQP URLs, each of
    a `;` failover list) and reports a single-label host that matches no service name,
    network alias, `hostname`, `container_name`, `links` alias or `extra_hosts` entry, and
    `localhost`, which inside a container is the container itself. Hosts with a dot (DNS
    names), IP addresses, variables the file does not resolve, services on an external
    network (where the broker may live), `network_mode: host`/`service:` and files found
    by a folder walk that look like fragments of a larger project pass.

    ## Why it matters
    Compose services reach each other by service name on their networks. A typo
    (`redis://rediss:6379`), a renamed service or a URL copied from a laptop
    (`redis://localhost:6379`) leaves the worker retrying a connection that can never
    succeed: it stays up, consumes nothing, and tasks pile up unprocessed.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        environment:
          CELERY_BROKER_URL: redis://localhost:6379/0
      redis:
        image: redis:7.2
    ```

    ## Fix
    `CELERY_BROKER_URL: redis://redis:6379/0`
    """
    urls = [u for u in broker_urls(service) if u.host is not None]
    if not urls or _network_shared(service):
        return
    project = service.project
    extra = _extra_names(service)
    external = _on_external_network(service)
    for url in urls:
        host = url.host
        assert host is not None
        where = _label(url.setting)
        if _loopback(host):
            if _runs_broker(service):
                continue
            brokers = [s.name for s in project.services.values() if _runs_broker(s) and s is not service]
            suggestion = f' (the broker service is "{brokers[0]}")' if len(brokers) == 1 else ""
            yield ctx.finding(
                host_span(url),
                f'service "{service.name}" connects to its broker at {host} ({where} {url.shown}): inside a container '
                f"{host} is the container itself, not the broker{suggestion}",
                hint=f"Use the broker's service name as the host, e.g. {url.scheme}://{brokers[0]}."
                if len(brokers) == 1 else None,
            )
            continue
        if "." in host or _is_ip(host) or external or host in extra or project.fragment:
            continue    # a DNS name, an address, or a name another network or file may provide
        if service_for_host(project, host) is not None:
            continue
        yield ctx.finding(
            host_span(url),
            f'service "{service.name}" uses broker host "{host}" ({where} {url.shown}), which no service, alias, '
            "hostname or container_name of this project provides: the connection cannot resolve",
        )


# --- VL317 -----------------------------------------------------------------------------------
def _waits_healthy(service: Service, broker: str) -> bool:
    """Waits for the broker to be healthy, or may: a condition the deployment supplies
    (``condition: ${COND}``) is no verdict either way."""
    dep = service.depends_on.get(broker)
    return dep is not None and (dep.condition == "service_healthy" or has_unknown(dep.condition))


def _wait_fix(service: Service, broker: Service) -> tuple[Fix | None, str]:
    """``depends_on: {broker: {condition: service_healthy}}``, written where depends_on is."""
    project = service.project
    node = service.get("depends_on")
    source = source_of(project, node if node is not None else service.node)
    if source is None:
        return None, ""
    edit, target = depends_on_healthy_edit(source, service.node, broker.name, {broker.name})
    if edit is None:
        return None, ""
    fix = Fix(f'Wait for "{broker.name}" with condition: service_healthy', (edit,), Applicability.UNSAFE)
    services = project.services

    def wants(name: str) -> bool:
        found = broker_service(services[name])
        return found is not None and found[0] is broker and not _waits_healthy(services[name], broker.name)

    return guard_fix(project, target, fix, wants)


@rule(
    code="VL317",
    name="celery-not-waiting-for-broker",
    summary="A Celery worker or beat does not wait for its broker to be healthy before it starts.",
    severity=Severity.WARNING,
    hint="Add depends_on: {<broker>: {condition: service_healthy}} and give the broker a healthcheck.",
    roles=("celery-worker", "celery-beat"),
    fix=Applicability.UNSAFE,
    contexts=PRODUCTION_ONLY,
)
def celery_not_waiting_for_broker(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Finds the service a worker or beat uses as its broker (the host of its broker URL, or,
    when the file shows no broker URL for it, the one Redis that other services use as a
    Celery broker) and reports when `depends_on` does not name it with
    `condition: service_healthy`.

    ## Why it matters
    Without it Compose starts the worker as soon as the broker's container exists, while
    Redis may still be loading its data set: the worker's first connections fail, it logs
    connection errors and retries (or exits when `broker_connection_retry_on_startup` is off),
    and beat may miss the tasks due meanwhile. `service_healthy` starts it only once the
    broker's healthcheck passes.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
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
    The fix makes startup wait for (and fail on) the broker's health, hence unsafe; it is
    offered only when the broker has a healthcheck (VL109).
    """
    found = broker_service(service)
    if found is None:
        return
    broker, how = found
    if _waits_healthy(service, broker.name):
        return
    dep = service.depends_on.get(broker.name)
    if dep is None:
        at = service.span_of("depends_on")
        state = "does not depend on it"
    else:
        condition = child(dep.node, "condition") if isinstance(dep.node, MapNode) else None
        at = condition.span if condition is not None else dep.span
        state = f"waits only for {dep.condition}" if not dep.short_form else "waits only for it to start (short form)"
        if dep.implicit:
            state = "waits only for it to start (an implicit dependency through links or service:)"
    role = "beat" if service.has_role("celery-beat") and not service.has_role("celery-worker") else "worker"
    message = (f'Celery {role} "{service.name}" uses "{broker.name}" as its broker ({how}) but {state}: it can start '
               "before the broker accepts connections")
    fix, note = (None, "")
    hint = None
    if broker.has_healthcheck:
        fix, note = _wait_fix(service, broker)
    else:
        message += f'; "{broker.name}" has no healthcheck to wait for'
        hint = (f'Give "{broker.name}" a healthcheck, then add depends_on: {{{broker.name}: '
                "{condition: service_healthy}} here.")
    yield ctx.finding(at, f"{message} ({note})" if note else message, fix=fix, hint=hint)


# --- VL318 -----------------------------------------------------------------------------------
def _redis_broker(service: Service) -> str | None:
    """How we know the broker is Redis (the URL, or the broker service), or None."""
    for url in broker_urls(service):
        if url.scheme in REDIS_SCHEMES:
            return url.shown
    if broker_urls(service):
        return None
    found = broker_service(service)
    if found is not None and found[0].has_role("redis"):
        return f'the Redis service "{found[0].name}"'
    return None


@rule(
    code="VL318",
    name="celery-time-limit-vs-visibility-timeout",
    summary="A hard time limit above the Redis visibility timeout (one hour unless the app raises it), after which tasks are redelivered.",
    severity=Severity.WARNING,
    hint="Raise visibility_timeout in broker_transport_options (and result_backend_transport_options) above the longest task, or keep the hard limit under 3600s.",
    roles=("celery-worker",),
)
def celery_time_limit_vs_visibility_timeout(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker whose hard time limit (`--time-limit`, `CELERY_WORKER_TIME_LIMIT`, or
    the intended `CELERY_TASK_TIME_LIMIT`, or the app's `task_time_limit`) is above the
    visibility timeout while its broker is Redis (a `redis://`, `rediss://` or `sentinel://`
    broker URL, or a Redis broker service). The timeout is the app's
    `broker_transport_options["visibility_timeout"]` when its code is in the project (VL327),
    else kombu's default of 3600 s; a timeout the app sets in a way the linter cannot follow
    silences the rule.

    ## Why it matters
    The Redis transport redelivers any message not acknowledged within the visibility
    timeout (kombu's default: 3600 s) to another worker, which runs it again. Tasks allowed
    to run longer than that are exactly the ones at risk: with `acks_late` a task still
    running after an hour starts a second time, and messages prefetched behind a long task
    wait unacknowledged and are redelivered (ETA/countdown tasks too). Verified with a
    real Redis: a 3 s visibility timeout ran a 10 s acks_late task 4 times.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --time-limit=7200 --soft-time-limit=7000
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
    ```

    ## Fix
    In the app: `broker_transport_options = {"visibility_timeout": 7500}` (and the same in
    `result_backend_transport_options`), or split the work into tasks under an hour.
    """
    view = celery_view(service)
    if view is None:
        return
    hard = intended_limit(view, soft=False)
    hard_s = number(hard.value) if hard is not None else None
    found = visibility_timeout(view)
    if hard is None or hard_s is None or found is None or hard_s <= found[0]:
        return
    broker = _redis_broker(service)
    if broker is None:
        return
    timeout, how, _where = found
    yield ctx.finding(
        view.span(hard),
        f'worker "{service.name}" lets tasks run up to {seconds(hard_s)} ({view.show(hard)}) with a Redis broker '
        f"({broker}): messages unacknowledged for longer than the visibility timeout ({how}) are delivered again, "
        "so long acks_late tasks and tasks reserved behind them run twice",
    )
