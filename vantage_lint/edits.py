"""Helpers that turn node positions into text edits (fixes are splices, never re-dumps).

Every helper returns an :class:`Edit` (or None when it cannot edit the text safely, e.g. a value
written through an alias) and writes in the file's own style: its indentation step, how it
indents block sequences, its favourite quote character, flow or block as the surrounding
collection is written, and its line endings (a CRLF file stays CRLF).

Values passed to the insert helpers are YAML text when they are strings (quote them with
:func:`quote` when they must stay strings), and nested mappings and sequences when they are
dicts and lists, rendered in block or flow style to match the place they go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TYPE_CHECKING, Union

from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.findings import Applicability, Edit, Fix, Span
from vantage_lint.source import SourceFile

if TYPE_CHECKING:
    from vantage_lint.compose.project import Project
    from vantage_lint.redis.config import Directive, RedisConfig

# A value to insert: YAML text (str), a mapping or a sequence of values.
Value = Union[str, Mapping[str, "Value"], Sequence["Value"]]

_DEFAULT_INDENT = 2


# ---------------------------------------------------------------------------------------------
# Lines


def line_bounds(source: SourceFile, line: int) -> tuple[int, int]:
    """Offsets of a whole 1-based line including its line break."""
    start = source.offset(line, 1)
    end = source.text.find("\n", start)
    return start, (len(source.text) if end == -1 else end + 1)


def line_ending(source: SourceFile) -> str:
    """The file's line break: ``\\r\\n`` when its first line ends so, else ``\\n``."""
    first = source.text.find("\n")
    return "\r\n" if first > 0 and source.text[first - 1] == "\r" else "\n"


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _after_line(text: str, pos: int) -> int:
    """Offset just after the line break of the line holding ``pos`` (len(text) on the last line)."""
    end = text.find("\n", pos)
    return len(text) if end == -1 else end + 1


def delete_line_edit(source: SourceFile, key_span: Span, value_span: Span) -> Edit | None:
    """Delete ``key: value`` when it occupies whole lines by itself (block style only)."""
    start, _ = line_bounds(source, key_span.line)
    if source.text[start : key_span.start].strip():
        return None  # something else precedes the key on its line (flow style)
    _, end = line_bounds(source, value_span.end_line if value_span.end_column > 1 else value_span.end_line - 1)
    tail = source.text[value_span.end : end].strip()
    if tail and not tail.startswith("#"):
        return None
    return Edit(source.path, start, end, "")


def replace_edit(span: Span, content: str) -> Edit:
    """Replace exactly ``span`` with ``content`` (the caller is responsible for valid YAML)."""
    return Edit(span.path, span.start, span.end, content)


# ---------------------------------------------------------------------------------------------
# The file's style


class FileStyle(NamedTuple):
    """How a YAML file is written, learned from its node tree."""

    eol: str = "\n"
    indent: int = _DEFAULT_INDENT       # the indentation step of nested mappings
    seq_indent: int = _DEFAULT_INDENT   # dash column minus the parent key's column (0 = indentless)
    quote: str = '"'                    # the quote character the file uses most


_style_cache: dict[tuple[str, int, int], FileStyle] = {}


def file_style(source: SourceFile) -> FileStyle:
    """The style of ``source`` (parsed once per text; files that do not parse get defaults)."""
    key = (source.path, len(source.text), hash(source.text))
    style = _style_cache.get(key)
    if style is None:
        if len(_style_cache) > 256:
            _style_cache.clear()
        style = _learn_style(source)
        _style_cache[key] = style
    return style


