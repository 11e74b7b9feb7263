"""``--show-compose``: the project as vantage-lint resolved it, in the shape of
``docker compose config --format json`` (long syntax for ports, volumes and depends_on,
``environment`` as a mapping with ``env_file`` values folded in, absolute bind sources).

With ``origins`` an ``x-vantage-origins`` mapping gives, for each written value, the
``file:line`` it came from (keys are dotted paths such as ``services.web.image``).
"""

from __future__ import annotations

import posixpath
import shlex
from pathlib import Path
from typing import Any

from vantage_lint.compose.merge import pairs_as_map
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.compose.project import Project, normalized_project_name
from vantage_lint.compose.unicity import port_key
from vantage_lint.compose.unknown import as_compose

# Keys compose-go writes as plain lists / mappings once the short forms are expanded.
_MAPPING_KEYS = ("labels", "annotations", "sysctls")
_DROPPED = ("env_file", "extends")


def project_name(project: Project) -> str:
    """``name:`` or the folder name normalised as Compose does (lowercase, [a-z0-9_-])."""
    root = project.root
    name = root.get("name") if root is not None else None
    if isinstance(name, ScalarNode) and name.text:
        return name.text
    return normalized_project_name(project.directory.resolve().name)


def show_project(project: Project, origins: bool = False) -> dict[str, Any]:
    name = project_name(project)
    result: dict[str, Any] = {"name": name, "services": {}}
    used: dict[str, set[str]] = {"networks": set(), "volumes": set(), "secrets": set(), "configs": set()}
    for service in sorted(project.services.values(), key=lambda s: s.name):
        if not project.enabled(service):
            continue  # Compose leaves out services of profiles that are not active
        shown = show_service(service)
        used["networks"].update(shown.get("networks") or {})
        used["volumes"].update(m["source"] for m in shown.get("volumes", []) if m.get("type") == "volume"
                               and m.get("source"))
        for section in ("secrets", "configs"):
            used[section].update(str(m.get("source")) for m in shown.get(section, []))
        result["services"][service.name] = shown
    for section in ("networks", "volumes", "secrets", "configs"):
        node = project.top(section)
        entries: dict[str, Any] = {}
        if node is not None:
            for key, value in node.items.items():
                if section in used and key not in used[section]:
                    continue  # `config` drops resources no service uses
                entries[key] = _resource(value, key, name, section, project.directory)
        if section == "networks" and "default" in used["networks"] and "default" not in entries:
            entries["default"] = {"name": f"{name}_default", "ipam": {}}
        if entries:
            result[section] = entries
    if origins:
        found: dict[str, str] = {}
        if project.root is not None:
            _origins(project.root, "", found)
        result["x-vantage-origins"] = found
    if project.env_template:
        result["x-vantage-env-template"] = project.env_template
    return _as_compose(result)


