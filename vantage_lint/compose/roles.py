"""Which services are Redis, Celery workers, beat or Flower: declared or inferred."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vantage_lint.compose.nodes import ScalarNode, SeqNode

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service

ROLES = ("redis", "celery-worker", "celery-beat", "flower", "none")
REDIS_SERVERS = ("redis-server", "valkey-server", "redis-stack-server")


def is_redis_image(repository: str) -> bool:
    """Official redis and valkey images, bitnami's, and redis-stack, under any registry prefix."""
    name = repository.rsplit("/", 1)[-1]
    if name in ("redis", "valkey"):
        return True
    return name.startswith("redis-stack")


def declared_roles(service: Service) -> frozenset[str] | None:
    """Roles from ``x-vantage: {role: ...}`` or the configuration's ``roles:`` (None = infer)."""
    configured = getattr(service.project, "declared_roles", {}).get(service.name)
    if configured:
        return frozenset(configured)
    x = service.x_vantage
    node = x.get("role") if x is not None else None
    if isinstance(node, ScalarNode) and node.text:
        return frozenset([node.text])
    if isinstance(node, SeqNode):
        return frozenset(item.text for item in node.items if isinstance(item, ScalarNode))
    return None


def service_roles(service: Service) -> frozenset[str]:
    declared = declared_roles(service)
    if declared is not None:
        return declared - {"none"}
    roles: set[str] = set()
    image = service.image
    if image is not None:
        if is_redis_image(image.repository):
            roles.add("redis")
        if image.repository.endswith("mher/flower") or image.name == "flower":
            roles.add("flower")
    words = service.command_words
    if any(w.text.rsplit("/", 1)[-1] in REDIS_SERVERS for w in words):
        roles.add("redis")
    invocation = celery_invocation(service)
    if invocation is not None:
        if invocation.subcommand == "worker":
            roles.add("celery-worker")
            if invocation.embedded_beat:
                roles.add("celery-beat")
        elif invocation.subcommand == "beat":
            roles.add("celery-beat")
        elif invocation.subcommand == "flower":
            roles.add("flower")
    return frozenset(roles)


def celery_invocation(service: Service):  # -> CeleryInvocation | None
    """The Celery command this service runs (cached on the service)."""
    cached = service.__dict__.get("_celery")
    if cached is not None or "_celery" in service.__dict__:
        return cached
    try:
        from vantage_lint.celery.command import find_celery
    except ImportError:
        result = None
    else:
        parts: list[str] = []
        shell_string = False
        for key in ("entrypoint", "command"):
            key_parts, _nodes, as_string = service.argv_parts(key)
            parts.extend(key_parts)
            shell_string = shell_string or as_string
        result = find_celery(parts, shell_string=shell_string) if parts else None
    service.__dict__["_celery"] = result
    return result
