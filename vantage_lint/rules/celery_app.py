"""VL326: the Celery services of one app (same -A) talk to different brokers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from vantage_lint.compose.model import Service
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import rule
from vantage_lint.rules.celery_broker import BrokerURL, broker_urls, host_span
from vantage_lint.rules.celery_options import CELERY_ROLES, celery_view, known

_DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "pyamqp": 5672, "amqps": 5671}


def _app(service: Service) -> str | None:
    view = celery_view(service)
    setting = view.get("app") if view is not None else None
    if setting is None or not isinstance(setting.value, str) or not known(setting.value):
        return None
    return setting.value.strip()


def _broker(service: Service) -> tuple[tuple[str, str, int, str], BrokerURL] | None:
    """(transport family, host, port, database or vhost) of the service's first broker URL."""
    urls = broker_urls(service)
    if not urls or urls[0].host is None or not known(urls[0].url):
        return None
    url = urls[0]
    try:
        parts = urlsplit(url.url)
        port = parts.port or _DEFAULT_PORTS.get(url.scheme, 0)
    except ValueError:
        return None
    family = "redis" if url.scheme in ("redis", "rediss") else url.scheme
    if family == "redis":
        where = parts.path.strip("/") or "0"
    else:
        where = parts.path[1:] if parts.path.startswith("/") else "/"
    return (family, url.host.lower(), port, where), url


def _describe(key: tuple[str, str, int, str]) -> str:
    family, host, port, where = key
    return f"{host}:{port} database {where}" if family == "redis" else f"{host}:{port} vhost {where or '/'}"


@rule(
    code="VL326",
    name="celery-app-split-brokers",
    summary="Celery services of the same app (-A) use different brokers or Redis databases.",
    severity=Severity.ERROR,
    hint="Give every worker, beat and Flower of the app the same broker URL (one variable shared by all of them).",
    roles=CELERY_ROLES,
)
def celery_app_split_brokers(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Groups the project's Celery services (worker, beat, Flower, ...) by their app
    (`-A/--app`, `CELERY_APP`) and reports a service whose broker (host, port and Redis
    database number, or AMQP virtual host) differs from another service of the same app.
    Services whose broker or app comes from a variable the file does not resolve are skipped.

    ## Why it matters
    A Redis database number (or a vhost) is a separate broker: the queues of
    `redis://redis:6379/1` are invisible on `/0`. Beat then publishes to a broker no worker
    reads, so scheduled tasks pile up and never run; Flower watches a broker without workers
    and shows nothing; tasks the web app sends wait forever. Nothing fails: every process
    connects and looks healthy.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
      beat:
        image: myapp:1.4.2
        command: celery -A myapp beat
        environment:
          CELERY_BROKER_URL: redis://redis:6379/1
    ```

    ## Fix
    Use the same `CELERY_BROKER_URL` for both (e.g. from one `x-celery-env` anchor or `.env`).
    """
    app = _app(service)
    mine = _broker(service)
    if app is None or mine is None:
        return
    key, url = mine
    others = []
    for other in service.project.services.values():
        if other is service or _app(other) != app:
            continue
        theirs = _broker(other)
        if theirs is not None and theirs[0] != key:
            others.append(f'"{other.name}" ({_describe(theirs[0])})')
    if not others:
        return
    yield ctx.finding(
        host_span(url),
        f'service "{service.name}" of app {app} uses the broker {_describe(key)}, but {", ".join(others)} of the same '
        "app use another: tasks published on one are never consumed from the other, beat's schedule never runs and "
        "Flower sees no workers",
    )
