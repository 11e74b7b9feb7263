"""VL321: broker and result backend URLs that kombu or Celery refuse, or that skip TLS checks."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from vantage_lint.celery.command import Setting
from vantage_lint.compose.model import Service
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import rule
from vantage_lint.rules.celery_broker import BrokerURL, broker_urls
from vantage_lint.rules.celery_options import celery_view, command_span, env_value_span, known

# What kombu's Connection accepts from a URL's query (parse_url hands every key to it as a
# keyword): the ssl_* keys and these; any other key is a TypeError when the worker connects.
_KOMBU_QUERY = frozenset({"connect_timeout", "heartbeat", "login_method", "insist", "ssl", "credential_provider"})


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    finding.severity = severity
    finding.explicit_severity = True
    return finding


def _span(service: Service, setting: Setting) -> Span:
    if setting.source == "flag":
        return command_span(service, setting.part, setting.start, setting.end)
    var = service.environment.get(setting.written)
    return env_value_span(service, var) if var is not None else service.span_of("environment")


def _query(url: str) -> list[str] | None:
    try:
        return [key for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    except ValueError:
        return None


def _backend(service: Service) -> tuple[str, Setting] | None:
    view = celery_view(service)
    setting = view.get("result-backend") if view is not None else None
    if setting is None:
        var = service.environment.get("CELERY_RESULT_BACKEND")
        if var is None or not isinstance(var.value, str):
            return None
        setting = Setting("result-backend", var.value, "env", "CELERY_RESULT_BACKEND", -1, -1, -1)
    value = setting.value
    return (value.strip(), setting) if isinstance(value, str) and known(value) else None


def _label(setting: Setting) -> str:
    return setting.written.split()[0].partition("=")[0] if setting.source == "flag" else setting.written


@rule(
    code="VL321",
    name="celery-url-options",
    summary="A broker URL with a query parameter kombu refuses, or a rediss:// URL without ssl_cert_reqs.",
    severity=Severity.ERROR,
    hint="Move transport settings (visibility_timeout ...) to broker_transport_options in the app, and add "
         "?ssl_cert_reqs=required to rediss:// URLs.",
    scope="service",
)
def celery_url_options(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reads the broker URLs of every service (`-b`, `CELERY_BROKER_URL` and the other
    variables Celery reads) and its result backend URL (`--result-backend`,
    `CELERY_RESULT_BACKEND`), and reports:
    - a broker URL query parameter other than kombu's own (`ssl_*`, `connect_timeout`,
      `heartbeat`, `login_method`, `insist`, `ssl`, `credential_provider`), such as the common
      `?visibility_timeout=7200` (error);
    - a `rediss://` result backend without `ssl_cert_reqs` (error);
    - a `rediss://` broker without `ssl_cert_reqs` (warning).

    ## Why it matters
    kombu passes every query key of a broker URL to its `Connection` as a keyword, so
    `redis://redis:6379/0?visibility_timeout=7200` fails with `TypeError: unexpected keyword
    argument 'visibility_timeout'` as soon as the worker (or the web app publishing a task)
    connects: the setting belongs in `broker_transport_options`. Celery's Redis result
    backend refuses a `rediss://` URL without `ssl_cert_reqs` (`ValueError` when the backend
    is created), while kombu accepts a `rediss://` broker without it and silently uses
    `CERT_NONE`: TLS without any certificate check, open to a man in the middle. All three
    were checked with Celery and kombu 5.7.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0?visibility_timeout=7200
          CELERY_RESULT_BACKEND: rediss://redis:6380/1
    ```

    ## Fix
    `CELERY_BROKER_URL: redis://redis:6379/0` with `broker_transport_options =
    {"visibility_timeout": 7200}` in the app, and
    `CELERY_RESULT_BACKEND: rediss://redis:6380/1?ssl_cert_reqs=required`.
    """
    url: BrokerURL
    for url in broker_urls(service):
        if not known(url.url) or url.scheme not in ("redis", "rediss", "sentinel", "amqp", "amqps", "pyamqp"):
            continue
        keys = _query(url.url)
        if keys is None:
            continue
        where = f'{_label(url.setting)} of service "{service.name}"'
        refused = [k for k in keys if not k.startswith("ssl_") and k not in _KOMBU_QUERY]
        if refused:
            shown = ", ".join(f"?{k}=" for k in refused)
            yield ctx.finding(
                _span(service, url.setting),
                f"{where}: kombu does not accept the URL parameter {shown}; connecting fails with "
                f"TypeError (unexpected keyword argument '{refused[0]}')",
                hint=f"Remove {shown} from the URL and set it in the app's broker_transport_options "
                     f"(e.g. broker_transport_options = {{'{refused[0]}': ...}}).",
            )
        if url.scheme == "rediss" and "ssl_cert_reqs" not in keys:
            yield _with_severity(ctx.finding(
                _span(service, url.setting),
                f"{where}: a rediss:// broker URL without ssl_cert_reqs makes kombu use CERT_NONE: TLS without "
                "any certificate check",
                hint="Add ?ssl_cert_reqs=required (and ssl_ca_certs=/path/ca.crt for a private CA).",
            ), Severity.WARNING)
    backend = _backend(service)
    if backend is None:
        return
    text, setting = backend
    keys = _query(text)
    if text.lower().startswith("rediss://") and keys is not None and "ssl_cert_reqs" not in keys:
        yield ctx.finding(
            _span(service, setting),
            f'{_label(setting)} of service "{service.name}": Celery refuses a rediss:// result backend without '
            "ssl_cert_reqs (ValueError: A rediss:// URL must have parameter ssl_cert_reqs) when the app starts",
            hint="Add ?ssl_cert_reqs=required to the result backend URL.",
        )
