"""The Celery app's own configuration, read from its Python source with ``ast``.

Nothing is imported or executed: the module text is parsed and a small evaluator follows the
forms Celery apps are written in (``Celery(...)`` keywords, ``app.conf.update(...)``,
``app.conf.NAME = ...``, ``app.config_from_object(...)`` with a module name, an imported module
or a class, Django's ``"django.conf:settings"`` with ``namespace="CELERY"``, a ``celeryconfig``
module, the old upper-case names). Values are literals, arithmetic, ``timedelta(...)``,
``os.environ.get``/``os.getenv``/``os.environ[...]`` (resolved from the service's environment,
else the default given, else unknown) and ``int``/``float``/``str``/``bool`` around them. What the
reader cannot follow is :data:`UNKNOWN`, never a guess.

Precedence is Celery's (``celery/app/base.py``, ``app/utils.py detect_settings``): keyword
arguments of ``Celery(...)`` and ``conf.update``/``conf.NAME = ...`` are the "changes" layer,
above the object given to ``config_from_object`` (the last call wins), above the defaults.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from vantage_lint.compose.unknown import has_unknown
from vantage_lint.findings import Span
from vantage_lint.source import SourceFile, is_file


class _Unknown:
    """A value the reader cannot know (a variable set elsewhere, a call it does not follow)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # never silently truthy or falsy in a rule
        raise TypeError("UNKNOWN has no truth value")


UNKNOWN: Any = _Unknown()
MAX_IMPORT_DEPTH = 8
MAX_NUMBER = 10**15
MAX_TEXT = 100_000


def is_unknown(value: object) -> bool:
    return value is UNKNOWN


@cache
def settings_table() -> dict[str, dict[str, Any]]:
    """Celery's settings (``data/celery-settings.json``, generated from celery by
    ``scripts/gen_celery_settings.py``): type, default, old upper-case name."""
    # read as a file beside the package (importlib.resources costs more to import than the table)
    text = (Path(__file__).resolve().parent.parent / "data" / "celery-settings.json").read_text(encoding="utf-8")
    return json.loads(text)["settings"]


@cache
def _old_names() -> dict[str, str]:
    return {info["old"]: name for name, info in settings_table().items() if info.get("old")}


def canonical(key: str, namespace: str | None = None) -> str | None:
    """The setting a key names: ``task_time_limit``, ``CELERYD_TASK_TIME_LIMIT`` (old name) or,
    with ``namespace="CELERY"``, ``CELERY_TASK_TIME_LIMIT``; None when it names no setting."""
    table = settings_table()
    if namespace:
        prefix = namespace + "_"
        if not key.startswith(prefix):
            return None
        name = key[len(prefix):].lower()
        return name if name in table else None
    if key in table:
        return key
    return _old_names().get(key)


def default(name: str) -> Any:
    info = settings_table().get(name)
    return info["default"] if info is not None else None


@dataclass(frozen=True, slots=True)
class AppSetting:
    name: str               # canonical: "task_time_limit"
    value: Any              # the Python value, or UNKNOWN (containers may hold UNKNOWN items)
    written: str            # as written: "CELERY_TASK_TIME_LIMIT", "app.conf.task_acks_late", "Celery(broker=...)"
    span: Span              # the assignment's value in the .py file
    env: tuple[str, ...] = ()   # environment variables the value reads

    def describe(self) -> str:
        """Where it came from, for messages: ``task_time_limit = 28800 (proj/settings.py:12)``."""
        return f"{self.written} = {show_value(self.value)} ({self.span})"


def show_value(value: Any) -> str:
    if value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(slots=True)
class AppProblem:
    kind: str               # "syntax" | "unreadable" | "outside" | "dynamic"
    message: str
    span: Span