def _learn_style(source: SourceFile) -> FileStyle:
    from vantage_lint.compose.yaml_loader import parse_yaml

    eol = line_ending(source)
    # Interpolation changes values only; styles and spans of the loader's tree are the file's.
    root = source.yaml_root if source.yaml_root is not None else parse_yaml(source).root
    indents: Counter[int] = Counter()
    seq_indents: Counter[int] = Counter()
    quotes: Counter[str] = Counter()
    seen: set[int] = set()
    stack: list[Node] = [root] if root is not None else []
    text = source.text
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.style in ("'", '"'):
                quotes[node.style] += 1
            continue
        if isinstance(node, SeqNode):
            stack.extend(node.items)
            continue
        if not isinstance(node, MapNode) or is_flow(source, node):
            continue
        for key, value in node.items.items():
            key_span = node.keys[key]
            if key_span.path != source.path:
                continue
            stack.append(value)
            if value.span.start <= key_span.start or is_flow(source, value) or isinstance(value, ScalarNode):
                continue
            start = _content_start(text, value.span.start)
            column = start - _line_start(text, start)
            if isinstance(value, MapNode) and column > key_span.column - 1:
                indents[column - (key_span.column - 1)] += 1
            elif isinstance(value, SeqNode):
                seq_indents[column - (key_span.column - 1)] += 1
    indent = indents.most_common(1)[0][0] if indents else _DEFAULT_INDENT
    seq_indent = seq_indents.most_common(1)[0][0] if seq_indents else indent
    quote_char = "'" if quotes["'"] > quotes['"'] else '"'
    return FileStyle(eol, indent, seq_indent, quote_char)


# ---------------------------------------------------------------------------------------------
# Scalars


_plain_cache: dict[str, bool] = {}


def plain_ok(text: str, flow: bool = False) -> bool:
    """True when ``text`` written plain (unquoted) reads back as the same string in YAML 1.2;
    with ``flow``, inside ``{...}``/``[...]`` too, where ``:`` and ``,[]{}`` need quotes."""
    if flow and any(c in text for c in ":,[]{}"):
        return False
    cached = _plain_cache.get(text)
    if cached is not None:
        return cached
    ok = False
    if text and text == text.strip() and "\n" not in text and "\r" not in text and "\t" not in text:
        try:
            from ruamel.yaml import YAML

            node = YAML(typ="safe", pure=False).compose(f"k: {text}\n")
            value = node.value[0][1]
            ok = (value.id == "scalar" and value.tag.endswith(":str") and value.value == text
                  and not value.style and len(node.value) == 1)
        except Exception:
            ok = False
    if len(_plain_cache) > 4096:
        _plain_cache.clear()
    _plain_cache[text] = ok
    return ok


def quote(source: SourceFile, text: str, char: str | None = None) -> str:
    """``text`` as a quoted YAML string, with the file's favourite quote character."""
    char = char or file_style(source).quote
    if char == "'" and "\n" not in text and "\\" not in text:
        return "'" + text.replace("'", "''") + "'"
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def scalar_text(source: SourceFile, text: str, flow: bool = False) -> str:
    """``text`` as a YAML string value: plain when that reads back the same, else quoted
    (``flow``: the value goes inside a flow collection)."""
    return text if plain_ok(text, flow) else quote(source, text)


def replace_scalar_edit(source: SourceFile, node: ScalarNode, new_text: str, keep_quotes: bool = True) -> Edit | None:
    """Replace the scalar ``node`` so that it reads as the string ``new_text``.

    With ``keep_quotes`` the node keeps its quoting: a double- or single-quoted value stays
    quoted the same way, a plain one stays plain when ``new_text`` reads back as the same
    string (else it is quoted in the file's style); a block scalar (``|``/``>``) becomes a
    single-line value. Without ``keep_quotes``, ``new_text`` is YAML text written verbatim.
    Returns None when the node was not written in ``source``.
    """
    if not _written_in(source, node):
        return None
    start = _content_start(source.text, node.span.start)
    end = _scalar_end(source.text, node)
    if not keep_quotes:
        content = new_text
    elif node.style in ("'", '"'):
        content = quote(source, new_text, node.style)
    else:
        content = scalar_text(source, new_text, flow=_in_flow(source.text, start))
    if content == source.text[start:end]:
        return None
    return Edit(source.path, start, end, content)


# ---------------------------------------------------------------------------------------------
# Mappings and sequences


