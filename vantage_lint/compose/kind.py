"""Whether a service is long-running or a one-shot job, decided from evidence in the file.

A job (a migration, a bootstrap step, a permission fixer, a tool behind a profile) runs once
and exits: a healthcheck, a restart policy, limits and log rotation do not apply to it. The
evidence, strongest first:

1. ``x-vantage: {kind: job}`` or ``{kind: service}`` on the service (declared; always wins);
2. another service waits for it with ``condition: service_completed_successfully``;
3. ``deploy.replicas: 0`` (or ``scale: 0``): Compose creates no container unless asked;
4. only under a tool-like profile (``tools``, ``cli``, ``setup``, ``migrate``, ...);
5. a command that ends (a migration, ``createdb``, ``chown -R``...) with ``restart`` absent,
   ``"no"`` or ``on-failure``;
6. ``restart: "no"`` written out on a service named for a one-shot step (``migrator``,
   ``setup_or_upgrade``, ``db-init``): the name says what the command, often an image's own
   script, does.

A restart policy that restarts after a clean exit (``always``, ``unless-stopped``,
``deploy.restart_policy.condition: any``) means the author meant it to run on: evidence 2 to 5
then do not make it a job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vantage_lint.compose.nodes import ScalarNode, SeqNode
from vantage_lint.findings import Span

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service

JOB, SERVICE = "job", "service"
KINDS = (JOB, SERVICE)

# Profiles that hold tools run by hand (`docker compose --profile tools run ...`).
TOOL_PROFILES = frozenset({
    "tools", "tool", "cli", "setup", "init", "migrate", "migrations", "migration", "manual", "admin",
    "backup", "restore", "seed", "debug", "test", "tests", "oneshot", "one-shot", "jobs", "job", "utils",
    "maintenance", "bootstrap",
})

# Words that make a command one that runs once and exits.
_ONE_SHOT_WORDS = frozenset({
    "migrate", "migrations", "makemigrations", "upgrade", "createdb", "create-db", "create_db",
    "createsuperuser", "collectstatic", "loaddata", "bootstrap", "chown", "chmod", "setfacl",
    "mc", "createbuckets", "create-buckets", "init-db", "initdb", "init_db", "db-init", "seed", "setup-db",
})
# Programs whose subcommand words ("upgrade", "migrate") mean a schema migration.
_MIGRATION_TOOLS = frozenset({"alembic", "flask", "manage.py", "django-admin", "prisma", "knex", "sequelize",
                              "rails", "rake", "goose", "migrate", "diesel", "flyway", "liquibase", "atlas"})
_LONG_RUNNING = frozenset({"celery", "redis-server", "valkey-server", "gunicorn", "uvicorn", "daphne",
                           "nginx", "postgres", "mysqld", "mariadbd", "mongod", "rabbitmq-server", "supervisord",
                           "hypercorn", "uwsgi", "flower", "runserver", "sleep", "tail", "serve", "start"})
_WORD = re.compile(r"[A-Za-z0-9_.:-]+")
# Words of a service name (split at - _ .) that name a one-shot step.
_JOB_NAME_WORDS = frozenset({"migrate", "migrator", "migration", "migrations", "setup", "upgrade", "init",
                             "bootstrap", "seed", "createbuckets", "provision", "installer"})
_NAME_SPLIT = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class Kind:
    kind: str          # JOB or SERVICE
    evidence: str      # what decided it, for messages ("" for an undeclared long-running service)
    declared: bool = False
    at: Span | None = None   # where the evidence is written

    @property
    def job(self) -> bool:
        return self.kind == JOB


def service_kind(service: Service) -> Kind:
    """The service's kind (cached on the service)."""
    cached = service.__dict__.get("_kind")
    if cached is None:
        cached = _decide(service)
        service.__dict__["_kind"] = cached
    return cached


def declared_kind(service: Service) -> str | None:
    x = service.x_vantage
    node = x.get("kind") if x is not None else None
    if isinstance(node, ScalarNode) and node.text.strip().lower() in KINDS:
        return node.text.strip().lower()
    return None


def restarts_after_success(service: Service) -> bool:
    """A restart policy that restarts the container after a clean exit too."""
    restart = (service.restart or "").strip().lower()
    if restart in ("always", "unless-stopped"):
        return True
    condition = service.text("deploy", "restart_policy", "condition")
    return condition is not None and condition.strip().lower() == "any"


def _decide(service: Service) -> Kind:
    declared = declared_kind(service)
    if declared is not None:
        return Kind(declared, f"x-vantage kind: {declared}", declared=True, at=service.value_span("x-vantage", "kind"))
    if restarts_after_success(service):
        return Kind(SERVICE, "")
    waiter = _waited_to_complete_by(service)
    if waiter is not None:
        return Kind(JOB, f'"{waiter}" waits for it with condition: service_completed_successfully',
                    at=service.key_span)
    replicas = service.replicas
    if replicas == 0:
        key = "deploy.replicas" if service.get("deploy", "replicas") is not None else "scale"
        return Kind(JOB, f"{key}: 0", at=service.value_span(*key.split(".")))
    profile = _tool_profile(service)
    if profile is not None:
        return Kind(JOB, f'it runs only under the profile "{profile}"', at=service.value_span("profiles"))
    ends = _ending_command(service)
    if ends is not None:
        restart = (service.restart or "").strip()
        how = f'restart: "{restart}"' if restart else "no restart policy"
        key = "command" if service.get("command") is not None else "entrypoint"
        return Kind(JOB, f"its {key} runs {ends} and exits ({how})", at=service.value_span(key))
    named = _job_name_word(service)
    if named is not None and (service.restart or "").strip().lower() in ("no", "false"):
        return Kind(JOB, f'its name says it is a one-shot step ("{named}") and it has restart: "no"',
                    at=service.value_span("restart"))
    return Kind(SERVICE, "")


def _job_name_word(service: Service) -> str | None:
    return next((w for w in _NAME_SPLIT.split(service.name.lower()) if w in _JOB_NAME_WORDS), None)


def _waited_to_complete_by(service: Service) -> str | None:
    for other in service.project.services.values():
        dep = other.depends_on.get(service.name)
        if dep is not None and dep.condition == "service_completed_successfully":
            return other.name
    return None


def _tool_profile(service: Service) -> str | None:
    node = service.get("profiles")
    if not isinstance(node, SeqNode) or not node.items:
        return None
    names = [item.text.strip().lower() for item in node.items if isinstance(item, ScalarNode)]
    tools = [name for name in names if name in TOOL_PROFILES]
    return tools[0] if tools and len(tools) == len(names) else None


def _ending_command(service: Service) -> str | None:
    """The one-shot step the command runs (e.g. "manage.py migrate"), or None."""
    restart = (service.restart or "no").strip().lower()
    if restart not in ("no", "false", "") and not restart.startswith("on-failure"):
        return None
    words = [w.text for w in service.command_words]
    if not words:
        return None
    names = [w.rsplit("/", 1)[-1] for w in words]
    lowered = [n.lower() for n in names]
    # A long-running program anywhere in the command (`migrate && gunicorn ...`) wins.
    for word in lowered:
        for piece in _WORD.findall(word):
            if piece in _LONG_RUNNING:
                return None
    for index, word in enumerate(lowered):
        for piece in _WORD.findall(word):
            if piece in _ONE_SHOT_WORDS:
                tool = next((lowered[j] for j in range(index - 1, -1, -1) if lowered[j] in _MIGRATION_TOOLS), None)
                return f"{tool} {piece}" if tool else piece
    return None