@dataclass(slots=True)
class AppConfig:
    """What the reader learnt of one Celery app."""

    module: str                                 # "proj.celery"
    app_span: Span | None = None                # the Celery(...) call
    settings: dict[str, AppSetting] = field(default_factory=dict)
    # False when something the reader could not follow may set settings it did not see
    # (a config object it could not read, ``conf.update(**x)``, ``globals()`` tricks): then a
    # setting not seen is unknown, not its default.
    complete: bool = True
    incomplete_why: str = ""
    namespace: str | None = None
    django_settings: str | None = None          # the settings module the app loads, when Django
    maps_environ: bool = False                  # config_from_object(os.environ, namespace=...)
    env_read: set[str] = field(default_factory=set)  # variables the settings read
    countdowns: list[tuple[float, Span]] = field(default_factory=list)  # countdown=N seen in the code
    files: list[SourceFile] = field(default_factory=list)
    problems: list[AppProblem] = field(default_factory=list)

    def get(self, name: str) -> AppSetting | None:
        return self.settings.get(name)

    def value(self, name: str) -> Any:
        """The setting's value: as configured, else Celery's default when the reader saw all
        of the configuration, else UNKNOWN."""
        setting = self.settings.get(name)
        if setting is not None:
            return setting.value
        return default(name) if self.complete else UNKNOWN

    def mark_incomplete(self, why: str) -> None:
        if self.complete:
            self.complete, self.incomplete_why = False, why


# --- finding modules ---------------------------------------------------------------------------

Reader = Callable[[Path], SourceFile]


class MappedRoot(Protocol):
    """An import root in a container: gives, for a module's name parts, the host files to try
    (``NAME.py``, then ``NAME/__init__.py``), or a reason (str) where the container's content
    at that path is not known."""

    def candidates(self, parts: Sequence[str]) -> Iterator[Path | str]: ...


@dataclass(slots=True)
class ModuleFinder:
    """Resolves dotted module names under import roots, reading only regular files inside the
    project folder through the source layer."""

    roots: list[Path | MappedRoot]
    project_root: Path
    reader: Reader
    loaded: dict[str, tuple[SourceFile, ast.Module] | None] = field(default_factory=dict)
    problems: list[AppProblem] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    # What stopped a lookup: a container path the linter cannot map to a host file.
    unfollowed: list[str] = field(default_factory=list)

    def path_of(self, module: str) -> Path | None:
        parts = module.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        for root in self.roots:
            if isinstance(root, Path):
                base = root.joinpath(*parts)
                candidates: Iterable[Path | str] = (base.with_name(base.name + ".py"), base / "__init__.py")
            else:
                candidates = root.candidates(parts)
            for candidate in candidates:
                if isinstance(candidate, str):
                    # The container may hold the module where the linter cannot see: stop, unknown.
                    if candidate not in self.unfollowed:
                        self.unfollowed.append(candidate)
                    return None
                if is_file(candidate) and self.inside(candidate):
                    return candidate
        return None

    def is_package(self, module: str) -> bool:
        path = self.path_of(module)
        return path is not None and path.name == "__init__.py"

    def inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.project_root)
        except OSError:
            return False

    def load(self, module: str) -> tuple[SourceFile, ast.Module] | None:
        if module in self.loaded:
            return self.loaded[module]
        self.loaded[module] = None
        path = self.path_of(module)
        if path is None:
            return None
        try:
            source = self.reader(path)
        except Exception as exc:  # SourceError or OSError: reported, never raised
            span = getattr(exc, "span", None)
            where = span() if callable(span) else Span(str(path), 1, 1, 1, 1)
            message = getattr(exc, "message", None) or getattr(exc, "strerror", None) or str(exc)
            self.problems.append(AppProblem("unreadable", f"cannot read {where.path}: {message}", where))
            return None
        self.files.append(source)
        tree = parse(source, self.problems)
        if tree is None:
            return None
        self.loaded[module] = (source, tree)
        return self.loaded[module]


