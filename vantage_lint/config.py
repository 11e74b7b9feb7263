"""Configuration files: discovery, ``extends``, validation and the resulting :class:`Settings`.

``.vantage-lint.yaml`` (or ``.yml``) or ``[tool.vantage-lint]`` in ``pyproject.toml`` is found
by walking up from the linted path to the repository root (a folder holding ``.git``) or the
filesystem root. The whole file is validated with jsonschema against the base schema
(``schemas/config.schema.json``) extended with every rule's ``options_schema``; the first
error names the file, the line and the key, and is raised as :class:`ConfigError` (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vantage_lint.findings import Severity
from vantage_lint.registry import Rule, RuleSet, load_rules
from vantage_lint.settings import Settings

CONFIG_NAMES = (".vantage-lint.yaml", ".vantage-lint.yml")
PYPROJECT = "pyproject.toml"
TOOL_TABLE = ("tool", "vantage-lint")
PRESETS = ("recommended", "production")
MAX_EXTENDS_DEPTH = 10
# Keys whose values accumulate along an ``extends`` chain (the others are replaced).
_MERGED_DICTS = ("severity", "per-file-ignores", "roles")
_CONCATENATED = ("extend-select", "ignore", "exclude")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message is one line naming file, line and key."""


class ConfigFile:
    """One configuration file: its data and where each key was written."""

    __slots__ = ("path", "data", "locator")

    def __init__(self, path: Path, data: dict[str, Any], locator: Any):
        self.path = path
        self.data = data
        self.locator = locator  # _YamlLocator | _TomlLocator

    def where(self, keys: list[Any]) -> str:
        """``file:line: key.path`` for an error at ``keys``."""
        line = self.locator.line(keys)
        shown = _display(self.path)
        key = _dotted(keys)
        return f"{shown}:{line}: {key}" if key else f"{shown}:{line}"

    def error(self, keys: list[Any], message: str) -> ConfigError:
        return ConfigError(f"{self.where(keys)}: {message}")


def find_config(start: Path) -> Path | None:
    """The nearest configuration file at or above ``start`` (stops at a ``.git`` root)."""
    start = start.absolute()
    folder = start if start.is_dir() else start.parent
    for directory in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        candidate = directory / PYPROJECT
        if candidate.is_file() and _has_tool_table(candidate):
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "vantage-lint" not in text:
        return False  # cheap: most pyproject files never mention us, skip the TOML parse
    try:
        data = _toml(text, path)
    except ConfigError:
        return True  # a broken pyproject that mentions us: report its error
    return isinstance(data.get("tool"), dict) and TOOL_TABLE[1] in data["tool"]


def load_settings(paths: list[Path], *, config_path: str | None = None, isolated: bool = False) -> Settings:
    """Settings for linting ``paths``: defaults, then the discovered or named configuration."""
    if isolated:
        if config_path:
            raise ConfigError("--config and --isolated cannot be used together")
        return Settings()
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(f"{config_path}: configuration file not found")
    else:
        found = find_config(paths[0] if paths else Path.cwd())
        if found is None:
            return Settings()
        path = found
    return settings_from_file(path)


def settings_from_file(path: Path, rules: RuleSet | None = None) -> Settings:
    rules = rules or load_rules()
    chain = _load_chain(path)
    schema = config_schema(rules)
    for cfile in chain:
        _validate(cfile, schema)
    policies = _build_policies(chain, rules)
    known = _KnownRules(rules, policies)
    for cfile in chain:
        _check_selectors(cfile, known)
    merged, preset = _merge(chain)
    settings = Settings()
    settings.config_path = str(path)
    settings.preset = preset
    _apply(settings, merged, rules)
    settings.policies = policies
    return settings


# --- reading files ------------------------------------------------------------------------------