def _as_compose(data: Any) -> Any:
    """Unknown values (compose.unknown) as Compose's ``config`` prints them: empty."""
    if isinstance(data, dict):
        return {k: _as_compose(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_as_compose(v) for v in data]
    return as_compose(data) if isinstance(data, str) else data


def _resource(node: Node, key: str, project: str, section: str, directory: Path) -> Any:
    value = node.plain() if isinstance(node, MapNode) else {}
    value = dict(value or {})
    external = value.get("external") in (True, "true")
    if "name" not in value:
        value["name"] = key if external else f"{project}_{key}"
    if section == "networks" and not external:
        value.setdefault("ipam", {})
    if "file" in value and isinstance(value["file"], str):
        value["file"] = str((directory / value["file"]).resolve())
    return value


def show_service(service: Service) -> dict[str, Any]:
    node = service.node
    out: dict[str, Any] = {}
    for key, value in node.items.items():
        if key in _DROPPED or key.startswith("x-"):
            continue
        out[key] = value.plain()
    for key in ("command", "entrypoint"):
        out[key] = _argv(service.get(key))
    env = service.project.env
    # A bare `NAME` takes its value from the interpolation environment (shell, then .env).
    environment = {name: var.value if var.value is not None else env.get(name)
                   for name, var in service.environment.items()}
    if environment:
        out["environment"] = environment
    else:
        out.pop("environment", None)
    for key in _MAPPING_KEYS:
        if key in node.items and node.items[key] is not None:
            # A label without a value is an empty string to Compose.
            out[key] = {k: ("" if v is None or v.plain() is None else _text(v.plain()))
                        for k, v in pairs_as_map(node.items[key]).items.items()}
    if service.ports:
        out["ports"] = _ports(service.ports)
    if service.mounts:
        home = env.get("HOME", "~")
        out["volumes"] = [_mount(m, service.base_dir(m.node), home) for m in service.mounts]
    if service.depends_on:
        out["depends_on"] = {
            d.name: {"condition": d.condition, "required": d.required} for d in service.depends_on.values()
        }
    networks = service.get("networks")
    if isinstance(networks, SeqNode):
        out["networks"] = {n: None for n in service.networks}
    elif isinstance(networks, MapNode):
        out["networks"] = {k: (v.plain() or None) for k, v in networks.items.items()}
    elif "network_mode" not in node.items:
        out["networks"] = {"default": None}
    build = service.get("build")
    if isinstance(build, ScalarNode):
        out["build"] = {"context": build.text, "dockerfile": "Dockerfile"}
    if isinstance(out.get("build"), dict):
        context = as_compose(str(out["build"].get("context") or "")) or "."
        if "://" not in str(context) and not str(context).startswith("git@"):
            out["build"]["context"] = str((service.base_dir(build) / str(context)).resolve())
        out["build"].setdefault("dockerfile", "Dockerfile")
        args = build.get("args") if isinstance(build, MapNode) else None
        if args is not None:
            out["build"]["args"] = _string_map(args)
    logging = service.get("logging")
    if isinstance(logging, MapNode) and isinstance(logging.get("options"), (MapNode, SeqNode)):
        out["logging"]["options"] = _string_map(logging.items["options"])
    for key, default in (("secrets", "/run/secrets/"), ("configs", None)):
        if isinstance(out.get(key), list):
            # the short syntax is a name; compose-go fills in a secret's default target
            out[key] = [_file_mount(item, default) for item in out[key]]
    for key in ("restart", "user", "hostname", "container_name"):
        if key in out and out[key] is not None and not isinstance(out[key], str):
            out[key] = _text(out[key])
    return out


def _file_mount(item: Any, default: str | None) -> Any:
    entry = {"source": item} if isinstance(item, str) else item
    if isinstance(entry, dict) and isinstance(entry.get("mode"), int) and not isinstance(entry["mode"], bool):
        entry = {**entry, "mode": f"0{entry['mode']:o}"}  # a file mode, written in octal as Compose does
    if isinstance(entry, dict) and default is not None and "target" not in entry:
        entry = {**entry, "target": f"{default}{entry.get('source')}"}
    return entry


def _string_map(node: Node) -> dict[str, str | None]:
    """A list or mapping of NAME=value as Compose writes it: string values, null when bare."""
    return {k: (None if not isinstance(v, ScalarNode) or v.value is None else v.text)
            for k, v in pairs_as_map(node).items.items()}


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _argv(node: Node | None) -> list[str] | None:
    if isinstance(node, ScalarNode) and node.value is not None:
        try:
            return shlex.split(node.text)
        except ValueError:
            return [node.text]
    if isinstance(node, SeqNode):
        return [item.text for item in node.items if isinstance(item, ScalarNode)]
    return None


def _ports(ports: list[Any]) -> list[dict[str, Any]]:
    """Long syntax with ranges expanded, then compose-go's second unicity pass (a port written
    twice, or short and long, is one entry: the later, at the first one's place)."""
    entries: list[dict[str, Any]] = []
    where: dict[str, int] = {}
    for port in ports:
        for entry in _expanded(port):
            key = port_key(entry.get("host_ip"), entry.get("published"), str(entry["target"]), entry["protocol"])
            if key in where:
                entries[where[key]] = entry
            else:
                where[key] = len(entries)
                entries.append(entry)
    return entries


def _range(text: str | None) -> list[int] | None:
    """``8000-8001`` as its ports; None for a single port or text that is not a range."""
    if not text or "-" not in text:
        return None
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit()) or int(high) < int(low):
        return None
    return list(range(int(low), int(high) + 1))