def parse(source: SourceFile, problems: list[AppProblem]) -> ast.Module | None:
    try:
        return ast.parse(source.text, filename=source.path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = max(1, exc.offset or 1)
        span = Span(source.path, line, column, line, column + 1, *(2 * [source.offset(line, column)]))
        problems.append(AppProblem("syntax", f"{exc.msg} at line {line}", span))
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        problems.append(AppProblem("syntax", f"cannot parse: {type(exc).__name__}", source.whole_span()))
    return None


def node_span(source: SourceFile, node: ast.AST) -> Span:
    """The node's span; ast columns count UTF-8 bytes, spans count characters."""
    line = getattr(node, "lineno", 1)
    end_line = getattr(node, "end_lineno", None) or line
    col = _char_column(source, line, getattr(node, "col_offset", 0))
    end_col = _char_column(source, end_line, getattr(node, "end_col_offset", None) or 0)
    start = source.offset(line, col)
    end = source.offset(end_line, end_col) if end_line > line or end_col > col else start
    return Span(source.path, line, col, end_line, max(end_col, col if end_line == line else 1), start, end)


def _char_column(source: SourceFile, line: int, byte_offset: int) -> int:
    text = source.line_text(line)
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1


# --- evaluating expressions ----------------------------------------------------------------------

_TIMEDELTA_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
                    "milliseconds": 0.001, "microseconds": 0.000001}
_TIMEDELTA_POSITIONAL = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")


@dataclass(slots=True)
class Evaluator:
    """Evaluates the expressions settings are written with; anything else is UNKNOWN."""

    environ: Mapping[str, str]
    names: dict[str, Any] = field(default_factory=dict)
    env_read: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)   # local name -> dotted origin ("os.environ")

    def dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def __call__(self, node: ast.AST, depth: int = 0) -> Any:
        if depth > 50:
            return UNKNOWN
        try:
            return self._eval(node, depth + 1)
        except (ArithmeticError, TypeError, ValueError, OverflowError):
            return UNKNOWN

    def _eval(self, node: ast.AST, depth: int) -> Any:
        ev = lambda n: self(n, depth)  # noqa: E731
        if isinstance(node, ast.Constant):
            value = node.value
            return value if isinstance(value, (str, int, float, bool, type(None))) else UNKNOWN
        if isinstance(node, ast.Name):
            return self.names.get(node.id, UNKNOWN)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = [ev(e) for e in node.elts if not isinstance(e, ast.Starred)]
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return UNKNOWN
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            result: dict[Any, Any] = {}
            for key, value in zip(node.keys, node.values):
                if key is None:
                    return UNKNOWN      # {**other}
                k = ev(key)
                if k is UNKNOWN or not isinstance(k, (str, int, float, bool)):
                    return UNKNOWN
                result[k] = ev(value)
            return result
        if isinstance(node, ast.UnaryOp):
            operand = ev(node.operand)
            if operand is UNKNOWN:
                return UNKNOWN
            if isinstance(node.op, ast.USub) and _number(operand):
                return -operand
            if isinstance(node.op, ast.UAdd) and _number(operand):
                return operand
            if isinstance(node.op, ast.Not):
                return not operand
            return UNKNOWN
        if isinstance(node, ast.BinOp):
            return _binop(node.op, ev(node.left), ev(node.right))
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            result = values[0]
            for value in values[1:]:
                if result is UNKNOWN:
                    return UNKNOWN
                if isinstance(node.op, ast.Or):
                    if result:
                        return result
                elif not result:
                    return result
                result = value
            return result
        if isinstance(node, ast.IfExp):
            test = ev(node.test)
            if test is UNKNOWN:
                return UNKNOWN
            return ev(node.body) if test else ev(node.orelse)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = ev(node.left), ev(node.comparators[0])
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            op = node.ops[0]
            if isinstance(op, ast.Eq):
                return left == right
            if isinstance(op, ast.NotEq):
                return left != right
            if isinstance(op, ast.In) and isinstance(right, (str, list, tuple)):
                return left in right
            return UNKNOWN
        if isinstance(node, ast.Subscript):
            target = self.dotted(node.value)
            if target in ("os.environ", "environ"):
                key = ev(node.slice)
                return self._env(key, None, has_default=False)
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return UNKNOWN

    def _env(self, key: Any, fallback: Any, has_default: bool) -> Any:
        if not isinstance(key, str):
            return UNKNOWN
        self.env_read.append(key)
        raw = self.environ.get(key)
        if raw is not None:
            # A value Compose could not resolve (or a container-side variable) is unknown.
            return UNKNOWN if "$" in raw else raw
        return fallback if has_default else UNKNOWN

    def _call(self, node: ast.Call, depth: int) -> Any:
        name = self.dotted(node.func) or ""
        args = [self(a, depth) for a in node.args if not isinstance(a, ast.Starred)]
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return UNKNOWN
        kwargs = {k.arg: self(k.value, depth) for k in node.keywords}
        short = name.rsplit(".", 1)[-1]
        if name in ("os.environ.get", "environ.get", "os.getenv", "getenv", "os.environ.setdefault"):
            key = args[0] if args else kwargs.get("key", UNKNOWN)
            if len(args) > 1 or "default" in kwargs:
                return self._env(key, args[1] if len(args) > 1 else kwargs["default"], True)
            # os.environ.get("X") with X unset is None; the image may set X, so: unknown.
            return self._env(key, None, False)
        if short == "timedelta" and name in ("timedelta", "datetime.timedelta"):
            total = 0.0
            for index, value in enumerate(args[: len(_TIMEDELTA_POSITIONAL)]):
                kwargs[_TIMEDELTA_POSITIONAL[index]] = value
            for unit, value in kwargs.items():
                if unit not in _TIMEDELTA_UNITS or not _number(value):
                    return UNKNOWN
                total += value * _TIMEDELTA_UNITS[unit]
            return total
        if name in ("int", "float", "str", "bool") and len(args) == 1 and not kwargs:
            value = args[0]
            if value is UNKNOWN:
                return UNKNOWN
            if name == "int":
                return int(value) if not isinstance(value, float) else int(value)
            if name == "float":
                return float(value)
            if name == "str":
                return str(value) if isinstance(value, (str, int, float, bool)) else UNKNOWN
            return bool(value)
        return UNKNOWN


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _binop(op: ast.operator, left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if isinstance(left, str) and isinstance(right, str) and isinstance(op, ast.Add):
        return left + right if len(left) + len(right) <= MAX_TEXT else UNKNOWN
    if not (_number(left) and _number(right)):
        return UNKNOWN
    if isinstance(op, ast.Pow) and (abs(right) > 64 or abs(left) > MAX_NUMBER):
        return UNKNOWN
    operations = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right, ast.Mult: lambda: left * right,
                  ast.Div: lambda: left / right, ast.FloorDiv: lambda: left // right,
                  ast.Mod: lambda: left % right, ast.Pow: lambda: left ** right}
    compute = operations.get(type(op))
    if compute is None:
        return UNKNOWN
    result = compute()
    return result if isinstance(result, (int, float)) and abs(result) <= MAX_NUMBER else UNKNOWN