def is_flow(source: SourceFile, node: Node) -> bool:
    """True for a ``{...}`` mapping or ``[...]`` sequence (flow style)."""
    if isinstance(node, ScalarNode) or node.span.path != source.path:
        return False
    start = _content_start(source.text, node.span.start)
    return source.text[start : start + 1] in ("{", "[")


def insert_key_edit(source: SourceFile, mapping: MapNode, key: str, value: Value) -> Edit | None:
    """Add ``key: value`` at the end of ``mapping`` as the mapping is written.

    Block mappings get a new line (or lines, for a nested value) after their last entry, at
    the indentation of their keys; a trailing comment of that entry stays on its line. Flow
    mappings (``{a: 1}``) get ``, key: value`` before the closing brace. ``value`` is YAML text
    (a str: use :func:`quote` for strings that must stay quoted), or a dict / list rendered in
    the mapping's style. A key merged in from an anchor may be added: the service's own value
    then overrides the shared one. Returns None when the mapping was not written in
    ``source`` or the key is already written there.
    """
    return insert_keys_edit(source, mapping, {key: value})


def insert_keys_edit(source: SourceFile, mapping: MapNode, entries: Mapping[str, Value]) -> Edit | None:
    """Like :func:`insert_key_edit` for several keys at once, in order, as one edit (two
    inserts at the same point would be two conflicting edits)."""
    if not entries or not _written_in(source, mapping):
        return None
    if any(key in mapping.items and key_is_written(source, mapping, key) for key in entries):
        return None
    text = source.text
    style = file_style(source)
    if is_flow(source, mapping):
        return _flow_insert(source, mapping, ", ".join(
            f"{scalar_text(source, key, True)}: {_flow(source, value)}" for key, value in entries.items()))
    column = _block_column(source, mapping)
    if column is None:
        return None
    end = _block_content_end(source, mapping)
    pos = _after_line(text, end - 1) if end > 0 else 0
    lead = style.eol if pos == len(text) and text and not text.endswith("\n") else ""
    body = "".join(_block_entry(source, scalar_text(source, key), value, column) for key, value in entries.items())
    return Edit(source.path, pos, pos, lead + body)


def append_seq_item_edit(source: SourceFile, seq: SeqNode, item: Value) -> Edit | None:
    """Add ``item`` as the last entry of ``seq``: ``- item`` on a new line at the dash column of
    a block sequence, ``, item`` before the closing bracket of a flow one (``[a, b]``).
    ``item`` is YAML text or a dict / list. None when the sequence was not written in ``source``.
    """
    if not _written_in(source, seq):
        return None
    text = source.text
    style = file_style(source)
    if is_flow(source, seq):
        return _flow_insert(source, seq, _flow(source, item))
    start = _content_start(text, seq.span.start)
    if text[start : start + 1] != "-":
        return None
    column = start - _line_start(text, start)
    end = _block_content_end(source, seq)
    pos = _after_line(text, end - 1)
    lead = style.eol if pos == len(text) and not text.endswith("\n") else ""
    return Edit(source.path, pos, pos, lead + _block_item(source, item, column))


def delete_key_edit(source: SourceFile, mapping: MapNode, key: str) -> Edit | None:
    """Remove ``key`` and its value from ``mapping``.

    Block style: the whole lines of the entry go (its trailing comment with them), when the key
    starts its line and the mapping keeps another entry (an empty block mapping would turn
    into null). Flow style: the entry and one adjacent comma go. None otherwise.
    """
    if key not in mapping.items or not key_is_written(source, mapping, key):
        return None
    text = source.text
    key_span = mapping.keys[key]
    value = mapping.items[key]
    entry_end = _entry_end(source, key_span, value)
    if is_flow(source, mapping):
        close = _content_start(text, mapping.span.start)
        after = _skip_space(text, entry_end)
        if text[after : after + 1] == ",":
            return Edit(source.path, key_span.start, _skip_space(text, after + 1), "")
        before = key_span.start
        while before > close + 1 and text[before - 1] in " \t\r\n":
            before -= 1
        if text[before - 1 : before] == ",":
            return Edit(source.path, before - 1, entry_end, "")
        return Edit(source.path, key_span.start, entry_end, "")
    line_start = _line_start(text, key_span.start)
    if text[line_start : key_span.start].strip():
        return None  # "- key: value" or another entry before it on the line
    end = _after_line(text, entry_end - 1)
    # Comment lines indented below the deleted key belonged to its value: they go too.
    while end < len(text):
        line_end = _after_line(text, end)
        line = text[end:line_end]
        if not line.lstrip().startswith("#") or len(line) - len(line.lstrip()) <= key_span.column - 1:
            break
        end = line_end
    remaining = [k for k in mapping.items if k != key and key_is_written(source, mapping, k)]
    if not remaining and not _other_content(text, mapping, line_start, end, source):
        return None
    return Edit(source.path, line_start, end, "")


