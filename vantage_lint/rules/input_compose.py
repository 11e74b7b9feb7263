"""VL001-VL004, VL006: the Compose file as Compose itself reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode
from vantage_lint.compose.project import Project
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.context import RuleContext
from vantage_lint.edits import delete_line_edit
from vantage_lint.findings import Applicability, Finding, Fix, Severity
from vantage_lint.registry import rule


@rule(
    code="VL001",
    name="yaml-syntax-error",
    summary="The file is not YAML that Compose can read: syntax errors, duplicate keys, a non-mapping top level.",
    severity=Severity.ERROR,
    hint="Fix the YAML; Compose cannot read this file.",
    scope="input",
)
def yaml_syntax_error() -> Iterator[Finding]:
    """## What it does
    Reports what the YAML parser refuses, with the parser's own position: syntax errors, tabs
    used for indentation, duplicate keys, a top level that is not a mapping, an empty file,
    files that are not UTF-8 text, alias bombs and documents nested too deeply to lint.

    ## Why it matters
    `docker compose` stops at the first of these, so nothing else in the file takes effect.
    Duplicate keys are the quiet one: many YAML tools keep the last value, Compose rejects them.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        image: redis:7.4
    ```

    ## Fix
    Correct the YAML at the reported position; keep one of the duplicate keys.
    """
    return iter(())


@rule(
    code="VL002",
    name="compose-schema-violation",
    summary="The file breaks the official Compose Specification schema.",
    severity=Severity.ERROR,
    hint="Correct the key or value to what the Compose Specification allows.",
    scope="project",
)
def compose_schema_violation(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Validates every Compose file against the official Compose Specification JSON schema (the
    copy shipped by the check-jsonschema package) and turns each error into one readable
    message at the offending node: unknown keys with a did-you-mean, `memory: 512` (must be a
    string), `interval: 10` (needs a unit), `user: 1000` (must be a string).

    ## Why it matters
    `docker compose` refuses a file that breaks the schema, and a misspelled key such as
    `helthcheck` would otherwise be ignored by tools that do not validate.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        helthcheck:
          test: ["CMD", "redis-cli", "ping"]
    ```

    ## Fix
    Use the key and type the schema expects (`healthcheck:`, `memory: "512m"`, `interval: 10s`).
    """
    from vantage_lint.compose.schema import schema_findings

    for compose_file in project.files:
        if compose_file.root is not None:
            yield from schema_findings(compose_file.root, ctx)


@rule(
    code="VL003",
    name="compose-model-error",
    summary="Compose rejects the project after the schema: references to nothing, extends cycles, conflicting limits.",
    severity=Severity.ERROR,
    hint="Fix the reference so that it names something defined in the project.",
    scope="project",
)
def compose_model_error(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Checks what `docker compose` checks after the schema: a service with neither `image` nor
    `build`; `depends_on`, `extends`, networks,
    volumes, secrets and configs that name nothing (skipped for an overlay file: one found by
    a folder walk under a non-default name such as `docker-compose.prod.yml`, or one where no
    service names an image, a build or an extends base: its references live in the base file); `extends` cycles and missing files;
    includes that loop; `mem_limit` and `deploy.resources.limits.memory` both set and
    different (likewise `cpus`, `mem_reservation`, `scale` and `deploy.replicas`).
    Files the project names but the linter does not open: an `include`, `extends.file`,
    `env_file` or bind-mounted redis.conf outside the project folder or inside `.git`
    (a warning: linted files may be hostile, and such a path could reach the linting
    machine's own files), a path with a NUL byte or a name over 255 bytes, and a file the
    linting user may not read (errors).

    ## Why it matters
    Each of these makes `docker compose up` fail before any container starts, often in CI or
    on a server, after the file was reviewed.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.0
        depends_on: [redis]
    ```

    ## Fix
    Define the missing service, network, volume, secret or config, or remove the reference;
    keep one spelling of each limit.
    """
    yield from _undefined_references(project, ctx)
    yield from _conflicting_limits(project, ctx)