# --- reading settings modules --------------------------------------------------------------------

_DYNAMIC_CALLS = frozenset({"exec", "eval", "setattr", "globals", "locals", "vars", "__import__",
                            "importlib.import_module", "import_module"})
_APP_KWARGS = {"broker": "broker_url", "backend": "result_backend", "include": "include"}


def _record_import(evaluator: Evaluator, stmt: ast.Import | ast.ImportFrom) -> None:
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            evaluator.aliases[alias.asname or alias.name.split(".")[0]] = \
                alias.name if alias.asname else alias.name.split(".")[0]
    elif stmt.level == 0 and stmt.module:
        for alias in stmt.names:
            if alias.name != "*":
                evaluator.aliases[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"


def resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute module an ``from .x import`` in ``module`` names."""
    if level == 0:
        return name
    parts = module.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 0 or (keep == 0 and not name):
        return None
    base = parts[:keep]
    return ".".join(base + ([name] if name else [])) or None


def _dynamic(stmt: ast.stmt, evaluator: Evaluator) -> bool:
    """Statements that may set names the reader cannot see (``globals().update(...)`` ...)."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            name = evaluator.dotted(node.func) or ""
            if name in _DYNAMIC_CALLS or name.split(".", 1)[0] in ("globals", "locals", "vars"):
                return True
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
                inner = evaluator.dotted(node.func.value.func) or ""
                if inner in ("globals", "locals", "vars"):
                    return True
    return False


@dataclass(slots=True)
class _Reading:
    finder: ModuleFinder
    config: AppConfig
    environ: Mapping[str, str]


def read_settings(reading: _Reading, module: str, namespace: str | None, into: dict[str, AppSetting],
                  evaluator: Evaluator | None = None, depth: int = 0, certain: bool = True,
                  body: list[ast.stmt] | None = None, source: SourceFile | None = None) -> bool:
    """Read the settings a config module (or a class body) defines into ``into``; False when the
    module could not be read."""
    if depth > MAX_IMPORT_DEPTH:
        reading.config.mark_incomplete(f"imports nested deeper than {MAX_IMPORT_DEPTH} levels")
        return False
    if body is None:
        loaded = reading.finder.load(module)
        if loaded is None:
            return False
        source, tree = loaded
        body = tree.body
    assert source is not None
    evaluator = evaluator or Evaluator(reading.environ)
    package = reading.finder.is_package(module)
    _read_body(reading, module, package, namespace, into, evaluator, depth, certain, body, source)
    return True


def _read_body(reading: _Reading, module: str, package: bool, namespace: str | None,
               into: dict[str, AppSetting], evaluator: Evaluator, depth: int, certain: bool,
               body: list[ast.stmt], source: SourceFile) -> None:
    config = reading.config
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _record_import(evaluator, stmt)
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                target = resolve_relative(module, package, stmt.level, stmt.module)
                if target is None or not read_settings(reading, target, namespace, into, evaluator,
                                                       depth + 1, certain):
                    if target is None or not target.startswith(("celery", "kombu", "django")):
                        config.mark_incomplete(f"`from {'.' * stmt.level}{stmt.module or ''} import *` "
                                               f"in {source.path} could not be read")
            continue
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)) and _dynamic(stmt, evaluator):
            config.mark_incomplete(f"{source.path}:{stmt.lineno} sets names dynamically")
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value_node = stmt.value
            if value_node is None:
                continue
            value = evaluator(value_node) if certain and not isinstance(stmt, ast.AugAssign) else UNKNOWN
            env = tuple(evaluator.env_read)
            evaluator.env_read.clear()
            config.env_read.update(env)
            for target in targets:
                names = [target] if isinstance(target, ast.Name) else \
                    [e for e in getattr(target, "elts", []) if isinstance(e, ast.Name)]
                for name_node in names:
                    this = value if name_node is target else UNKNOWN
                    evaluator.names[name_node.id] = this
                    setting = canonical(name_node.id, namespace)
                    if setting is not None:
                        into[setting] = AppSetting(setting, this, name_node.id, node_span(source, value_node), env)
            continue
        if isinstance(stmt, (ast.If, ast.Try, ast.For, ast.While, ast.With, ast.AsyncFor, ast.AsyncWith)):
            # Which branch runs (or how often) is not known: settings set inside are unknown.
            inner: list[ast.stmt] = []
            for name in ("body", "orelse", "finalbody"):
                inner.extend(getattr(stmt, name, []) or [])
            for handler in getattr(stmt, "handlers", []) or []:
                inner.extend(handler.body)
            _read_body(reading, module, package, namespace, into, evaluator, depth, False, inner, source)