def replace_value_edit(source: SourceFile, mapping: MapNode, key: str, value: Value) -> Edit | None:
    """Replace the value of ``key`` in ``mapping`` with ``value`` (YAML text, dict or list),
    rendered in the mapping's style: a dict or list under a block mapping becomes an indented
    block below the key (the key's line, with its comment, stays). None when the value was
    written elsewhere (an alias) or carries an anchor or tag that the new text would drop.
    """
    if key not in mapping.items or not key_is_written(source, mapping, key):
        return None
    text = source.text
    key_span = mapping.keys[key]
    node = mapping.items[key]
    written = node.span.path == source.path and node.span.start >= key_span.end
    null_value = isinstance(node, ScalarNode) and node.value is None and not node.raw
    if not written and not null_value:
        return None
    if written and text[node.span.start : node.span.start + 1] in ("&", "!"):
        return None
    if is_flow(source, mapping):
        if null_value:
            colon = _colon_after(text, key_span.end)
            if colon is None:
                return None
            return Edit(source.path, colon + 1, colon + 1, " " + _flow(source, value))
        start = _content_start(text, node.span.start)
        return Edit(source.path, start, _value_end(source, node), _flow(source, value))
    column = key_span.column - 1
    if isinstance(value, str):
        if null_value:
            colon = _colon_after(text, key_span.end)
            return None if colon is None else Edit(source.path, colon + 1, colon + 1, " " + value)
        start = _content_start(text, node.span.start)
        return Edit(source.path, start, _value_end(source, node), value)
    style = file_style(source)
    lines = _block_lines(source, value, column + (style.seq_indent if _is_seq(value) else style.indent))
    colon = _colon_after(text, key_span.end)
    if colon is None:
        return None
    if null_value:
        # "key:" with nothing after it: the block goes below the key's line.
        pos = _after_line(text, colon)
        lead = style.eol if pos == len(text) and not text.endswith("\n") else ""
        if pos > colon + 1 and text[colon + 1 : _line_content_end(text, colon)].strip():
            return None
        return Edit(source.path, pos, pos, lead + "".join(line + style.eol for line in lines))
    start = _content_start(text, node.span.start)
    end = _value_end(source, node)
    if _line_start(text, start) > colon:
        # The value starts on a line of its own: replace those lines, keep the key's line.
        return Edit(source.path, _line_start(text, start), end, style.eol.join(lines))
    return Edit(source.path, colon + 1, end, style.eol + style.eol.join(lines))


# ---------------------------------------------------------------------------------------------
# redis.conf


def set_directive_edit(conf: RedisConfig, name: str, value: str) -> Edit | None:
    """Make directive ``name`` (canonical name) read ``value`` in a redis.conf.

    The effective (last) line of the directive is edited in place: its arguments are replaced,
    its name as written, indentation and the comments around it are kept. When the directive
    is absent, ``name value`` is appended at the end of the main file with the file's line
    ending. ``value`` is the argument text as redis-server reads it (quote it yourself when it
    holds spaces). None when the value is set on the redis-server command line (a file edit
    would change nothing) or there is no file to edit.
    """
    from vantage_lint.redis.config import canonical_name

    directive = conf.get(canonical_name(name))
    if directive is not None:
        if directive.from_command_line or directive.source is None:
            return None
        source = directive.source
        if directive.args:
            start, end = directive.arg_spans[0].start, directive.span.end
        else:
            start = end = directive.name_span.end
            value = " " + value
        if source.text[start:end] == value:
            return None
        return Edit(source.path, start, end, value)
    source = conf.source
    if source is None:
        return None
    return append_line_edit(source, f"{name} {value}")


