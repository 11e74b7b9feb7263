"""YAML 1.2 text to a positioned :mod:`nodes` tree, with Compose's interpolation applied.

Parsing uses ruamel.yaml's C composer (marks on every node, YAML 1.2 typing: ``restart: no``
stays a string). Merge keys are resolved here; aliases share the anchored node, so positions
point at the anchor and an alias bomb costs no memory. Problems become VL001/VL004 findings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.findings import Finding, Severity, Span, problem
from vantage_lint.source import SourceFile

MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
# An expanded document larger than this (counting alias re-use) is an alias bomb.
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 400
PURE_RETRY_LIMIT = 1024 * 1024

_INT = re.compile(r"[-+]?[0-9]+$")
_TAG_PREFIX = "tag:yaml.org,2002:"

@cache
def _composer(pure: bool = False) -> Any:
    """ruamel's safe loader: the C parser, or (``pure``) its pure-Python parser."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=pure)
    if not pure:
        yaml.Resolver = _resolver_class()
    return yaml


# The last few composed texts: a Compose file is parsed with interpolation by the loader and
# once more without it when its secrets are collected; the composed tree is only read, never
# changed, so the second parse reuses it.
_RECENT_LIMIT = 4
_recent: dict[str, Any] = {}


def _compose(text: str) -> list[Any]:
    composed = _recent.get(text)
    if composed is None:
        composed = _compose_now(text)
        if len(_recent) >= _RECENT_LIMIT:
            del _recent[next(iter(_recent))]  # the oldest
        _recent[text] = composed
    return composed


def _compose_now(text: str) -> list[Any]:
    """Every document of ``text`` (compose-go merges them in order). Compose with the C parser; on its error, ask ruamel's pure-Python parser, which follows
    YAML 1.2 where libyaml does not (a plain ``[no-new-privileges:true]`` in flow context is
    valid YAML 1.2 and Compose reads it). Only a text both reject is a syntax error. The pure
    parser is ~20x slower, so texts over 1 MiB keep the C parser's verdict (bounded time)."""
    try:
        return list(_composer().compose_all(text))
    except RecursionError:
        raise
    except Exception as c_error:
        if len(text) > PURE_RETRY_LIMIT:
            raise
        try:
            return list(_composer(pure=True).compose_all(text))
        except RecursionError:
            raise
        except Exception:
            raise c_error from None


def _resolver_class() -> type:
    """ruamel's resolver with its per-version table looked up once instead of per scalar.

    ``VersionedResolver.versioned_resolver`` probes the loader for a ``%YAML`` version on every
    plain scalar (a third of the composing time). The C parser never reports one, so the answer
    is the loader's version or YAML 1.2 for the whole run: computing it once changes nothing."""
    from ruamel.yaml.resolver import VersionedResolver

    class TableOnceResolver(VersionedResolver):  # type: ignore[misc]
        _table: Any = None

        @property
        def versioned_resolver(self) -> Any:
            if self._table is None:
                self._table = VersionedResolver.versioned_resolver.fget(self)
            return self._table

    return TableOnceResolver


@dataclass(slots=True)
class LoadedYaml:
    source: SourceFile
    root: Node | None
    problems: list[Finding] = field(default_factory=list)
    # The documents after the first (``---``), which Compose merges over it in order.
    more: list[Node] = field(default_factory=list)


