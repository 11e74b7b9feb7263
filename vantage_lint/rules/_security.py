"""Shared readings for the container security rules (VL401-VL410).

Docker accepts several spellings for the same setting; each helper here folds them into one,
the way the Docker daemon or compose-go reads them, so the rules compare one form.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import NamedTuple

from vantage_lint.compose.model import Mount, Service
from vantage_lint.compose.nodes import Node, ScalarNode, SeqNode

# compose-go casts strings in boolean fields: "true"/"false", and (with a warning) y/yes/on, n/no/off.
_TRUE_STRINGS = frozenset({"true", "y", "yes", "on"})
# Go's strconv.ParseBool, which the daemon uses for security_opt values such as no-new-privileges.
_PARSEBOOL_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def is_true(node: Node | None) -> bool:
    """A boolean service field (``privileged``, ``read_only``) that Compose reads as true."""
    if not isinstance(node, ScalarNode):
        return False
    if node.value is True:
        return True
    return isinstance(node.value, str) and node.value.strip().lower() in _TRUE_STRINGS


def parse_bool_true(text: str) -> bool:
    return text.strip() in _PARSEBOOL_TRUE


# --- capabilities ------------------------------------------------------------------------------
def capability_name(text: str) -> str:
    """``cap_sys_admin`` / ``CAP_SYS_ADMIN`` / ``sys_admin`` → ``SYS_ADMIN``; ``all`` → ``ALL``.

    Docker upper-cases each name and adds the ``CAP_`` prefix unless the name is ``ALL``;
    ``CAP_ALL`` is not a name Docker accepts, so it stays as written and matches nothing.
    """
    name = text.strip().upper()
    if name == "CAP_ALL":
        return name
    return name[4:] if name.startswith("CAP_") else name


def capability_items(service: Service, key: str) -> Iterator[tuple[str, ScalarNode]]:
    """(normalized name, node) for each entry of ``cap_add`` or ``cap_drop``."""
    node = service.get(key)
    if isinstance(node, SeqNode):
        for item in node.items:
            if isinstance(item, ScalarNode) and item.text.strip():
                yield capability_name(item.text), item
    elif isinstance(node, ScalarNode) and node.text.strip():
        # Not valid per the schema, but a single name is read the same way.
        yield capability_name(node.text), node


# --- security_opt ------------------------------------------------------------------------------
class SecurityOpt(NamedTuple):
    key: str
    value: str
    node: ScalarNode


def security_opts(service: Service) -> list[SecurityOpt]:
    """``security_opt`` entries split as the daemon splits them.

    A bare ``no-new-privileges`` means true; otherwise the option is split at the first ``=``
    when there is one, else at the first ``:`` (the older spelling), so ``label:type:spc_t``
    reads as key ``label``, value ``type:spc_t``.
    """
    node = service.get("security_opt")
    items = node.items if isinstance(node, SeqNode) else [node] if isinstance(node, ScalarNode) else []
    result: list[SecurityOpt] = []
    for item in items:
        if not isinstance(item, ScalarNode):
            continue
        text = item.text.strip()
        if text == "no-new-privileges":
            result.append(SecurityOpt("no-new-privileges", "true", item))
            continue
        sep = "=" if "=" in text else ":" if ":" in text else None
        if sep is None:
            continue
        key, _, value = text.partition(sep)
        result.append(SecurityOpt(key.strip().lower(), value.strip(), item))
    return result


# --- host paths --------------------------------------------------------------------------------
def host_path(mount: Mount) -> str | None:
    """The normalized absolute host path of a bind mount (``//var/run/`` → ``/var/run``), else None."""
    if mount.type != "bind" or not mount.source:
        return None
    source = mount.source.strip()
    if not source.startswith("/"):
        return None
    path = posixpath.normpath(re.sub(r"/{2,}", "/", source))
    return path


def is_docker_socket(mount: Mount) -> bool:
    """A bind of the Docker engine's socket (``docker.sock`` in any host directory, also the
    rootless ``$XDG_RUNTIME_DIR/docker.sock``) or of its Windows named pipe."""
    source = (mount.source or "").strip()
    if source.replace("/", "\\").lower().rstrip("\\").endswith("\\pipe\\docker_engine"):
        return True
    path = host_path(mount)
    return path is not None and posixpath.basename(path) == "docker.sock"


def services_phrase(names: list[str]) -> str:
    """``service "a"`` or ``services "a", "b"``."""
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"service {quoted}" if len(names) == 1 else f"services {quoted}"