def rename_directive_edit(directive: Directive, new_name: str) -> Edit | None:
    """Rename a redis.conf directive where it is written (``slaveof`` → ``replicaof``),
    keeping its arguments, indentation and the comments around it. None for a directive given
    on the redis-server command line."""
    if directive.from_command_line or directive.source is None:
        return None
    span = directive.name_span
    return Edit(directive.source.path, span.start, span.end, new_name)


def delete_directive_edit(directive: Directive) -> Edit | None:
    """Remove a redis.conf directive's whole line (the comment lines before it stay)."""
    if directive.from_command_line or directive.source is None:
        return None
    text = directive.source.text
    start = _line_start(text, directive.span.start)
    return Edit(directive.source.path, start, _after_line(text, directive.span.start), "")


def append_line_edit(source: SourceFile, line: str) -> Edit:
    """Append ``line`` at the end of a text file, with its line ending (and one before it when
    the file does not end with a line break)."""
    text = source.text
    eol = line_ending(source)
    lead = eol if text and not text.endswith("\n") else ""
    return Edit(source.path, len(text), len(text), lead + line + eol)


# ---------------------------------------------------------------------------------------------
# Sharing: anchors, merge keys and extends bases


def depends_on_healthy_edit(source: SourceFile, service_node: MapNode, name: str,
                            healthy: set[str]) -> tuple[Edit | None, Node]:
    """Make ``depends_on`` of a service wait for ``name`` with ``condition: service_healthy``;
    returns the edit and the node it changes (for :func:`guard_fix`).

    Without ``depends_on`` the key is added. The short form becomes the long form: the names in
    ``healthy`` (and ``name``) wait for ``service_healthy``, the others keep ``service_started``
    (what the short form meant). In the long form the entry's condition is set or added."""
    wait = {"condition": "service_healthy"}
    node = service_node.items.get("depends_on")
    if node is None:
        return insert_key_edit(source, service_node, "depends_on", {name: wait}), service_node
    if isinstance(node, SeqNode):
        if not key_is_written(source, service_node, "depends_on"):
            return None, node
        items = [item for item in node.items if isinstance(item, ScalarNode)]
        if len(items) != len(node.items) or any(not _inside(item, node) for item in items):
            return None, node  # entries merged from another file: the long form would duplicate them
        long_form: dict[str, Value] = {
            item.text: {"condition": "service_healthy" if item.text in healthy else "service_started"}
            for item in items
        }
        long_form[name] = wait
        return replace_value_edit(source, service_node, "depends_on", long_form), node
    if not isinstance(node, MapNode):
        return None, node
    entry = node.items.get(name)
    condition = entry.items.get("condition") if isinstance(entry, MapNode) else None
    if entry is None:
        return insert_key_edit(source, node, name, wait), node
    if isinstance(condition, ScalarNode):
        return replace_scalar_edit(source, condition, "service_healthy"), condition
    if isinstance(entry, MapNode):
        return insert_key_edit(source, entry, "condition", "service_healthy"), entry
    if isinstance(entry, ScalarNode) and entry.value is None:
        return replace_value_edit(source, node, name, wait), node
    return None, node


def _inside(item: Node, outer: Node) -> bool:
    return item.span.path == outer.span.path and outer.span.start <= item.span.start <= outer.span.end


def source_of(project: Project, node: Node) -> SourceFile | None:
    """The file ``node`` was written in."""
    return project.sources.get(node.span.path)


def sharing_services(project: Project, node: Node) -> list[str]:
    """Names of the services whose configuration contains ``node`` (the same written node, reached
    through an anchor, a merge key or an ``extends`` base), in project order."""
    return sorted(_reach(project).get(id(node), ()), key=list(project.services).index)