def _expanded(port: Any) -> list[dict[str, Any]]:
    """As docker's nat.ParsePortSpec: a target range gives one port per target, paired with
    a published range of the same length; a published range over one target stays whole."""
    targets = _range(port.target) if not port.long_syntax else None
    if targets is None:
        return [_port(port)]
    published = _range(port.published)
    result = []
    for index, target in enumerate(targets):
        entry = _port(port)
        entry["target"] = target
        if published is not None and len(published) == len(targets):
            entry["published"] = str(published[index])
        result.append(entry)
    return result


def _port(port: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"mode": "ingress"}
    if port.long_syntax and isinstance(port.node, MapNode):
        mode = port.node.get("mode")
        if isinstance(mode, ScalarNode):
            entry["mode"] = mode.text
    # an unknown host IP or published port is empty to Compose, which then leaves it out
    if port.host_ip and as_compose(port.host_ip):
        entry["host_ip"] = as_compose(port.host_ip)
    target = port.target_port()
    entry["target"] = target if target is not None and "-" not in port.target else port.target
    if port.published and as_compose(port.published):
        entry["published"] = as_compose(port.published)
    entry["protocol"] = port.protocol
    return entry


def _mount(mount: Any, directory: Path, home: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": mount.type}
    # Paths as Compose reads them with the unknown variables empty (what `config` prints).
    source = as_compose(mount.source) if mount.source else mount.source
    if mount.type == "bind" and source:
        if source == "~" or source.startswith("~/"):
            source = home + source[1:]
        elif not source.startswith("/"):
            source = str((directory / source).resolve())
    if source:
        entry["source"] = source
    # compose-go applies path.Clean to targets ("/data/" and "/data" are one mount).
    entry["target"] = posixpath.normpath(mount.target) if mount.target.startswith("/") else mount.target
    if mount.read_only:
        entry["read_only"] = True
    if mount.long_syntax and isinstance(mount.node, MapNode):
        for key, value in mount.node.items.items():
            if key not in ("type", "source", "target", "read_only"):
                entry[key] = value.plain()
    if mount.type == "bind":
        entry.setdefault("bind", {"create_host_path": True})
    elif mount.type == "volume":
        entry.setdefault("volume", {})
    return entry


def _origins(node: Node, prefix: str, found: dict[str, str]) -> None:
    """Every scalar's ``file:line``, and each mapping key's, by dotted path."""
    if isinstance(node, MapNode):
        for key, value in node.items.items():
            path = f"{prefix}.{key}" if prefix else key
            at = node.keys.get(key)
            if at is not None:
                found[path] = f"{at.path}:{at.line}"
            _origins(value, path, found)
    elif isinstance(node, SeqNode):
        for index, item in enumerate(node.items):
            _origins(item, f"{prefix}.{index}", found)
    elif isinstance(node, ScalarNode) and prefix:
        found[prefix] = f"{node.span.path}:{node.span.line}"


def redact_shown(data: Any, name: str = "") -> Any:
    """Mask secrets in a shown model (ours or Compose's): values of secret-named keys and
    passwords inside strings (URLs, ``--requirepass``), as every other output does."""
    from vantage_lint.secrets import is_secret_name, mask, redact

    if isinstance(data, dict):
        return {k: redact_shown(v, k) for k, v in data.items()}
    if isinstance(data, list):
        out = [redact_shown(v, name) for v in data]
        for i in range(1, len(out)):
            # exec form: a password is the item after its flag ("--requirepass", "pw")
            prev, item = data[i - 1], data[i]
            if isinstance(prev, str) and isinstance(item, str) and not item.startswith("$"):
                pair = f"{prev} {item}"
                if redact(pair) != pair and redact(prev) == prev:
                    out[i] = mask(item)
        return out
    if isinstance(data, str):
        if name and is_secret_name(name) and not data.startswith("$"):
            return mask(data)
        return redact(data)
    return data


def show_text(projects: list[Project], origins: bool = False) -> str:
    """One project: its JSON object; several (a folder walk): a JSON array of them."""
    import json

    shown = [redact_shown(show_project(p, origins)) for p in projects]
    return json.dumps(shown[0] if len(shown) == 1 else shown, indent=2, ensure_ascii=False)
