"""VL119: which services vantage-lint takes for one-shot jobs, and why."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.kind import KINDS, service_kind
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import rule

EXEMPT = "healthcheck, restart policy, resource limits and log rotation are not checked"


@rule(
    code="VL119",
    name="one-shot-job",
    summary="The service is taken for a one-shot job (and why), so the long-running checks skip it.",
    severity=Severity.INFO,
    hint="If it runs continuously, declare x-vantage: {kind: service}; to confirm, x-vantage: {kind: job}.",
)
def one_shot_job(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Says, as information, which services vantage-lint takes for one-shot jobs and the
    evidence it used, since those get no VL102, VL103, VL104, VL106, VL107 or VL118
    findings. The evidence, strongest first:

    1. `x-vantage: {kind: job}` or `{kind: service}` on the service: declared, never
       reported (a value other than `job` or `service` is reported as a warning);
    2. another service waits for it with `condition: service_completed_successfully`;
    3. `deploy.replicas: 0` (or `scale: 0`);
    4. all its `profiles` are tool profiles (`tools`, `cli`, `setup`, `migrate`, `debug`, ...);
    5. a command that runs once and exits (`manage.py migrate`, `alembic upgrade`,
       `createdb`, `chown -R`, `collectstatic`...) with no long-running program in it, and
       `restart` absent, `"no"` or `on-failure`.

    `restart: always`, `restart: unless-stopped` or `deploy.restart_policy.condition: any`
    keeps a service long-running whatever else it shows.

    ## Why it matters
    A migration or a bootstrap step exits by design: a healthcheck, a restart policy or log
    rotation would be noise on it, and a restart policy that restarts it would rerun it.
    Saying which services are taken for jobs lets a reviewer catch a wrong guess.

    ## Example
    ```yaml
    services:
      migrate:
        image: myapp:1.4.2
        command: python manage.py migrate
    ```

    ## Fix
    Nothing to fix when the guess is right (`x-vantage: {kind: job}` makes it explicit and
    silences this note). If the service runs continuously, declare
    `x-vantage: {kind: service}`.
    """
    x = service.x_vantage
    node = x.get("kind") if x is not None else None
    if node is not None:
        value = node.text.strip().lower() if isinstance(node, ScalarNode) else ""
        if value not in KINDS:
            finding = ctx.finding(
                node,
                f'service "{service.name}": x-vantage kind must be "job" or "service", not '
                f'"{node.text if isinstance(node, ScalarNode) else "a " + type(node).__name__}"; it is ignored',
                hint="Write x-vantage: {kind: job} for a one-shot job or {kind: service} for a long-running one.",
            )
            finding.severity = Severity.WARNING
            finding.explicit_severity = True
            yield finding
            return
    kind = service_kind(service)
    if not kind.job or kind.declared:
        return
    yield ctx.finding(
        kind.at or service.key_span,
        f'service "{service.name}" is taken for a one-shot job ({kind.evidence}); {EXEMPT}',
    )