# --- reading the app module ----------------------------------------------------------------------

def _is_celery_call(node: ast.AST, evaluator: Evaluator) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = evaluator.dotted(node.func) or ""
    return name in ("Celery", "celery.Celery", "celery.app.base.Celery", "celery.app.Celery")


def _conf_of(node: ast.AST, app_names: set[str]) -> bool:
    """``node`` is ``<app>.conf``."""
    return (isinstance(node, ast.Attribute) and node.attr == "conf" and isinstance(node.value, ast.Name)
            and node.value.id in app_names)


def _app_call(node: ast.AST, app_names: set[str], method: str) -> ast.Call | None:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
            and isinstance(node.func.value, ast.Name) and node.func.value.id in app_names):
        return node
    return None


def find_app_module(finder: ModuleFinder, spec: str) -> tuple[str, str | None] | None:
    """(module, attribute) that ``-A spec`` names, as Celery's ``find_app`` resolves it; None when
    no such module is in the project."""
    spec = spec.strip()
    module, colon, attribute = spec.partition(":")
    if colon:
        return (module, attribute or None) if finder.path_of(module) else None
    if finder.path_of(module):
        return module, None
    head, _, tail = module.rpartition(".")
    if head and finder.path_of(head):
        return head, tail
    return None


def _celery_assignments(tree: ast.Module, evaluator: Evaluator) -> list[tuple[str, ast.Call]]:
    found = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _record_import(evaluator, stmt)
        if isinstance(stmt, ast.Assign) and _is_celery_call(stmt.value, evaluator):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    found.append((target.id, stmt.value))
    return found