def _load_chain(path: Path) -> list[ConfigFile]:
    """The file and the files it ``extends``, the base first."""
    chain: list[ConfigFile] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            loop = " -> ".join(_display(p) for p in seen + [resolved])
            raise ConfigError(f"{_display(current)}: extends loop: {loop}")
        if len(seen) >= MAX_EXTENDS_DEPTH:
            raise ConfigError(f"{_display(current)}: extends chain is longer than {MAX_EXTENDS_DEPTH} files")
        seen.append(resolved)
        cfile = read_config_file(current)
        chain.insert(0, cfile)
        parent = cfile.data.get("extends")
        current = None
        if isinstance(parent, str) and parent not in PRESETS:
            candidate = cfile.path.parent / parent  # relative to the file that names it
            if not candidate.is_file():
                raise cfile.error(["extends"], f"{parent!r} is neither a preset ({', '.join(PRESETS)}) "
                                               f"nor a file (no {_display(candidate)})")
            current = candidate
    return chain


def read_config_file(path: Path) -> ConfigFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read: {exc.strerror or exc}") from None
    if path.suffix == ".toml":
        return _read_toml(path, raw)
    return _read_yaml(path, raw)


def _read_yaml(path: Path, raw: bytes) -> ConfigFile:
    from vantage_lint.compose.nodes import MapNode
    from vantage_lint.compose.yaml_loader import parse_yaml
    from vantage_lint.source import SourceError, decode

    shown = _display(path)
    try:
        source = decode(raw, shown)
    except SourceError as exc:
        raise ConfigError(f"{shown}:{exc.line}: {exc.message}") from None
    loaded = parse_yaml(source)
    if loaded.problems:
        first = loaded.problems[0]
        message = first.message.replace("; Compose rejects the file", "")
        raise ConfigError(f"{shown}:{first.span.line}:{first.span.column}: {message}")
    root = loaded.root
    if root is None:
        return ConfigFile(path, {}, _YamlLocator(None))
    if not isinstance(root, MapNode):
        raise ConfigError(f"{shown}:{root.span.line}: the configuration must be a mapping of keys")
    return ConfigFile(path, root.plain(), _YamlLocator(root))


