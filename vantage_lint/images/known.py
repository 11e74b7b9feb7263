"""The table of known images (``data/images.json``): who the process runs as, whether the image
declares a HEALTHCHECK, and the file each answer was read from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from vantage_lint.compose.model import ImageRef

_DOCKER_HUB = (None, "docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True, slots=True)
class KnownImage:
    patterns: tuple[str, ...]
    user_kind: str                  # "user" | "drops" | "root"
    user_to: str | None             # the unprivileged user it runs as (or drops to)
    when: tuple[str, ...]           # "drops": first arguments that make the entrypoint drop root
    when_prefix: tuple[str, ...]
    prepend: str | None             # "drops": prepended to an argument that starts with "-"
    prepend_conf: bool              # ... or that ends in ".conf"
    healthcheck: bool
    source: str                     # "repo@commit: file, file"
    repo: str                       # where it was read, for messages: "docker-library/redis"

    def drops_for(self, first: str | None) -> bool:
        """Whether the entrypoint drops root when the command's first argument is ``first``
        (None: the image's own CMD, which every entry's entrypoint drops for)."""
        if first is None:
            return True
        if self.prepend and (first.startswith("-") or (self.prepend_conf and first.endswith(".conf"))):
            first = self.prepend
        return first in self.when or any(first.startswith(p) for p in self.when_prefix)

    @property
    def trigger(self) -> str:
        names = list(self.when) + [f"{p}*" for p in self.when_prefix]
        return " or ".join(names)


@lru_cache(maxsize=1)
def known_images() -> tuple[KnownImage, ...]:
    # read as a file beside the package (importlib.resources costs more to import than the table)
    text = (Path(__file__).resolve().parent.parent / "data" / "images.json").read_text(encoding="utf-8")
    entries = []
    for entry in json.loads(text)["images"]:
        user = entry["user"]
        source = entry["source"]
        entries.append(KnownImage(
            patterns=tuple(entry["match"]),
            user_kind=user["kind"],
            user_to=user.get("to"),
            when=tuple(user.get("when", ())),
            when_prefix=tuple(user.get("when-prefix", ())),
            prepend=user.get("prepend"),
            prepend_conf=bool(user.get("prepend-conf", False)),
            healthcheck=bool(entry["healthcheck"]),
            source=f"{source['repo']}@{source['commit'][:12]}: {', '.join(source['files'])}",
            repo=source["repo"],
        ))
    return tuple(entries)


def _candidates(image: ImageRef) -> set[str]:
    repo = image.repository
    if image.registry in _DOCKER_HUB:
        return {repo.removeprefix("library/")}
    return {f"{image.registry.lower()}/{repo}"} if image.registry else {repo}


def lookup(image: ImageRef | None) -> KnownImage | None:
    """The table entry for ``image`` (Docker Hub names with or without ``docker.io/`` and
    ``library/``; other registries by their full name), or None."""
    if image is None or "$" in image.raw:
        return None
    names = _candidates(image)
    for entry in known_images():
        if any(fnmatchcase(name, pattern) for pattern in entry.patterns for name in names):
            return entry
    return None