def parse_yaml(source: SourceFile, env: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse ``source`` into nodes; ``env`` enables Compose interpolation of string values."""
    result = LoadedYaml(source, None)
    if "\r" in source.text and source.text.count("\r") != source.text.count("\r\n"):
        source.use_cr_breaks()  # lone CRs end lines for YAML: findings go on the lines editors show
    try:
        documents = [d for d in _compose(source.text) if d is not None]
    except RecursionError:
        result.problems.append(
            problem("VL001", source.whole_span(), "YAML nesting is too deep to lint", "Flatten the document.",
                    Severity.ERROR)
        )
        return result
    except Exception as exc:  # ruamel raises many error types; all are syntax errors here
        result.problems.append(_syntax_problem(source, exc))
        return result
    if not documents:
        return result
    builder = _Builder(source, env, result.problems)
    for index, raw_root in enumerate(documents):
        built = _build_document(source, builder, raw_root, result)
        if built is None:
            return result
        if index == 0:
            result.root = built
        else:
            result.more.append(built)
    return result


def service_names(source: SourceFile) -> set[str] | None:
    """The services a Compose file defines (its top-level ``services`` keys), or None when it
    has no such mapping (not YAML, or not a Compose file)."""
    from vantage_lint.compose.nodes import MapNode

    root = parse_yaml(source).root
    services = root.get("services") if isinstance(root, MapNode) else None
    return set(services.items) if isinstance(services, MapNode) else None


def _build_document(source: SourceFile, builder: _Builder, raw_root: Any, result: LoadedYaml) -> Node | None:
    """One document's nodes, or None (with a problem) for an alias bomb, a recursive alias or
    nesting too deep."""
    try:
        # Without both an anchor and an alias nothing is shared: the tree is as big as the text.
        has_aliases = "&" in source.text and "*" in source.text
        if has_aliases and _expanded_size(raw_root) > MAX_EXPANDED_NODES:
            result.problems.append(
                problem(
                    "VL001",
                    source.span(raw_root.start_mark.index, raw_root.start_mark.index),
                    f"aliases expand this document beyond {MAX_EXPANDED_NODES:,} nodes (an alias bomb); not linted",
                    "Remove the nested aliases.",
                    Severity.ERROR,
                )
            )
            return None
        return builder.build(raw_root, 0)
    except RecursiveAlias as exc:
        result.problems.append(
            problem("VL001", builder.span(exc.raw), "an alias refers to the node that contains it (a recursive "
                    "alias); the document would be infinite", "Point the alias at a node outside itself.",
                    Severity.ERROR)
        )
    except RecursionError:
        result.problems.append(
            problem("VL001", source.whole_span(), "YAML nesting is too deep to lint", "Flatten the document.",
                    Severity.ERROR)
        )
    result.root = None
    result.more = []
    return None


def _syntax_problem(source: SourceFile, exc: Exception) -> Finding:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    position = getattr(exc, "position", None)  # a reader error (control character) has no mark
    if mark is None and isinstance(position, int) and not isinstance(position, bool):
        start = min(max(position, 0), len(source.text))
    elif mark is not None and getattr(mark, "index", None) is not None and has_odd_line_breaks(source.text):
        start = min(max(mark.index, 0), len(source.text))
    elif mark is not None and getattr(mark, "line", None) is not None:
        start = source.offset(mark.line + 1, mark.column + 1)
    else:
        start = 0
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    what = what.encode("utf-8", "replace").decode("utf-8")
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {what}" + (f" ({context})" if context and context not in what else "")
    return problem("VL001", source.span(start, start), message,
                   "Fix the YAML syntax; Compose cannot read this file.", Severity.ERROR)


def _expanded_size(root: Any) -> int:
    """Number of nodes after alias expansion, computed without expanding (memoized by identity)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        children = _raw_children(node)
        if not done:
            sizes[key] = 1  # provisional: guards against recursive aliases
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
        else:
            total = 1
            for c in children:
                total += sizes.get(id(c), 1)
                if total > MAX_EXPANDED_NODES:
                    break
            sizes[key] = total
    return sizes.get(id(root), 1)


def _raw_children(node: Any) -> list[Any]:
    value = node.value
    if isinstance(value, list):
        if value and isinstance(value[0], tuple):
            return [part for pair in value for part in pair]
        return list(value)
    return []


class RecursiveAlias(Exception):
    """An alias inside the node its anchor names (``a: &a [*a]``): an infinite document."""

    def __init__(self, raw: Any):
        super().__init__("recursive alias")
        self.raw = raw


def has_odd_line_breaks(text: str) -> bool:
    """True when libyaml would count lines differently from us (we count ``\n`` only): a lone
    CR, NEL, LS or PS, or a second byte-order mark inside the text."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    return not text.isascii() and any(c in text for c in "\x85\u2028\u2029\ufeff")


class _Builder:
    def __init__(self, source: SourceFile, env: Mapping[str, str] | None, problems: list[Finding]):
        self.source = source
        self.env = env
        self.problems = problems
        self.memo: dict[int, Node] = {}
        self.in_progress: set[int] = set()
        self.path = source.path
        # Marks carry libyaml's line/column; when its idea of a line differs from ours, positions
        # come from the character offset instead, so line, column and offset always agree.
        self.by_offset = has_odd_line_breaks(source.text)
        # libyaml puts a node that ends at EOF without a final newline on a line after the last.
        self.phantom_from = len(source.text) if source.text and not source.text.endswith("\n") else None
        if env is not None:
            from vantage_lint.compose.interpolation import interpolate

            self.interpolate = interpolate

    def span(self, raw: Any) -> Span:
        s, e = raw.start_mark, raw.end_mark
        if self.by_offset or (self.phantom_from is not None and e.index >= self.phantom_from):
            return self.source.span(s.index, e.index)
        return Span(self.path, s.line + 1, s.column + 1, e.line + 1, e.column + 1, s.index, e.index)

    def build(self, raw: Any, depth: int) -> Node:
        cached = self.memo.get(id(raw))
        if cached is not None:
            return cached
        if depth > MAX_DEPTH:
            raise RecursionError
        kind = raw.id
        if kind == "scalar":
            node: Node = self.scalar(raw)
        else:
            if id(raw) in self.in_progress:
                raise RecursiveAlias(raw)
            self.in_progress.add(id(raw))
            if kind == "sequence":
                seq = SeqNode(self.span(raw), raw.tag or "")
                seq.items = [self.build(item, depth + 1) for item in raw.value]
                node = seq
            else:
                node = self.mapping(raw, depth)
            self.in_progress.discard(id(raw))
        self.memo[id(raw)] = node
        return node

    def text_of(self, raw: Any) -> str:
        """A scalar's text; a lone UTF-16 surrogate (from a ``"\\ud800"`` escape, which only the
        pure parser lets through) is a VL001 and becomes U+FFFD, as Compose's decoder does."""
        text: str = raw.value
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.problems.append(
                problem("VL001", self.span(raw), "a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff); "
                        "it is not valid Unicode", "Write the character itself, or a valid \\U escape.",
                        Severity.ERROR)
            )
            text = text.encode("utf-8", "replace").decode("utf-8")
        return text

    def scalar(self, raw: Any) -> ScalarNode:
        text = self.text_of(raw)
        tag: str = raw.tag or ""
        style = raw.style or ""
        value: Any = text
        if tag.startswith(_TAG_PREFIX) and tag != STR_TAG:
            value = _typed(tag[len(_TAG_PREFIX):], text)
        if not style and tag in _NUMERIC_OR_STR and text[:1] in _NUMBER_START:
            # compose-go reads YAML with go-yaml v3, whose numbers are not YAML 1.2's:
            # 0755 is octal (493), 1_000 is 1000, 089 is the float 89.
            number = go_yaml_number(text)
            if number is not None:
                value = number
        node = ScalarNode(value, text, self.span(raw), tag, style)
        if self.env is not None and isinstance(value, str) and "$" in text:
            node.value, issues = self.interpolate(text, self.env)
            for issue in issues:
                if issue.severity == "required":
                    continue  # `${VAR:?...}`: set at deploy time, as the file declares
                severity = Severity.ERROR if issue.severity == "error" else Severity.WARNING
                self.problems.append(
                    problem(
                        "VL004",
                        self._inner_span(node, issue.start, issue.end),
                        issue.message,
                        "Define the variable in .env or the environment, give it a default (${VAR:-value}), "
                        "or write $$ for a literal dollar sign.",
                        severity,
                    )
                )
        return node

    def _inner_span(self, node: ScalarNode, start: int, end: int) -> Span:
        from vantage_lint.compose.nodes import sub_span

        twin = ScalarNode(node.raw, node.raw, node.span, node.tag, node.style)
        return sub_span(twin, start, end, self.source.text)

    def mapping(self, raw: Any, depth: int) -> MapNode:
        mapping = MapNode(self.span(raw), raw.tag or "")
        merges: list[tuple[Any, Any]] = []
        for raw_key, raw_value in raw.value:
            if raw_key.tag == MERGE_TAG or (raw_key.id == "scalar" and raw_key.value == "<<" and not raw_key.style):
                merges.append((raw_key, raw_value))
                continue
            if raw_key.id != "scalar":
                self.problems.append(
                    problem("VL001", self.span(raw_key), "mapping keys must be scalars in a Compose file",
                            "Use a plain string key.", Severity.ERROR)
                )
                continue
            key = self.text_of(raw_key)
            key_span = self.span(raw_key)
            if not raw_key.style and _go_non_string(key):
                self.problems.append(
                    problem("VL001", key_span, f"the key {key} is not a string to Compose (go-yaml reads it as a "
                            f"{_go_kind(key)}); Compose refuses the file (non-string key)",
                            f'Quote the key: "{key}".', Severity.ERROR)
                )
            if key in mapping.items:
                first = mapping.keys[key]
                self.problems.append(
                    problem(
                        "VL001",
                        key_span,
                        f'duplicate key "{key}" (first defined at line {first.line}); Compose rejects the file',
                        "Remove or rename one of the duplicate keys.",
                        Severity.ERROR,
                    )
                )
            mapping.items[key] = self.build(raw_value, depth + 1)
            mapping.keys[key] = key_span
        for raw_key, raw_value in merges:
            self.merge_into(mapping, raw_key, raw_value, depth)
        return mapping

    def merge_into(self, mapping: MapNode, raw_key: Any, raw_value: Any, depth: int) -> None:
        """``<<: *a`` / ``<<: [*a, *b]``: keys already present win, earlier sources win."""
        sources: list[Any]
        if raw_value.id == "mapping":
            sources = [raw_value]
        elif raw_value.id == "sequence":
            sources = list(raw_value.value)
        elif raw_value.id == "scalar" and raw_value.tag.endswith(":null"):
            return  # merging an empty anchor adds nothing
        else:
            sources = [raw_value]
        for raw_source in sources:
            if raw_source.id != "mapping":
                if raw_source.id == "scalar" and raw_source.tag.endswith(":null"):
                    continue
                self.problems.append(
                    problem(
                        "VL001",
                        self.span(raw_key),
                        "merge key (<<) value must be a mapping or a list of mappings",
                        "Point the merge key at an anchored mapping.",
                        Severity.ERROR,
                    )
                )
                continue
            source = self.build(raw_source, depth + 1)
            assert isinstance(source, MapNode)
            for key, value in source.items.items():
                # compose-go drops `!reset` values before YAML merge keys apply, so a merged
                # value fills a key the mapping resets (loader/reset.go, then yaml.v3 merge).
                if key not in mapping.items or mapping.items[key].tag == "!reset":
                    mapping.items[key] = value
                    mapping.keys[key] = source.keys[key]


