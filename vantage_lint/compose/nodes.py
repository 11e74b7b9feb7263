"""The positioned YAML tree every compose rule reads.

Each node knows where it was written (``span``) and, inside a mapping, where its key was
written (``key_span``). Aliases, merge keys, ``extends`` bases and override files reuse the
nodes of the place they came from, so a finding always points where the user must edit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from vantage_lint.findings import Span


class Node:
    __slots__ = ("span", "key_span", "tag")

    def __init__(self, span: Span, tag: str = "", key_span: Span | None = None):
        self.span = span
        self.tag = tag
        self.key_span = key_span

    def plain(self) -> Any:
        raise NotImplementedError


class ScalarNode(Node):
    """A scalar: ``value`` after YAML typing and interpolation, ``raw`` as written (unquoted)."""

    __slots__ = ("value", "raw", "style")

    def __init__(self, value: Any, raw: str, span: Span, tag: str = "", style: str = ""):
        super().__init__(span, tag)
        self.value = value
        self.raw = raw
        self.style = style

    def plain(self) -> Any:
        return self.value

    @property
    def text(self) -> str:
        """The value as a string, as Compose reads scalars in string positions."""
        value = self.value
        if value is None:
            return ""
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, float):
            return go_float_text(value)
        return str(value)

    def __repr__(self) -> str:
        return f"ScalarNode({self.value!r} @ {self.span})"


def go_float_text(value: float) -> str:
    """A float as Go's ``fmt.Sprint`` writes it (strconv 'g' with the shortest digits: %e when
    the exponent is below -4 or at least 6): ``1000``, ``1.5``, ``1e+06``, ``1e-05``, ``+Inf``.
    It is the text compose-go gives a float in a string position (environment, labels)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    from decimal import Decimal

    sign, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # digits before the decimal point
    minus = "-" if value < 0 else ""
    if point - 1 < -4 or point - 1 >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        e = point - 1
        return f"{minus}{body}e{'+' if e >= 0 else '-'}{abs(e):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


class MapNode(Node):
    __slots__ = ("items", "keys", "_plain")

    def __init__(self, span: Span, tag: str = ""):
        super().__init__(span, tag)
        self.items: dict[str, Node] = {}
        self.keys: dict[str, Span] = {}
        self._plain: dict[str, Any] | None = None

    def get(self, key: str) -> Node | None:
        return self.items.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def set(self, key: str, value: Node, key_span: Span) -> None:
        self.items[key] = value
        self.keys[key] = key_span
        self._plain = None

    def remove(self, key: str) -> None:
        self.items.pop(key, None)
        self.keys.pop(key, None)
        self._plain = None

    def key_at(self, key: str) -> Span:
        return self.keys.get(key, self.span)

    def plain(self) -> dict[str, Any]:
        if self._plain is None:
            self._plain = {k: v.plain() for k, v in self.items.items()}
        return self._plain

    def copy(self) -> MapNode:
        twin = MapNode(self.span, self.tag)
        twin.key_span = self.key_span
        twin.items = dict(self.items)
        twin.keys = dict(self.keys)
        return twin

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"MapNode({list(self.items)} @ {self.span})"


class SeqNode(Node):
    __slots__ = ("items", "_plain")

    def __init__(self, span: Span, tag: str = ""):
        super().__init__(span, tag)
        self.items: list[Node] = []
        self._plain: list[Any] | None = None

    def plain(self) -> list[Any]:
        if self._plain is None:
            self._plain = [v.plain() for v in self.items]
        return self._plain

    def __iter__(self) -> Iterator[Node]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"SeqNode({len(self.items)} items @ {self.span})"


def walk(root: Node | None) -> Iterator[Node]:
    """Every node under ``root`` once, ``root`` first (a node shared by aliases is seen once)."""
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MapNode):
            stack.extend(reversed(node.items.values()))
        elif isinstance(node, SeqNode):
            stack.extend(reversed(node.items))


def child(node: Node | None, *path: str | int) -> Node | None:
    """The node at ``path`` below ``node`` (keys for mappings, indexes for sequences), or None."""
    for step in path:
        if isinstance(node, MapNode) and isinstance(step, str):
            node = node.items.get(step)
        elif isinstance(node, SeqNode) and isinstance(step, int) and -len(node.items) <= step < len(node.items):
            node = node.items[step]
        else:
            return None
    return node


def scalar_text(node: Node | None) -> str | None:
    """The text of a scalar node, or None when the node is absent or not a scalar."""
    return node.text if isinstance(node, ScalarNode) else None


def sub_span(node: ScalarNode, start: int, end: int, source_text: str | None) -> Span:
    """The span of ``node.value[start:end]`` when the scalar is written verbatim on one line
    (plain, or quoted without escapes), else the whole node's span."""
    span = node.span
    if source_text is None or span.line != span.end_line or not isinstance(node.value, str):
        return span
    offset = span.start + (1 if node.style in ("'", '"') else 0)
    if source_text[offset : offset + len(node.value)] != node.value or node.raw != node.value:
        return span
    return Span(
        span.path,
        span.line,
        span.column + (offset - span.start) + start,
        span.line,
        span.column + (offset - span.start) + end,
        offset + start,
        offset + end,
    )