def edit_is_shared(project: Project, node: Node) -> bool:
    """True when editing ``node`` where it is written changes more than one service: it is
    reachable from several services (anchor, merge key, ``extends`` base), or it lives in a
    file other than the Compose files the project is made of: an ``extends`` file or an
    ``include``d file, which other projects may use too (that is what ``include`` is for).
    """
    if len(_reach(project).get(id(node), ())) > 1:
        return True
    return node.span.path not in _own_files(project)


def _own_files(project: Project) -> set[str]:
    return {f.source.path for f in project.files}


def sharing_note(project: Project, node: Node) -> str:
    """Why an edit of ``node`` is not only this service's: for findings and hints."""
    names = sharing_services(project, node)
    where = f"{node.span.path}:{node.span.line}"
    if len(names) > 1:
        shown = ", ".join(f'"{n}"' for n in names[:5]) + (" ..." if len(names) > 5 else "")
        return f"the value is written once at {where} and shared by services {shown}"
    return f"the value is written at {where}, in a file that may serve other projects too"


def guard_fix(
    project: Project,
    node: Node,
    fix: Fix | None,
    wants_fix: Callable[[str], bool] | None = None,
) -> tuple[Fix | None, str]:
    """Apply the sharing rule to ``fix``, an edit of ``node`` where it is written.

    Not shared: the fix is returned as it is. Shared, and ``wants_fix(service_name)`` says every
    service that uses the node needs the same change: the fix is kept. Otherwise a safe fix
    becomes unsafe and an unsafe one is withheld (None). The second value is the reason to add
    to the finding's message ("" when the fix was not changed).
    """
    if fix is None or not edit_is_shared(project, node):
        return fix, ""
    names = sharing_services(project, node)
    if wants_fix is not None and node.span.path in _own_files(project) and all(wants_fix(name) for name in names):
        return fix, ""
    note = sharing_note(project, node)
    if fix.applicability is Applicability.SAFE:
        return Fix(fix.title, fix.edits, Applicability.UNSAFE), f"{note}; its fix is unsafe"
    return None, f"{note}; not fixed automatically"


_reach_cache: list[Any] = [None, None]


def _reach(project: Project) -> dict[int, set[str]]:
    """id(node) -> names of the services that reach it (cached for the last project)."""
    if _reach_cache[0] is project:
        return _reach_cache[1]
    result: dict[int, set[str]] = {}
    for name, service in project.services.items():
        seen: set[int] = set()
        stack: list[Node] = [service.node]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            result.setdefault(id(node), set()).add(name)
            if isinstance(node, MapNode):
                stack.extend(node.items.values())
            elif isinstance(node, SeqNode):
                stack.extend(node.items)
    _reach_cache[0], _reach_cache[1] = project, result
    return result


# ---------------------------------------------------------------------------------------------
# Internals: positions


def _written_in(source: SourceFile, node: Node) -> bool:
    return node.span.path == source.path and node.span.end <= len(source.text)


def key_is_written(source: SourceFile, mapping: MapNode, key: str) -> bool:
    """True when ``key`` is written inside ``mapping``'s own text in ``source``, not merged in
    from an anchor, an ``extends`` base or another Compose file."""
    key_span = mapping.keys.get(key)
    if key_span is None or key_span.path != source.path or mapping.span.path != source.path:
        return False
    return mapping.span.start <= key_span.start < max(mapping.span.end, mapping.span.start + 1)


def _content_start(text: str, pos: int) -> int:
    """Skip an anchor (``&a``), a tag (``!reset``), blanks and comments before a node's content."""
    n = len(text)
    while pos < n:
        c = text[pos]
        if c in "&!":
            while pos < n and text[pos] not in " \t\r\n":
                pos += 1
        elif c in " \t\r\n":
            pos += 1
        elif c == "#":
            pos = _after_line(text, pos)
        else:
            break
    return pos


