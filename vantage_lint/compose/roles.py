"""Which services are Redis, Celery workers, beat or Flower: declared or inferred."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, TYPE_CHECKING

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
            if invocation.embedded_beat or _beat_from_env(service, invocation):
                roles.add("celery-beat")
        elif invocation.subcommand == "beat":
            roles.add("celery-beat")
        elif invocation.subcommand == "flower":
            roles.add("flower")
    return frozenset(roles)


def _airflow_arguments(service: Service, invocation) -> bool:
    """``command: celery worker`` on an Apache Airflow image: the image's entrypoint runs
    ``airflow celery worker``, Airflow's own command, not Celery's."""
    if service.get("entrypoint") is not None:
        return False
    word = invocation.celery_word
    if word.part != 0 or word.start != 0 or word.text != "celery":
        return False
    image = service.image
    if image is not None and "airflow" in image.repository:
        return True
    if any(name.startswith("AIRFLOW") for name in service.environment):
        return True
    return any(m.target.startswith("/opt/airflow") for m in service.mounts)


def _beat_from_env(service: Service, invocation) -> bool:
    """``CELERY_WORKER_BEAT=1`` embeds beat like ``-B`` (click reads it when no flag is given)."""
    if "beat" in invocation.settings:
        return False
    var = service.environment.get("CELERY_WORKER_BEAT")
    if var is None or not var.value:
        return False
    from vantage_lint.celery.command import env_settings

    found, _unread = env_settings("worker", {"CELERY_WORKER_BEAT": var.value})
    setting = found.get("beat")
    return setting is not None and setting.value is True


def celery_invocation(service: Service):  # -> CeleryInvocation | None
    """The Celery command this service runs (cached on the service).

    It is parsed from the command as written (:func:`command_written`), so a ``Setting``'s
    ``part`` indexes ``service.command_nodes`` and its offsets index that part's written text;
    each part says whether Compose splits it (a string) or passes it as one word (a list item).
    A service that sets neither ``command:`` nor ``entrypoint:`` runs its image's: the
    Dockerfile's ENTRYPOINT/CMD when it is read (then ``invocation.image`` holds the parts).
    """
    cached = service.__dict__.get("_celery")
    if cached is not None or "_celery" in service.__dict__:
        return cached
    try:
        from vantage_lint.celery.command import find_celery
    except ImportError:
        result = None
    else:
        written = command_written(service)
        parts = [w.text for w in written]
        result = find_celery(parts, shell_string=[w.split for w in written]) if parts else None
        if result is not None and _airflow_arguments(service, result):
            result = None
        if result is None and not parts:
            from vantage_lint.celery.image_command import image_invocation

            result = image_invocation(service)
    service.__dict__["_celery"] = result
    return result


class WrittenText(NamedTuple):
    """A string as the command in the container receives it, as far as the file tells: Compose
    variables the linting environment resolves are substituted, unresolved ones stay as written
    (``${WORKERS}``: unknown here) and ``$$`` reads ``$`` (the container expands it).

    ``raw_index[i]`` is the offset in the node's raw text of character ``i`` of ``text`` (one
    extra entry for the end), so positions found in ``text`` map back to the YAML source.
    """

    text: str
    raw_index: tuple[int, ...]
    split: bool = False         # Compose splits it into words (a string command/entrypoint)


def written_text(node: ScalarNode, env: Mapping[str, str], split: bool = False) -> WrittenText:
    raw = node.raw if isinstance(node.value, str) else node.text
    if "$" not in raw:
        return WrittenText(raw, tuple(range(len(raw) + 1)), split)
    from vantage_lint.compose.interpolation import interpolate, references

    out: list[str] = []
    index: list[int] = []
    i = 0
    for ref in [*references(raw), None]:
        stop = ref.start if ref is not None else len(raw)
        while i < stop:
            if raw.startswith("$$", i):
                out.append("$")
                index.append(i)
                i += 2
            else:
                out.append(raw[i])
                index.append(i)
                i += 1
        if ref is None:
            break
        expression = raw[ref.start : ref.end]
        value, issues = interpolate(expression, env)
        if issues or "$" in value:
            out.append(expression)
            index.extend(range(ref.start, ref.end))
        else:
            out.append(value)
            index.extend([ref.start] * len(value))
        i = ref.end
    index.append(len(raw))
    return WrittenText("".join(out), tuple(index), split)


def command_written(service: Service) -> list[WrittenText]:
    """``service.command_nodes`` (entrypoint then command) as :class:`WrittenText` (cached)."""
    cached = service.__dict__.get("_command_written")
    if cached is not None:
        return cached
    env = getattr(service.project, "env", None) or {}
    result: list[WrittenText] = []
    for key in ("entrypoint", "command"):
        _parts, nodes, as_string = service.argv_parts(key)
        result.extend(written_text(node, env, as_string) for node in nodes)
    service.__dict__["_command_written"] = result
    return result
