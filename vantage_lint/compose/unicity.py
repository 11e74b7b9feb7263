"""Compose's unique-key rule for service lists, on the node tree.

compose-go (override/uncity.go, ``EnforceUnicity``) walks each of these lists after every
merge and again after canonicalisation: an entry whose key was seen earlier replaces the
earlier one at the earlier one's place. So ``cap_add: [NET_ADMIN, NET_ADMIN]`` is one entry,
``"8000:80"`` written twice is one port, and an override's ``/data`` mount replaces the base's
``/data/`` mount. The keys:

- ``cap_add``, ``dns``, ``profiles``, ``links``, ``tmpfs``, aliases, ...: the text before ``=``;
- ``expose``: the text; ``ports``: the text of a short port, ``HOST:PUBLISHED:TARGET/PROTO``
  of a long one, and (after canonicalisation) the same key for a short port without a range;
- ``volumes``: the target, ``path.Clean``-ed for the short syntax only (as compose-go's
  transform/volume.go cleans it); ``devices``: the target;
- ``secrets``: ``target``, else ``/run/secrets/NAME``; ``configs``: ``target``, else ``/NAME``;
- ``env_file``: the path.

``extra_hosts`` is not in compose-go's table: two entries for one host both stay.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode

Indexer = Callable[[Node], "str | None"]


def _key_value(node: Node) -> str | None:
    if isinstance(node, ScalarNode):
        return node.text.partition("=")[0]
    return None


def _text(node: Node) -> str | None:
    return node.text if isinstance(node, ScalarNode) else None


def _field(node: MapNode, key: str) -> str | None:
    value = node.get(key)
    return value.text if isinstance(value, ScalarNode) else None


def _volume(node: Node) -> str | None:
    if isinstance(node, MapNode):
        return _field(node, "target")
    if isinstance(node, ScalarNode):
        from vantage_lint.compose.model import short_mount

        mount = short_mount(node.text, node)
        if mount is None:
            return None
        return posixpath.normpath(mount.target) if mount.target else ""
    return None


def _device(node: Node) -> str | None:
    if isinstance(node, MapNode):
        return _field(node, "target")
    if isinstance(node, ScalarNode):
        parts = node.text.split(":")
        return parts[0] if len(parts) == 1 else parts[1]
    return None


def _mount(default: str) -> Indexer:
    def index(node: Node) -> str | None:
        if isinstance(node, ScalarNode):
            return f"{default}/{node.text}"
        if isinstance(node, MapNode):
            target = _field(node, "target")
            return target if target is not None else f"{default}/{_field(node, 'source') or ''}"
        return None

    return index


def port_key(host_ip: str | None, published: str | None, target: str, protocol: str) -> str:
    """compose-go's key of a long-syntax port (``0.0.0.0`` and ``tcp`` when absent)."""
    return f"{host_ip or '0.0.0.0'}:{published or ''}:{target}/{protocol or 'tcp'}"


def _port(node: Node) -> str | None:
    if isinstance(node, ScalarNode):
        return node.text
    if isinstance(node, MapNode):
        return port_key(_field(node, "host_ip"), _field(node, "published"), _field(node, "target") or "",
                        (_field(node, "protocol") or "tcp").lower())
    return None


def _canonical_port(node: Node) -> str | None:
    """The key after canonicalisation: short and long syntax meet; a range is its own entry."""
    if isinstance(node, ScalarNode):
        from vantage_lint.compose.model import short_port

        port = short_port(node)
        if port is None or "-" in port.target or (port.published and "-" in port.published):
            return f"range:{node.text}"
        return port_key(port.host_ip, port.published, port.target, port.protocol)
    return _port(node)


# Service list key -> its indexers, applied in turn (compose-go runs unicity twice).
SERVICE_LISTS: dict[str, tuple[Indexer, ...]] = {
    "annotations": (_key_value,),
    "cap_add": (_key_value,),
    "cap_drop": (_key_value,),
    "configs": (_mount(""),),
    "dns": (_key_value,),
    "dns_opt": (_key_value,),
    "dns_search": (_key_value,),
    "environment": (_key_value,),
    "env_file": (lambda n: _text(n) if isinstance(n, ScalarNode) else
                 (_field(n, "path") if isinstance(n, MapNode) else None),),
    "expose": (_text,),
    "labels": (_key_value,),
    "links": (_key_value,),
    "ports": (_port, _canonical_port),
    "profiles": (_key_value,),
    "secrets": (_mount("/run/secrets"),),
    "sysctls": (_key_value,),
    "tmpfs": (_key_value,),
    "volumes": (_volume,),
    "devices": (_device,),
}
# compose-go names "build.platform" (singular), so build.platforms is not de-duplicated.
BUILD_LISTS = ("args", "additional_contexts", "tags", "labels")
NETWORK_LISTS = ("aliases", "link_local_ips")


def unique(seq: SeqNode, index: Indexer) -> SeqNode:
    """``seq`` with later duplicates written over the first of their key."""
    kept: list[Node] = []
    where: dict[str, int] = {}
    for item in seq.items:
        key = index(item)
        if key is None:
            kept.append(item)
        elif key in where:
            kept[where[key]] = item
        else:
            where[key] = len(kept)
            kept.append(item)
    if len(kept) == len(seq.items) and all(a is b for a, b in zip(kept, seq.items)):
        return seq
    result = SeqNode(seq.span, seq.tag)
    result.key_span = seq.key_span
    result.items = kept
    return result


def _unique_in(mapping: MapNode, key: str, indexers: tuple[Indexer, ...]) -> MapNode:
    """``mapping`` with its list ``key`` de-duplicated: a copy when something changed."""
    value = mapping.get(key)
    if not isinstance(value, SeqNode):
        return mapping
    result = value
    for index in indexers:
        result = unique(result, index)
    if result is value:
        return mapping
    twin = mapping.copy()
    twin.set(key, result, mapping.keys[key])
    return twin


def _nested(mapping: MapNode, key: str, lists: tuple[str, ...]) -> MapNode:
    inner = mapping.get(key)
    if not isinstance(inner, MapNode):
        return mapping
    changed = inner
    for name in lists:
        changed = _unique_in(changed, name, (_key_value,))
    if changed is inner:
        return mapping
    twin = mapping.copy()
    twin.set(key, changed, mapping.keys[key])
    return twin


def _unique_service(service: MapNode) -> MapNode:
    result = service
    for key, indexers in SERVICE_LISTS.items():
        result = _unique_in(result, key, indexers)
    result = _nested(result, "build", BUILD_LISTS)
    result = _nested(result, "deploy", ("labels",))
    networks = result.get("networks")
    if isinstance(networks, MapNode):
        changed = networks
        for net in list(networks.items):
            changed = _nested(changed, net, NETWORK_LISTS)
        if changed is not networks:
            result = result.copy() if result is service else result
            result.set("networks", changed, service.keys["networks"])
    return result


def enforce_unicity(root: MapNode) -> MapNode:
    """``root`` with every service list de-duplicated; only the nodes that change are copied."""
    services = root.get("services")
    if not isinstance(services, MapNode):
        return root
    new_services = services
    for name, service in services.items.items():
        if not isinstance(service, MapNode):
            continue
        twin = _unique_service(service)
        if twin is not service:
            if new_services is services:
                new_services = services.copy()
            new_services.set(name, twin, services.keys[name])
    if new_services is services:
        return root
    result = root.copy()
    result.set("services", new_services, root.keys["services"])
    return result