def read_app(finder: ModuleFinder, spec: str, environ: Mapping[str, str],
             config_module_env: str | None = None, depth: int = 0) -> AppConfig | None:
    """Read the app ``-A spec`` names; None when its module is not in the project."""
    located = find_app_module(finder, spec)
    if located is None:
        return None
    module, attribute = located
    loaded = finder.load(module)
    config = AppConfig(module=module)
    reading = _Reading(finder, config, environ)
    if loaded is None:
        config.problems.extend(finder.problems)
        config.files = list(finder.files)
        config.mark_incomplete("the app module could not be parsed")
        return config
    source, tree = loaded
    evaluator = Evaluator(environ)
    apps = _celery_assignments(tree, evaluator)
    chosen = _choose(apps, attribute)
    if chosen is None and attribute is None and finder.is_package(module) and finder.path_of(module + ".celery"):
        return read_app(finder, module + ".celery", environ, config_module_env)
    if chosen is None and depth < MAX_IMPORT_DEPTH:
        # `-A pkg.celery_app` where pkg/__init__.py has `from .celery import app as celery_app`.
        for name in ([attribute] if attribute else ["app", "celery"]):
            origin = _imported_module(tree, name, module, finder.is_package(module))
            if origin is None:
                continue
            parent, _, imported = origin.rpartition(".")
            if parent and finder.path_of(parent) and not finder.path_of(origin):
                return read_app(finder, f"{parent}:{imported}", environ, config_module_env, depth + 1)
    if chosen is None:
        config.mark_incomplete(f"no module-level `Celery(...)` assignment in {source.path}")
        config.files = list(finder.files)
        config.problems.extend(finder.problems)
        return config
    name, call = chosen
    config.app_span = node_span(source, call)
    app_names = {name}
    changes: dict[str, AppSetting] = {}
    base: dict[str, AppSetting] = {}
    config_source: tuple[ast.AST, str | None, ast.Call] | None = None
    for keyword in call.keywords:
        if keyword.arg is None:
            config.mark_incomplete(f"`Celery(**...)` in {source.path}")
            continue
        if keyword.arg == "namespace":
            namespace = evaluator(keyword.value)
            config.namespace = namespace if isinstance(namespace, str) else None
            continue
        if keyword.arg == "config_source":
            config_source = (keyword.value, None, call)
            continue
        setting = _APP_KWARGS.get(keyword.arg) or canonical(keyword.arg)
        if setting is not None:
            _put(changes, setting, keyword.value, f"Celery({keyword.arg}=...)", source, evaluator, config)
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _dynamic(stmt, evaluator):
            config.mark_incomplete(f"{source.path}:{stmt.lineno} runs code the linter does not follow")
        _app_statement(stmt, reading, source, evaluator, app_names, changes, True, module)
        if isinstance(stmt, ast.Expr):
            found = _app_call(stmt.value, app_names, "config_from_object")
            if found is not None and found.args:
                namespace_node = next((k.value for k in found.keywords if k.arg == "namespace"), None)
                namespace = evaluator(namespace_node) if namespace_node is not None else None
                config_source = (found.args[0], namespace if isinstance(namespace, str) else None, found)
            found = _app_call(stmt.value, app_names, "config_from_envvar")
            if found is not None and found.args:
                variable = evaluator(found.args[0])
                target = environ.get(variable) if isinstance(variable, str) else None
                if target and "$" not in target and not has_unknown(target):
                    config_source = (ast.Constant(target), None, found)
                else:
                    config.mark_incomplete(f"config_from_envvar({show_value(variable)}) names a module the "
                                           "file does not tell")
        _django_default(stmt, evaluator, config)
    if config_source is None and config_module_env:
        config_source = (ast.Constant(config_module_env), None, call)   # CELERY_CONFIG_MODULE
    if config_source is not None:
        node, namespace, at = config_source
        if namespace is not None:
            config.namespace = namespace
        _read_source(reading, module, source, tree, node, config.namespace, base, environ, at)
    merged = dict(base)
    merged.update(changes)
    config.settings = merged
    _scan_countdowns(finder, config, call, evaluator)
    config.files = list(finder.files)
    config.problems.extend(finder.problems)
    return config