def is_overlay(project: Project) -> bool:
    """A file meant to be layered over another (``-f base.yml -f ci.yml``): found by a folder
    walk under a non-default name, or no service of it names an image, a build or an extends
    base. Its references resolve in the base file."""
    if project.fragment:
        return True
    return bool(project.services) and all(
        s.get("image") is None and s.get("build") is None and s.get("extends") is None
        for s in project.services.values()
    )


def _undefined_dependency(project: Project, ctx: RuleContext, name: str, dep: Any) -> Finding:
    """Compose refuses the project; unless a Compose file beside it defines the service, which
    makes this file a base meant to be combined with it (``-f``): then that is said, at info."""
    from vantage_lint.compose.siblings import sibling_defining

    message = f'service "{name}" depends on undefined service "{dep.name}"'
    beside = sibling_defining(project, dep.name)
    if beside is None:
        return ctx.finding(dep.span, message, hint="Define the service or remove it from depends_on.")
    return ctx.finding(
        dep.span, f'{message}; {beside} beside this file defines "{dep.name}", so this file is meant to be combined '
                  f"with it (-f {PurePath(project.main_path).name} -f {beside})",
        hint=f"Run Compose with both files (-f ... -f {beside}), or set COMPOSE_FILE in .env.",
        severity=Severity.INFO)


