"""Compose's merge rules for override files (``-f a -f b``) and ``extends``.

Mappings merge key by key; sequences append, except ``command``, ``entrypoint`` and
``healthcheck.test`` (replaced) and the keyed lists (ports, volumes, secrets, configs,
environment, labels, ...), where an entry with the same key replaces the earlier one.
``!reset`` removes a value, ``!override`` replaces it whole.
"""

from __future__ import annotations

from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode

RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"

_REPLACED = {"command", "entrypoint"}
# Service keys whose list form is really a mapping "NAME=value" / "NAME: value".
_KEYED_PAIRS = {"environment", "labels", "annotations", "extra_hosts", "sysctls", "build_args"}


def merge(base: Node, over: Node, path: tuple[str, ...] = ()) -> Node:
    """The result of writing ``over`` on top of ``base`` at ``path`` (keys from the root)."""
    if over.tag == OVERRIDE_TAG:
        return over
    key = path[-1] if path else ""
    in_service = len(path) == 3 and path[0] == "services"
    if in_service and type(base) is not type(over):
        # compose-go merges the canonical forms: a list and a mapping, a string and a list...
        base, over = _canonical(key, base), _canonical(key, over)
    if in_service and key == "logging" and isinstance(base, MapNode) and isinstance(over, MapNode):
        driver, previous = over.get("driver"), base.get("driver")
        if isinstance(driver, ScalarNode) and isinstance(previous, ScalarNode) and driver.text != previous.text:
            return over  # another driver: its options do not mix with the old one's
    if path[-2:] == ("build", "args") and type(base) is not type(over):
        return _merge_maps(pairs_as_map(base), pairs_as_map(over), path)
    if isinstance(base, MapNode) and isinstance(over, MapNode):
        return _merge_maps(base, over, path)
    if isinstance(base, SeqNode) and isinstance(over, SeqNode):
        return _merge_seqs(base, over, path)
    if path and path[-1] in _KEYED_PAIRS and isinstance(base, (MapNode, SeqNode)) and isinstance(over, (MapNode, SeqNode)):
        return _merge_maps(pairs_as_map(base), pairs_as_map(over), path)
    return over


def _merge_maps(base: MapNode, over: MapNode, path: tuple[str, ...]) -> MapNode:
    result = base.copy()
    # A service defined in a base and an override stays where the base defines it: a finding
    # about a key it lacks belongs there; values the override sets keep their own spans.
    is_service = len(path) == 2 and path[0] == "services"
    if not is_service:
        result.span = over.span
    for key, value in over.items.items():
        if value.tag == RESET_TAG:
            result.remove(key)
            continue
        previous = result.items.get(key)
        merged = value if previous is None else merge(previous, value, path + (key,))
        keep_base_key = path == ("services",) and previous is not None
        result.set(key, merged, base.keys[key] if keep_base_key else over.keys[key])
    return result


def _merge_seqs(base: SeqNode, over: SeqNode, path: tuple[str, ...]) -> Node:
    key = path[-1] if path else ""
    if key in _REPLACED or path[-2:] == ("healthcheck", "test"):
        return over
    if key in _KEYED_PAIRS:
        return _merge_maps(pairs_as_map(base), pairs_as_map(over), path)
    # Keyed lists (ports, volumes, secrets...) append here; enforce_unicity then keeps the
    # later of two entries with one key, at the earlier one's place (as compose-go).
    result = SeqNode(over.span, over.tag)
    result.items = list(base.items) + list(over.items)
    return result


def strip_resets(node: Node) -> Node:
    """``node`` without the values tagged ``!reset``: compose-go drops them from the file that
    writes them (loader/reset.go) once they have removed what earlier files set."""
    if isinstance(node, MapNode):
        changed = False
        twin = MapNode(node.span, node.tag)
        twin.key_span = node.key_span
        for key, value in node.items.items():
            if value.tag == RESET_TAG:
                changed = True
                continue
            kept = strip_resets(value)
            changed = changed or kept is not value
            twin.set(key, kept, node.keys[key])
        return twin if changed else node
    if isinstance(node, SeqNode):
        items = [strip_resets(item) for item in node.items if item.tag != RESET_TAG]
        if len(items) == len(node.items) and all(a is b for a, b in zip(items, node.items)):
            return node
        seq = SeqNode(node.span, node.tag)
        seq.key_span = node.key_span
        seq.items = items
        return seq
    return node


def _canonical(key: str, node: Node) -> Node:
    """The long form of ``depends_on``/``networks`` lists, ``build`` strings, ``env_file`` strings."""
    if key in ("depends_on", "networks") and isinstance(node, SeqNode):
        result = MapNode(node.span, node.tag)
        for item in node.items:
            if isinstance(item, ScalarNode) and item.text:
                empty = ScalarNode(None, "", item.span)
                result.set(item.text, empty, item.span)
        return result
    if key == "build" and isinstance(node, ScalarNode):
        result = MapNode(node.span, node.tag)
        result.set("context", node, node.span)
        return result
    if key == "env_file" and isinstance(node, ScalarNode):
        seq = SeqNode(node.span, node.tag)
        seq.items = [node]
        return seq
    return node


def pairs_as_map(node: Node) -> MapNode:
    """``["A=1", "B"]`` → ``{A: "1", B: null}``; mappings are returned as they are."""
    if isinstance(node, MapNode):
        return node
    result = MapNode(node.span, node.tag)
    if isinstance(node, SeqNode):
        for item in node.items:
            if not isinstance(item, ScalarNode):
                continue
            text = item.text
            name, sep, value = text.partition("=")
            if not sep and ":" in text and not text.startswith("["):
                # extra_hosts "host:ip" form
                name, _, value = text.partition(":")
                sep = ":"
            entry = ScalarNode(value if sep else None, item.raw, item.span, item.tag, item.style)
            result.set(name.strip(), entry, item.span)
    return result