def _choose(apps: list[tuple[str, ast.Call]], attribute: str | None) -> tuple[str, ast.Call] | None:
    if attribute is not None:
        return next((a for a in apps if a[0] == attribute), None)
    for preferred in ("app", "celery"):
        found = next((a for a in apps if a[0] == preferred), None)
        if found is not None:
            return found
    return apps[0] if apps else None


def _put(into: dict[str, AppSetting], setting: str, node: ast.AST, written: str, source: SourceFile,
         evaluator: Evaluator, config: AppConfig, certain: bool = True) -> None:
    value = evaluator(node) if certain else UNKNOWN
    env = tuple(evaluator.env_read)
    evaluator.env_read.clear()
    config.env_read.update(env)
    into[setting] = AppSetting(setting, value, written, node_span(source, node), env)


def _app_statement(stmt: ast.stmt, reading: _Reading, source: SourceFile, evaluator: Evaluator,
                   app_names: set[str], changes: dict[str, AppSetting], certain: bool, module: str) -> None:
    config = reading.config
    if isinstance(stmt, (ast.If, ast.Try, ast.With)):
        inner: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            inner.extend(getattr(stmt, name, []) or [])
        for handler in getattr(stmt, "handlers", []) or []:
            inner.extend(handler.body)
        for child in inner:
            _app_statement(child, reading, source, evaluator, app_names, changes, False, module)
        return
    if isinstance(stmt, ast.Assign) and not _is_celery_call(stmt.value, evaluator):
        for target in stmt.targets:
            if isinstance(target, ast.Attribute) and _conf_of(target.value, app_names):
                setting = canonical(target.attr)
                if setting is not None:
                    _put(changes, setting, stmt.value, f"{target.value.value.id}.conf.{target.attr}",  # type: ignore[attr-defined]
                         source, evaluator, config, certain)
            elif isinstance(target, ast.Subscript) and _conf_of(target.value, app_names):
                key = evaluator(target.slice)
                setting = canonical(key) if isinstance(key, str) else None
                if setting is not None:
                    _put(changes, setting, stmt.value, f"conf[{key!r}]", source, evaluator, config, certain)
            elif isinstance(target, ast.Name):
                evaluator.names[target.id] = evaluator(stmt.value) if certain else UNKNOWN
                evaluator.env_read.clear()
        return
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return
    call = stmt.value
    if isinstance(call.func, ast.Attribute) and call.func.attr == "update" and _conf_of(call.func.value, app_names):
        for arg in call.args:
            if isinstance(arg, ast.Dict):
                for key_node, value_node in zip(arg.keys, arg.values):
                    key = evaluator(key_node) if key_node is not None else None
                    setting = canonical(key) if isinstance(key, str) else None
                    if key_node is None or not isinstance(key, str):
                        config.mark_incomplete(f"conf.update with keys the file does not tell ({source.path})")
                    elif setting is not None:
                        _put(changes, setting, value_node, key, source, evaluator, config, certain)
            else:
                value = evaluator(arg)
                if isinstance(value, dict):
                    for key, item in value.items():
                        setting = canonical(key) if isinstance(key, str) else None
                        if setting is not None:
                            changes[setting] = AppSetting(setting, item if certain else UNKNOWN, str(key),
                                                          node_span(source, arg))
                else:
                    config.mark_incomplete(f"conf.update({ast.unparse(arg)[:40]}) in {source.path}")
        for keyword in call.keywords:
            if keyword.arg is None:
                config.mark_incomplete(f"conf.update(**...) in {source.path}")
                continue
            setting = canonical(keyword.arg)
            if setting is not None:
                _put(changes, setting, keyword.value, keyword.arg, source, evaluator, config, certain)
        return
    if not certain and _app_call(call, app_names, "config_from_object") is not None:
        config.mark_incomplete(f"config_from_object inside a condition ({source.path}:{stmt.lineno})")