def _undefined_references(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    if is_overlay(project):
        return
    defined = {key: set(node.items) if (node := project.top(key)) is not None else set()
               for key in ("networks", "volumes", "secrets", "configs")}
    defined["networks"].add("default")
    for service in project.services.values():
        ctx.service_name = service.name
        if (service.get("image") is None and service.get("build") is None and service.get("extends") is None
                and project.enabled(service)):
            yield ctx.finding(service.key_span, f'service "{service.name}" has neither an image nor a build context; '
                              "Compose refuses the project",
                              hint="Add image: or build: to the service (or to the file it extends).")
        for dep in service.depends_on.values():
            if dep.name not in project.services and not has_unknown(dep.name):  # ${NAME}: the deployment's
                yield _undefined_dependency(project, ctx, service.name, dep)
        networks = service.get("networks")
        entries = []
        if isinstance(networks, SeqNode):
            entries = [(n.text, n.span) for n in networks.items if isinstance(n, ScalarNode)]
        elif isinstance(networks, MapNode):
            entries = [(name, networks.keys[name]) for name in networks.items]
        for name, span in entries:
            if name not in defined["networks"] and not has_unknown(name):
                yield ctx.finding(span, f'service "{service.name}" refers to undefined network "{name}"',
                                  hint="Declare the network under the top-level networks: key.")
        for mount in service.mounts:
            if has_unknown(mount.source):
                continue
            if mount.type == "volume" and mount.source and not mount.long_syntax and mount.source not in defined["volumes"]:
                yield ctx.finding(mount.span, f'service "{service.name}" refers to undefined volume "{mount.source}"',
                                  hint="Declare the named volume under the top-level volumes: key, or use a path (./data) for a bind mount.")
            elif mount.type == "volume" and mount.source and mount.long_syntax and mount.source not in defined["volumes"]:
                yield ctx.finding(mount.span, f'service "{service.name}" refers to undefined volume "{mount.source}"',
                                  hint="Declare the named volume under the top-level volumes: key.")
        for key in ("secrets", "configs"):
            node = service.get(key)
            if not isinstance(node, SeqNode):
                continue
            for item in node.items:
                name_node = item if isinstance(item, ScalarNode) else item.get("source") if isinstance(item, MapNode) else None
                if isinstance(name_node, ScalarNode) and name_node.text not in defined[key] and not has_unknown(name_node.text):
                    yield ctx.finding(name_node.span,
                                      f'service "{service.name}" refers to undefined {key[:-1]} "{name_node.text}"',
                                      hint=f"Declare it under the top-level {key}: key.")
    ctx.service_name = None


_PAIRS = (
    (("mem_limit",), ("deploy", "resources", "limits", "memory"), "bytes"),
    (("mem_reservation",), ("deploy", "resources", "reservations", "memory"), "bytes"),
    (("cpus",), ("deploy", "resources", "limits", "cpus"), "cpus"),
    (("scale",), ("deploy", "replicas"), "int"),
)


def _conflicting_limits(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    from vantage_lint.compose.units import compose_bytes, compose_cpus

    convert = {"bytes": compose_bytes, "cpus": compose_cpus, "int": lambda v: compose_cpus(v)}
    for service in project.services.values():
        for legacy, modern, kind in _PAIRS:
            a, b = service.get(*legacy), service.get(*modern)
            if not isinstance(a, ScalarNode) or not isinstance(b, ScalarNode):
                continue
            if has_unknown(a.value) or has_unknown(b.value):
                continue  # a value the deployment supplies may well be the same
            if convert[kind](a.value) != convert[kind](b.value):
                yield ctx.finding(
                    b.span,
                    f"services.{service.name}: can't set distinct values on '{'.'.join(legacy)}' ({a.text}) "
                    f"and '{'.'.join(modern)}' ({b.text})",
                    hint="Keep only one of the two keys (deploy.resources is the current form).",
                    service=service.name,
                )


@rule(
    code="VL004",
    name="interpolation-error",
    summary="A ${...} template Compose refuses, or a variable that is not set and has no default.",
    severity=Severity.WARNING,
    hint="Define the variable in .env or the environment, or give it a default with ${VAR:-value}.",
    scope="input",
)
def interpolation_error() -> Iterator[Finding]:
    """## What it does
    Interpolates every value as Compose does, with `.env` next to the first Compose file (or
    `--env-file`) and the environment, and reports `${}` and other invalid templates (error),
    lines of `.env` or an `env_file` Compose cannot read (error: an unterminated quote, a space
    in a name), and variables that are unset and have no default (warning: Compose substitutes
    an empty string). `${VAR:?message}` with VAR unset is not reported: it declares that the
    deployment sets VAR. Its value, like that of any unset variable or of one left blank in a
    template (`.env.example` read because there is no `.env`), is unknown to the other rules,
    which draw no conclusion from it.

    ## Why it matters
    An unset variable silently becomes `""`: an image tag, a password or a port disappears and
    the stack starts with a value nobody wrote.

    ## Example
    ```yaml
    services:
      api:
        image: "myapp:${APP_VERSION}"
    ```

    ## Fix
    Set the variable in `.env`, give it a default (`${APP_VERSION:-1.4.2}`), make it required
    with a message (`${APP_VERSION:?set APP_VERSION}`), or write `$$` for a literal dollar.
    """
    return iter(())


@rule(
    code="VL006",
    name="obsolete-version-key",
    summary="The top-level version: key is obsolete; Compose ignores it and warns.",
    severity=Severity.INFO,
    hint="Remove the top-level version: line.",
    scope="project",
    fix=Applicability.SAFE,
)
def obsolete_version_key(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a top-level `version:` key.

    ## Why it matters
    Compose v2 ignores it and prints "the attribute `version` is obsolete" on every command;
    it also suggests features are limited to that file format version, which is no longer true.

    ## Example
    ```yaml
    version: "3.8"
    services:
      api:
        image: myapp:1.0
    ```

    ## Fix
    Delete the line (a safe fix: Compose behaves the same).
    """
    for compose_file in project.files:
        root = compose_file.root
        if root is None or "version" not in root.items:
            continue
        key_span = root.keys["version"]
        value = root.items["version"]
        edit = delete_line_edit(compose_file.source, key_span, value.span)
        fix = Fix("Remove the version: line", (edit,), Applicability.SAFE) if edit is not None else None
        shown = f"version: {value.text}" if isinstance(value, ScalarNode) else "version"
        yield ctx.finding(key_span, f'top-level "{shown}" is obsolete and ignored by Compose', fix=fix)