def _read_toml(path: Path, raw: bytes) -> ConfigFile:
    shown = _display(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    data = _toml(text, path)
    prefix: tuple[str, ...] = ()
    if path.name == PYPROJECT or "tool" in data:
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or TOOL_TABLE[1] not in tool:
            raise ConfigError(f"{shown}: no [tool.vantage-lint] table")
        data = tool[TOOL_TABLE[1]]
        prefix = TOOL_TABLE
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: [tool.vantage-lint] must be a table")
    return ConfigFile(path, data, _TomlLocator(text, prefix))


def _toml(source: str, path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)  # "Invalid value (at line 3, column 9)"
        if "(at line " in text:
            line = text.rsplit("(at line ", 1)[-1].split(",", 1)[0]
        else:  # "(at end of document)"
            line = str(max(1, len(source.splitlines())))
        reason = text.split(" (at ", 1)[0]
        raise ConfigError(f"{_display(path)}:{line}: invalid TOML: {reason}") from None
    except RecursionError:
        raise ConfigError(f"{_display(path)}:1: invalid TOML: tables or arrays nested too deeply") from None


class _YamlLocator:
    def __init__(self, root: Any):
        self.root = root

    def line(self, keys: list[Any]) -> int:
        from vantage_lint.compose.nodes import MapNode, SeqNode

        node = self.root
        if node is None:
            return 1
        line = 1
        for step in keys:
            if isinstance(node, MapNode) and str(step) in node.items:
                line = node.keys[str(step)].line
                node = node.items[str(step)]
            elif isinstance(node, SeqNode) and isinstance(step, int) and 0 <= step < len(node.items):
                node = node.items[step]
                line = node.span.line
            else:
                break
        return line


class _TomlLocator:
    """Line numbers for key paths in TOML text (tomllib keeps none): a scan of table headers
    and ``key =`` lines, good for the keys a configuration uses."""

    def __init__(self, text: str, prefix: tuple[str, ...]):
        self.lines: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        counters: dict[tuple[Any, ...], int] = {}
        in_multiline: str | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                path = tuple(_split_dotted(line[2 : line.find("]]")]))
                index = counters.get(path, -1) + 1
                counters[path] = index
                table = path + (index,)
                self.lines.setdefault(path, number)
                self.lines.setdefault(table, number)
                continue
            if line.startswith("["):
                table = tuple(_split_dotted(line[1 : line.find("]")]))
                for cut in range(1, len(table) + 1):
                    self.lines.setdefault(table[:cut], number)
                continue
            key_text, eq, rest = _split_key(line)
            if not eq:
                continue
            key = table + tuple(_split_dotted(key_text))
            self.lines.setdefault(key, number)
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
        self.prefix = prefix

    def line(self, keys: list[Any]) -> int:
        path = self.prefix + tuple(keys)
        for cut in range(len(path), 0, -1):
            found = self.lines.get(path[:cut])
            if found is not None:
                return found
        return 1


def _split_dotted(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    quote = ""
    for char in text.strip():
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def _split_key(line: str) -> tuple[str, str, str]:
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "=":
            return line[:index], "=", line[index + 1 :]
    return line, "", ""


# --- schema and validation ----------------------------------------------------------------------

def base_schema() -> dict[str, Any]:
    import json

    # a plain read: the package ships as files (importlib.resources costs more than the read)
    return json.loads((Path(__file__).parent / "schemas" / "config.schema.json").read_text(encoding="utf-8"))


def config_schema(rules: RuleSet) -> dict[str, Any]:
    """The base schema with one ``rules`` property per rule code and name (its options schema)."""
    schema = base_schema()
    properties: dict[str, Any] = {}
    for rule in rules:
        options = dict(rule.options_schema) if rule.options_schema else {
            "type": "object", "properties": {}, "additionalProperties": False}
        options.setdefault("type", "object")
        properties[rule.code] = options
        properties[rule.name] = options
    schema["properties"]["rules"]["properties"] = properties
    return schema


def _validate(cfile: ConfigFile, schema: dict[str, Any]) -> None:
    bad = _non_finite(cfile.data)
    if bad is not None:
        # JSON Schema bounds never reject NaN (every comparison with it is false), so `.nan` or
        # `inf` would pass `maximum: 1` and silently disable the rule using it.
        raise cfile.error(bad, "is not a finite number")
    # A file that passed once against the same schema passes again: the verdict is cached by
    # the content of both, so a run with a configuration file need not import jsonschema.
    from vantage_lint import cache

    digest = cache.key("config-valid", _schema_digest(schema).encode() + b"\0" + repr(cfile.data).encode(
        "utf-8", "surrogatepass"))
    if cache.get(digest) is True:
        return
    import jsonschema
    from jsonschema.exceptions import best_match

    validator = jsonschema.Draft202012Validator(schema)
    error = best_match(validator.iter_errors(cfile.data))
    if error is None:
        cache.put(digest, True)
        return
    keys = list(error.absolute_path)
    message = _explain(error, keys)
    if error.validator == "additionalProperties":
        extra = _extra_keys(error)
        if extra:
            keys = keys + [extra[0]]
            message = _unknown_key(error, extra[0], keys)
    raise cfile.error(keys, message)


_schema_digests: dict[int, tuple[dict[str, Any], str]] = {}


def _schema_digest(schema: dict[str, Any]) -> str:
    """Digest of a schema's content (computed once per schema object: a chain shares one)."""
    import hashlib
    import json

    known = _schema_digests.get(id(schema))
    if known is None or known[0] is not schema:
        text = json.dumps(schema, sort_keys=True, default=repr)
        known = (schema, hashlib.sha256(text.encode()).hexdigest())
        _schema_digests[id(schema)] = known
    return known[1]


def _non_finite(data: Any) -> list[Any] | None:
    """The key path of the first NaN or infinite number in the config (iterative: no depth limit)."""
    import math

    stack: list[tuple[list[Any], Any]] = [([], data)]
    while stack:
        keys, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return keys
        if isinstance(value, dict):
            stack.extend((keys + [k], v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((keys + [i], v) for i, v in reversed(list(enumerate(value))))
    return None


def _explain(error: Any, keys: list[Any]) -> str:
    validator = error.validator
    if validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {_article(expected)}, got {_json_type(error.instance)} {_short_repr(error.instance)}"
    if validator == "required":
        return error.message.replace("is a required property", "is required")
    if validator == "pattern" and keys[-1:] == ["id"]:
        return f"{error.instance!r} is not a policy id: X + 1-4 capital letters + 3 digits (e.g. XACME001)"
    if validator == "pattern" and keys[-1:] == ["name"]:
        return f"{error.instance!r} is not a kebab-case name (e.g. owner-label-missing)"
    in_roles = keys[:1] == ["roles"] or (len(keys) > 2 and keys[-1] == "roles")
    if in_roles and validator in ("oneOf", "enum", "type", "minItems"):
        return f"{_short_repr(error.instance)} is not a role or list of roles (redis, celery-worker, celery-beat, flower, none)"
    return " ".join(error.message.split())[:300]


def _unknown_key(error: Any, key: str, keys: list[Any]) -> str:
    import difflib

    allowed = list(error.schema.get("properties", {}))
    close = difflib.get_close_matches(key, allowed, n=1)
    if keys[:1] == ["rules"] and len(keys) == 2:
        return f"unknown rule {key!r}" + (f" (did you mean {close[0]}?)" if close else "")
    text = f"unknown key {key!r}"
    if close:
        return text + f" (did you mean {close[0]!r}?)"
    if keys[:1] == ["rules"]:
        return text + (f" (options: {', '.join(allowed)})" if allowed else " (this rule has no options)")
    return text


def _extra_keys(error: Any) -> list[str]:
    import re

    instance = error.instance if isinstance(error.instance, dict) else {}
    properties = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [k for k in instance if k not in properties and not any(p.search(k) for p in patterns)]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping"


def _article(kind: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "true or false",
             "integer": "an integer", "number": "a number", "null": "null"}
    return names.get(kind, kind)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- policies and selectors ---------------------------------------------------------------------

def _build_policies(chain: list[ConfigFile], rules: RuleSet) -> list[Rule]:
    from vantage_lint.policies import PolicyError, build_policy

    by_code: dict[str, Rule] = {}
    for cfile in chain:
        for index, spec in enumerate(cfile.data.get("policies", [])):
            keys: list[Any] = ["policies", index]
            try:
                policy = build_policy(spec, origin=_display(cfile.path))
            except PolicyError as exc:
                sub = exc.key.split(".", 1)
                raise cfile.error(keys + [sub[0]], f"policy {spec['id']}: {exc.message}") from None
            if policy.code in rules.by_code:
                raise cfile.error(keys + ["id"], f"{policy.code} is already a rule code; choose another id")
            clash = rules.by_name.get(policy.name)
            if clash is not None:
                raise cfile.error(keys + ["name"], f"{policy.name!r} is already the name of rule {clash.code}")
            by_code[policy.code] = policy
    names: dict[str, str] = {}
    for policy in by_code.values():
        if policy.name in names:
            raise ConfigError(f"policies {names[policy.name]} and {policy.code} share the name {policy.name!r}")
        names[policy.name] = policy.code
    return list(by_code.values())


class _KnownRules:
    def __init__(self, rules: RuleSet, policies: list[Rule]):
        self.rules = rules
        self.policies = policies
        self.words = [r.code for r in rules] + [r.name for r in rules] + [p.code for p in policies] + [
            p.name for p in policies]

    def matches(self, selector: str) -> bool:
        if self.rules.matching(selector):
            return True
        upper, lower = selector.strip().upper(), selector.strip().lower()
        return any(p.code.startswith(upper) or p.name == lower for p in self.policies)

    def exact(self, key: str) -> bool:
        if self.rules.lookup(key) is not None:
            return True
        return any(p.code == key.strip().upper() or p.name == key.strip().lower() for p in self.policies)

    def suggestion(self, word: str) -> str:
        import difflib

        close = difflib.get_close_matches(word, self.words, n=1) or difflib.get_close_matches(
            word.upper(), self.words, n=1)
        return f" (did you mean {close[0]}?)" if close else ""


def _check_selectors(cfile: ConfigFile, known: _KnownRules) -> None:
    data = cfile.data
    for key in ("select", "extend-select", "ignore"):
        for index, selector in enumerate(data.get(key, [])):
            if not known.matches(selector):
                raise cfile.error([key, index], f"unknown rule {selector!r} (not a rule code, prefix, name or policy id)"
                                                + known.suggestion(selector))
    for glob, selectors in data.get("per-file-ignores", {}).items():
        for index, selector in enumerate(selectors):
            if not known.matches(selector):
                raise cfile.error(["per-file-ignores", glob, index],
                                  f"unknown rule {selector!r}" + known.suggestion(selector))
    for key in data.get("severity", {}):
        if not known.exact(key):
            raise cfile.error(["severity", key], f"unknown rule {key!r} (severity takes rule codes, names or policy ids)"
                                                 + known.suggestion(key))
    allowed = data.get("allow-inline-suppressions")
    if isinstance(allowed, dict):
        for key in allowed:
            if not known.matches(key):
                raise cfile.error(["allow-inline-suppressions", key], f"unknown rule {key!r}" + known.suggestion(key))


# --- merging into Settings ----------------------------------------------------------------------

def _merge(chain: list[ConfigFile]) -> tuple[dict[str, Any], str]:
    merged: dict[str, Any] = {}
    preset = "recommended"
    for cfile in chain:
        data = cfile.data
        extends = data.get("extends")
        if extends in PRESETS:
            preset = extends
        for key, value in data.items():
            if key in ("extends", "policies"):
                continue
            if key in _MERGED_DICTS:
                merged[key] = {**merged.get(key, {}), **value}
            elif key == "rules":
                rules = dict(merged.get("rules", {}))
                for name, options in value.items():
                    rules[name] = {**rules.get(name, {}), **(options or {})}
                merged["rules"] = rules
            elif key in _CONCATENATED:
                merged[key] = merged.get(key, []) + list(value)
            else:
                merged[key] = value
    return merged, preset


def _apply(settings: Settings, data: dict[str, Any], rules: RuleSet) -> None:
    if "select" in data:
        settings.select = list(data["select"])
    settings.extend_select = list(data.get("extend-select", []))
    settings.ignore = list(data.get("ignore", []))
    settings.severity = {key: Severity.parse(level) for key, level in data.get("severity", {}).items()}
    if "fail-on" in data:
        level = data["fail-on"]
        settings.fail_on = Severity.ERROR + 1 if level == "never" else Severity.parse(level)  # type: ignore[assignment]
    settings.per_file_ignores = {glob: list(sel) for glob, sel in data.get("per-file-ignores", {}).items()}
    settings.exclude = list(data.get("exclude", []))
    if "context" in data:
        settings.context = data["context"]
    settings.rule_options = {}
    for key, options in data.get("rules", {}).items():
        rule = rules.lookup(key)
        settings.rule_options[rule.code if rule else key] = {
            **settings.rule_options.get(rule.code if rule else key, {}), **(options or {})}
    settings.roles = {name: [roles] if isinstance(roles, str) else list(roles)
                      for name, roles in data.get("roles", {}).items()}
    if "allow-inline-suppressions" in data:
        settings.allow_inline_suppressions = data["allow-inline-suppressions"]


def _dotted(keys: list[Any]) -> str:
    out = ""
    for step in keys:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


def _display(path: Path) -> str:
    from vantage_lint.source import display_path

    return display_path(path)