def _django_default(stmt: ast.stmt, evaluator: Evaluator, config: AppConfig) -> None:
    """``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")``: the settings module
    when the service does not set the variable."""
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return
    call = stmt.value
    if (evaluator.dotted(call.func) or "") not in ("os.environ.setdefault", "environ.setdefault"):
        return
    if len(call.args) == 2 and evaluator(call.args[0]) == "DJANGO_SETTINGS_MODULE":
        value = evaluator(call.args[1])
        evaluator.env_read.clear()
        if isinstance(value, str) and config.django_settings is None:
            config.django_settings = value


def _read_source(reading: _Reading, module: str, source: SourceFile, tree: ast.Module, node: ast.AST,
                 namespace: str | None, into: dict[str, AppSetting], environ: Mapping[str, str],
                 at: ast.Call) -> None:
    """Read the object given to ``config_from_object``."""
    config = reading.config
    finder = reading.finder
    evaluator = Evaluator(environ)
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _record_import(evaluator, stmt)
    value = evaluator(node)
    if isinstance(node, ast.Name) and node.id == "__name__":
        value = module
    dotted = evaluator.dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if dotted in ("os.environ", "environ"):
        config.maps_environ = True
        prefix = (namespace + "_") if namespace else ""
        for name, raw in environ.items():
            setting = canonical(name, namespace) if namespace else canonical(name)
            if setting is not None:
                into[setting] = AppSetting(setting, UNKNOWN if "$" in raw else raw, name, node_span(source, at), (name,))
        config.env_read.update(n for n in environ if n.startswith(prefix))
        return
    if isinstance(value, str):
        target, _, attribute = value.partition(":")
        if target == "django.conf" and attribute == "settings":
            settings_module = environ.get("DJANGO_SETTINGS_MODULE") or config.django_settings
            if settings_module and "$" not in settings_module and not has_unknown(settings_module):
                config.django_settings = settings_module
                if not read_settings(reading, settings_module, namespace, into):
                    config.mark_incomplete(f"the Django settings module {settings_module} is not in the project")
            else:
                config.mark_incomplete("DJANGO_SETTINGS_MODULE is not set where the linter can see it")
            return
        if attribute:
            loaded = finder.load(target)
            body = _class_body(loaded[1], attribute) if loaded is not None else None
            if loaded is None or body is None:
                config.mark_incomplete(f"config_from_object({value!r}) names an object the linter cannot read")
                return
            read_settings(reading, target, namespace, into, body=body, source=loaded[0])
            return
        if not read_settings(reading, target, namespace, into):
            config.mark_incomplete(f"config module {target} is not in the project")
        return
    if isinstance(node, ast.Name):
        body = _class_body(tree, node.id)
        if body is not None:
            read_settings(reading, module, namespace, into, body=body, source=source)
            return
        origin = _imported_module(tree, node.id, module, finder.is_package(module))
        if origin is not None and read_settings(reading, origin, namespace, into):
            return
    config.mark_incomplete(f"config_from_object({ast.unparse(node)[:40]}) is not followed ({source.path})")


def _class_body(tree: ast.Module, name: str) -> list[ast.stmt] | None:
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return stmt.body
    return None


def _imported_module(tree: ast.Module, name: str, module: str, package: bool) -> str | None:
    """The module a name was imported as: ``import celeryconfig``, ``from . import celeryconfig``."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    return alias.name
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    parent = resolve_relative(module, package, stmt.level, stmt.module)
                    return f"{parent}.{alias.name}" if parent else alias.name
    return None


def _scan_countdowns(finder: ModuleFinder, config: AppConfig, call: ast.Call, evaluator: Evaluator) -> None:
    """``countdown=N`` and ``default_retry_delay=N`` in the app module and the modules it lists
    in ``include``: ETA use the linter can see."""
    include = config.settings.get("include")
    modules = [config.module]
    if include is not None and isinstance(include.value, (list, tuple)):
        modules += [m for m in include.value if isinstance(m, str)]
    for name in modules:
        loaded = finder.load(name)
        if loaded is None:
            continue
        source, tree = loaded
        local = Evaluator({}, aliases=evaluator.aliases)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg in ("countdown", "default_retry_delay"):
                    value = local(keyword.value)
                    if _number(value):
                        config.countdowns.append((float(value), node_span(source, keyword.value)))
