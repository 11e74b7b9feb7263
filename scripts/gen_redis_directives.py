#!/usr/bin/env python3
"""Generate ``vantage_lint/data/redis-directives.json``: the redis.conf directive table.

Two inputs, checked against each other:

* a live ``redis-server`` (started here with ``port 0`` and a unix socket in a temporary
  folder, stopped by PID): directive names, aliases, defaults (``CONFIG GET *``), the command
  table (``COMMAND LIST``), ACL categories (``ACL CAT``), and types, enum values and ranges
  probed with ``CONFIG SET`` of deliberately invalid values (the error names the rule);
* the reference facts (``--reference``, by default the spec's ``redis-directives.json``): the
  Redis versions each directive exists in, types of directives the probes cannot reach
  (immutable ones, strings), the non-table directives (``include``, ``user``, ...).

Differences are printed and recorded under ``_meta.differences``. Run:

    python scripts/gen_redis_directives.py [--reference PATH] [--output PATH] [--server PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = ROOT.parent / "shared" / "spec" / "data" / "redis-directives.json"
DEFAULT_OUTPUT = ROOT / "vantage_lint" / "data" / "redis-directives.json"

# Reference version labels → the major.minor the linter reasons in ("unstable" was 8.0-m01).
VERSION_LABELS = {"6.2.16": "6.2", "7.0.15": "7.0", "7.2.6": "7.2", "7.4.1": "7.4", "unstable": "8.0"}
VERSIONS = ["6.2", "7.0", "7.2", "7.4", "8.0"]

# Enum values added after 7.0 (FACTS A.3: loglevel `nothing` from 7.2).
ENUM_ADDED = {"loglevel": {"nothing": "7.2"}}

# Values this script sets on the probe server, so CONFIG GET does not show their defaults.
PROBE_CONFIG = {"port": "0", "unixsocket": None, "dir": None, "enable-protected-configs": "yes", "save": '""'}

LLONG_MIN = "-9223372036854775808"
ULLONG_MAX = "18446744073709551615"
PROBED_TYPES = {"bool", "enum", "integer", "memory", "memory_or_percent", "octal"}


class RespError(Exception):
    pass


class Resp:
    """The smallest RESP2 client that CONFIG/COMMAND/ACL need."""

    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        try:
            self.sock.connect(str(path))
        except OSError:
            self.sock.close()
            raise
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def call(self, *args: str) -> Any:
        out = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self) -> Any:
        line = self.file.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:].decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            return RespError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.file.read(size + 2)[:-2]
            return data.decode("utf-8", "replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise RespError(f"unexpected reply {line!r}")


@contextmanager
def live_server(binary: str) -> Iterator[Resp]:
    """A throwaway redis-server listening only on a unix socket; killed by PID on exit."""
    with tempfile.TemporaryDirectory(prefix="vl-redis-") as tmp:
        sock = Path(tmp, "s.sock")
        conf = Path(tmp, "probe.conf")
        conf.write_text(
            f"port 0\nunixsocket {sock}\ndir {tmp}\nsave \"\"\nenable-protected-configs yes\nlogfile \"\"\n"
        )
        proc = subprocess.Popen([binary, str(conf)], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 5
            while not sock.exists():
                if proc.poll() is not None:
                    raise SystemExit(f"redis-server exited with {proc.returncode}: {proc.stderr.read().decode()}")
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not open its socket within 5 s")
                time.sleep(0.02)
            client = _connect(sock, deadline)
            try:
                yield client
            finally:
                client.close()
        finally:
            proc.kill()
            proc.wait()


def _connect(sock: Path, deadline: float) -> Resp:
    """The socket file appears at bind(), a moment before the server listens."""
    while True:
        try:
            return Resp(sock)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def probe(client: Resp, name: str) -> dict[str, Any]:
    """Type, enum values and range of one directive, read from CONFIG SET error messages."""
    found: dict[str, Any] = {}
    reply = client.call("CONFIG", "SET", name, "1x")
    message = str(reply)
    if not isinstance(reply, RespError):
        found["type"] = "string"  # accepted anything; put the old value back below
        return found
    if "immutable config" in message:
        found["immutable"] = True
        return found
    if "'yes' or 'no'" in message:
        found["type"] = "bool"
    elif (m := re.search(r"must be one of the following: (.*)$", message)) is not None:
        found["type"] = "enum"
        found["enum"] = [v.strip() for v in m.group(1).split(",")]
    elif "memory or percent" in message:
        found["type"] = "memory_or_percent"
    elif "memory value" in message:
        found["type"] = "memory"
    elif "octal" in message:
        found["type"] = "octal"
    elif "parsed into an integer" in message:
        found["type"] = "integer"
    else:
        found["error"] = message
    if found.get("type") in ("integer", "memory", "octal", "memory_or_percent"):
        # Memory values cannot be negative, so probe them from above: ULLONG_MAX is out of
        # range for every memory directive but the unsigned 64-bit ones, which accept it.
        value = ULLONG_MAX if found["type"] == "memory" else LLONG_MIN
        reply = client.call("CONFIG", "SET", name, value)
        if not isinstance(reply, RespError):
            found["min"], found["max"] = 0, int(ULLONG_MAX)
            found["restore"] = True
            return found
        m = re.search(r"between (\S+) and (\S+) inclusive", str(reply))
        if m:
            base = 8 if found["type"] == "octal" else 10
            found["min"], found["max"] = int(m.group(1), base), int(m.group(2), base)
        elif (m := re.search(r"less or equal to (\d+)", str(reply))) is not None:
            found["min"] = -int(m.group(1))
    return found


def pairs(flat: list[Any]) -> dict[str, str]:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def read_live(binary: str, reference: dict[str, Any]) -> dict[str, Any]:
    with live_server(binary) as client:
        info = client.call("INFO", "server")
        version = re.search(r"redis_version:(\S+)", info).group(1)
        values = pairs(client.call("CONFIG", "GET", "*"))
        commands = sorted(c.lower() for c in client.call("COMMAND", "LIST"))
        categories = sorted(client.call("ACL", "CAT"))
        canonical = {alias: name for name, ref in reference.items() for alias in ref.get("aliases", ())}
        probes: dict[str, dict[str, Any]] = {}
        for name in sorted(values):
            ref = reference.get(canonical.get(name, name)) or {}
            if ref.get("type") in PROBED_TYPES or not ref:
                probes[name] = probe(client, name)
                if probes[name].get("type") == "string" or probes[name].pop("restore", False):
                    client.call("CONFIG", "SET", name, values[name])
    return {"version": version, "values": values, "commands": commands, "categories": categories, "probes": probes}


def versions_of(labels: list[str] | None) -> list[str]:
    return [VERSION_LABELS[label] for label in labels or () if label in VERSION_LABELS]


def build(reference: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    differences: list[str] = []
    values: dict[str, str] = live["values"]
    directives: dict[str, dict[str, Any]] = {}
    aliases: dict[str, dict[str, Any]] = {}

    for name, ref in sorted(reference.items()):
        if "alias_of" in ref:
            aliases[name] = {"to": ref["alias_of"], "versions": versions_of(ref.get("accepted_in"))}
            continue
        if name == "<module>.<name>":
            continue
        entry: dict[str, Any] = {"type": ref["type"], "versions": versions_of(ref.get("present_in"))}
        for key in ("default", "min", "max", "enum", "multi_arg", "repeatable", "hidden", "sensitive"):
            if ref.get(key) is not None and ref.get(key) is not False:
                entry[key] = ref[key]
        if ref.get("runtime_modifiable") is False:
            entry["immutable"] = True
        if ref.get("requires_tls_build"):
            entry["tls"] = True
        if name in ENUM_ADDED:
            entry["enum_added"] = ENUM_ADDED[name]
        for alias in ref.get("aliases", ()):
            aliases.setdefault(alias, {"to": name, "versions": entry["versions"]})
        directives[name] = entry

    # Names: every live name is a directive or an alias, and every 7.0 directive is live.
    for name in sorted(values):
        if name not in directives and name not in aliases:
            differences.append(f"{name}: returned by CONFIG GET * but absent from the reference")
            directives[name] = {"type": "string", "versions": ["7.0"], "default": values[name]}
    for name, entry in sorted(directives.items()):
        table_driven = entry["type"] not in ("special", "deprecated_ignored")
        if "7.0" in entry["versions"] and name not in values and table_driven:
            if not entry.get("hidden"):
                differences.append(f"{name}: reference says 7.0 has it, CONFIG GET * does not return it")
        elif name in values and "7.0" not in entry["versions"]:
            differences.append(f"{name}: live 7.0 server has it, reference present_in does not say 7.0")
    for alias, target in sorted(aliases.items()):
        live_alias = alias in values
        if live_alias and "7.0" not in target["versions"]:
            differences.append(f"{alias}: accepted by the live server but not listed for 7.0 in the reference")
        if live_alias and target["to"] in values and values[alias] != values[target["to"]]:
            differences.append(f"{alias}: live value {values[alias]!r} differs from {target['to']}'s")

    # Defaults: the live server wins, except for what the probe config itself set.
    for name, entry in sorted(directives.items()):
        if name not in values:
            continue
        live_value = values[name]
        if name in PROBE_CONFIG:
            continue
        if entry.get("default") != live_value:
            differences.append(f"{name}: default {entry.get('default')!r} in the reference, {live_value!r} live")
            entry["default"] = live_value

    # Types, enums and ranges: the probes check the reference.
    for name, found in sorted(live["probes"].items()):
        entry = directives.get(name) or directives.get(aliases.get(name, {}).get("to", ""), {})
        if not entry or found.get("immutable") or "error" in found:
            continue
        kind = found.get("type")
        if kind and kind != entry["type"]:
            differences.append(f"{name}: type {entry['type']!r} in the reference, {kind!r} live")
            entry["type"] = kind
        if "enum" in found and found["enum"] != entry.get("enum"):
            differences.append(f"{name}: enum {entry.get('enum')} in the reference, {found['enum']} live")
            entry["enum"] = found["enum"]
        for key in ("min", "max"):
            if key in found and found[key] != entry.get(key):
                differences.append(f"{name}: {key} {entry.get(key)} in the reference, {found[key]} live")
                entry[key] = found[key]

    table = {
        "_meta": {
            "generated_by": "scripts/gen_redis_directives.py",
            "live_server": live["version"],
            "versions": VERSIONS,
            "differences": differences,
        },
        "directives": directives,
        "aliases": aliases,
        "commands": live["commands"],
        "acl_categories": live["categories"],
    }
    return table, differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--server", default=shutil.which("redis-server") or "redis-server")
    args = parser.parse_args(argv)
    reference = json.loads(args.reference.read_text())
    live = read_live(args.server, reference)
    table, differences = build(reference, live)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, args.output)
    print(f"wrote {args.output} ({len(table['directives'])} directives, {len(table['aliases'])} aliases, "
          f"live server {live['version']})")
    for line in differences:
        print(f"  difference: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