_NUMERIC_OR_STR = {_TAG_PREFIX + "int", _TAG_PREFIX + "float", STR_TAG}
_NUMBER_START = frozenset("0123456789+-.")
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_SPECIAL = {".inf": math.inf, ".Inf": math.inf, ".INF": math.inf, "+.inf": math.inf, "+.Inf": math.inf,
               "+.INF": math.inf, "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
               ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan}


_GO_BOOLS = {"true", "True", "TRUE", "false", "False", "FALSE"}
_GO_NULLS = {"", "~", "null", "Null", "NULL"}


def _go_non_string(key: str) -> bool:
    """A plain key go-yaml v3 resolves to a bool, null or number (compose-go wants strings)."""
    return key in _GO_BOOLS or key in _GO_NULLS or (key[:1] in _NUMBER_START and go_yaml_number(key) is not None)


def _go_kind(key: str) -> str:
    return "boolean" if key in _GO_BOOLS else "null" if key in _GO_NULLS else "number"


def _go_parse_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, 64): sign, then 0x / 0o / 0b / leading-0 octal / decimal."""
    sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text[1:] if text[:1] == "+" else text)
    lowered = body.lower()
    try:
        if lowered.startswith("0x"):
            value = int(body[2:], 16)
        elif lowered.startswith("0o"):
            value = int(body[2:], 8)
        elif lowered.startswith("0b"):
            value = int(body[2:], 2)
        elif len(body) > 1 and body.startswith("0"):
            value = int(body[1:], 8)
        else:
            value = int(body, 10)
    except ValueError:
        return None
    if not body.isascii() or not body[-1:].isalnum() or "_" in body:
        return None
    value *= sign
    return value if -(2**63) <= value < 2**64 else None


def go_yaml_number(text: str) -> int | float | None:
    """A plain scalar as go-yaml v3 resolves it (resolve.go), when it is a number."""
    if text in _GO_SPECIAL:
        return _GO_SPECIAL[text]
    plain = text.replace("_", "")
    if not plain:
        return None
    number = _go_parse_int(plain)
    if number is not None:
        return number
    if _GO_FLOAT.match(plain):
        try:
            return float(plain)
        except ValueError:
            return None
    for prefix, base in (("0b", 2), ("-0b", 2), ("0o", 8), ("-0o", 8)):
        if plain.startswith(prefix):
            try:
                magnitude = int(plain[len(prefix):], base)
            except ValueError:
                return None
            return -magnitude if prefix.startswith("-") else magnitude
    return None


def _typed(kind: str, text: str) -> Any:
    """YAML 1.2 core schema values for the tags the composer resolved."""
    if kind == "int":
        cleaned = text.replace("_", "")
        try:
            if _INT.match(cleaned):
                return int(cleaned)
            sign = -1 if cleaned.startswith("-") else 1
            body = cleaned.lstrip("+-").lower()
            if body.startswith("0o"):
                return sign * int(body[2:], 8)
            if body.startswith("0x"):
                return sign * int(body[2:], 16)
            if body.startswith("0b"):
                return sign * int(body[2:], 2)
        except ValueError:
            return text
        return text
    if kind == "float":
        lowered = text.lower().replace("_", "")
        if lowered in (".inf", "+.inf"):
            return math.inf
        if lowered == "-.inf":
            return -math.inf
        if lowered == ".nan":
            return math.nan
        try:
            return float(lowered)
        except ValueError:
            return text
    if kind == "bool":
        return text.lower() == "true"
    if kind == "null":
        return None
    return text