def _in_flow(text: str, pos: int) -> bool:
    """Whether ``pos`` is inside a flow collection, by the brackets open before it on its line
    (flow collections spread over several lines are rare in Compose files)."""
    depth = 0
    quote_char = ""
    for c in text[_line_start(text, pos) : pos]:
        if quote_char:
            quote_char = "" if c == quote_char else quote_char
        elif c in "'\"":
            quote_char = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
    return depth > 0


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_content_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    end = len(text) if end == -1 else end
    hash_at = text.find(" #", pos, end)
    return end if hash_at == -1 else hash_at


def _colon_after(text: str, pos: int) -> int | None:
    """The ``:`` that ends a key (skipping the closing quote and blanks)."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos if text[pos : pos + 1] == ":" else None


def _is_block_scalar(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style in ("|", ">")


def _scalar_end(text: str, node: ScalarNode) -> int:
    """End of a scalar's written content; a block scalar's trailing blank lines are not content
    unless it keeps them (``|+``), and then the edit must not cut them."""
    end = node.span.end
    if not _is_block_scalar(node):
        return end
    header_end = _line_content_end(text, node.span.start)
    if "+" in text[node.span.start : header_end]:
        return end
    while end > node.span.start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _value_end(source: SourceFile, node: Node) -> int:
    """End of the written content of a value (see :func:`_block_content_end`)."""
    if isinstance(node, ScalarNode):
        return _scalar_end(source.text, node)
    if is_flow(source, node):
        return node.span.end
    return _block_content_end(source, node)


def _entry_end(source: SourceFile, key_span: Span, value: Node) -> int:
    """End of a ``key: value`` entry's content; an aliased value ends on the key's line."""
    text = source.text
    if value.span.path == source.path and value.span.start >= key_span.end:
        if isinstance(value, ScalarNode) and value.value is None and not value.raw:
            return max(key_span.end, min(value.span.end, _line_content_end(text, key_span.end)))
        return max(key_span.end, _value_end(source, value))
    return _line_content_end(text, key_span.end)


def _block_content_end(source: SourceFile, node: Node) -> int:
    """Offset just after the last character a block mapping or sequence has written (its last
    leaf), so that comments and blank lines that follow are not counted as its content."""
    text = source.text
    region_start = node.span.start
    region_end = max(node.span.end, region_start)
    best = -1
    if isinstance(node, MapNode):
        for key, key_span in node.keys.items():
            if key_span.path == source.path and region_start <= key_span.start < region_end + 1:
                best = max(best, _entry_end(source, key_span, node.items[key]))
    elif isinstance(node, SeqNode):
        previous = region_start
        for item in node.items:
            if item.span.path == source.path and previous <= item.span.start <= region_end:
                best = max(best, _value_end(source, item))
                previous = item.span.start
    if best >= 0:
        return best
    return _walk_back(text, region_end, region_start)


def _walk_back(text: str, pos: int, floor: int) -> int:
    """From ``pos`` back over blanks and whole comment lines to the end of the last content."""
    while pos > floor:
        start = max(_line_start(text, pos), floor)
        segment = text[start:pos]
        stripped = segment.strip()
        if stripped and not stripped.startswith("#"):
            return start + len(segment.rstrip())
        pos = start - 1 if start > floor else floor
    return pos


def _block_column(source: SourceFile, mapping: MapNode) -> int | None:
    """The column (0-based) of a block mapping's keys."""
    written = [span for key, span in mapping.keys.items() if key_is_written(source, mapping, key)]
    if written:
        first = min(written, key=lambda s: s.start)
        return first.column - 1
    text = source.text
    start = _content_start(text, mapping.span.start)
    if start >= len(text):
        return None
    return start - _line_start(text, start)


def _other_content(text: str, mapping: MapNode, cut_start: int, cut_end: int, source: SourceFile) -> bool:
    """Whether the mapping's text keeps a non-comment line (e.g. a merge key) after a cut."""
    start = _content_start(text, mapping.span.start)
    end = _walk_back(text, mapping.span.end, start)
    for segment in (text[start:cut_start], text[cut_end:end]):
        for line in segment.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return True
    return False


def _flow_insert(source: SourceFile, node: Node, entry: str) -> Edit | None:
    """Insert ``entry`` as the last entry of a flow collection. The last entry's end comes from
    the node tree, not from the text before the bracket: a comment line before a closing
    bracket on its own line (``# note\n]``) is not content, and text added there would be a
    comment too."""
    text = source.text
    close = node.span.end - 1
    if text[close : close + 1] not in ("}", "]"):
        return None
    last = _flow_last_end(source, node)
    if last is None:  # empty: right after the opening bracket
        content_at = _content_start(text, node.span.start)
        if text[content_at : content_at + 1] not in ("{", "["):
            return None
        return Edit(source.path, content_at + 1, content_at + 1, entry)
    pos = _skip_flow_gap(text, last, close)
    if text[pos : pos + 1] == ",":  # a trailing comma: the entry goes after it
        return Edit(source.path, pos + 1, pos + 1, f" {entry},")
    return Edit(source.path, last, last, f", {entry}")


def _flow_last_end(source: SourceFile, node: Node) -> int | None:
    """End offset of the last entry written inside a flow collection (None when empty)."""
    ends: list[int] = []
    inside = node.span.start, node.span.end
    if isinstance(node, SeqNode):
        nodes: list[Node] = list(node.items)
    elif isinstance(node, MapNode):
        nodes = list(node.items.values())
        ends.extend(span.end for span in node.keys.values()
                    if span.path == source.path and inside[0] < span.start < inside[1])
    else:
        return None
    for item in nodes:
        if item.span.path == source.path and inside[0] < item.span.start < inside[1]:
            ends.append(item.span.end)
    return max(ends) if ends else None


def _skip_flow_gap(text: str, pos: int, end: int) -> int:
    """From ``pos``, skip blanks, line breaks and comments (``#`` after a blank, to the end of
    its line) up to ``end``; returns the first other offset."""
    while pos < end:
        c = text[pos]
        if c in " \t\r\n":
            pos += 1
        elif c == "#" and (pos == 0 or text[pos - 1] in " \t\r\n"):
            pos = min(_after_line(text, pos), end)
        else:
            break
    return pos


# ---------------------------------------------------------------------------------------------
# Internals: rendering


def _is_seq(value: Value) -> bool:
    return not isinstance(value, (str, Mapping))


def _flow(source: SourceFile, value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar_text(source, str(k), True)}: {_flow(source, v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_flow(source, v) for v in value) + "]"


def _block_entry(source: SourceFile, key_text: str, value: Value, column: int) -> str:
    """``key: value`` at ``column`` with its line ending; nested values on indented lines."""
    style = file_style(source)
    pad = " " * column
    if isinstance(value, str) or not value:
        shown = value if isinstance(value, str) else _flow(source, value)
        return f"{pad}{key_text}: {shown}{style.eol}"
    step = style.seq_indent if _is_seq(value) else style.indent
    lines = [f"{pad}{key_text}:"] + _block_lines(source, value, column + step)
    return style.eol.join(lines) + style.eol


def _block_item(source: SourceFile, item: Value, column: int) -> str:
    style = file_style(source)
    return style.eol.join(_seq_lines(source, [item], column)) + style.eol


def _block_lines(source: SourceFile, value: Value, column: int) -> list[str]:
    """Lines (without line endings) of a dict or list in block style at ``column``."""
    if isinstance(value, str):
        return [" " * column + value]
    if isinstance(value, Mapping):
        lines: list[str] = []
        for key, item in value.items():
            lines.extend(_block_entry(source, scalar_text(source, str(key)), item, column).split(file_style(source).eol)[:-1])
        return lines
    return _seq_lines(source, value, column)


def _seq_lines(source: SourceFile, items: Sequence[Value], column: int) -> list[str]:
    pad = " " * column
    lines: list[str] = []
    for item in items:
        if isinstance(item, str) or not item:
            lines.append(f"{pad}- {_flow(source, item)}")
            continue
        inner = _block_lines(source, item, column + 2)
        first = inner[0]
        lines.append(f"{pad}- {first[column + 2:]}")
        lines.extend(inner[1:])
    return lines
