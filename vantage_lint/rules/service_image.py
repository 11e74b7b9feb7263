"""VL111: images whose content can change under the same name."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.interpolation import deployment_choice, references
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule


def _local_image(service: Service, raw: str) -> bool:
    """The image is built here, not pulled: ``build:``, ``pull_policy: never|build``, or the
    name another service of the project builds (``image: app`` next to ``build: .``)."""
    if service.get("build") is not None:
        return True
    policy = service.text("pull_policy")
    if policy is not None and policy.strip().lower() in ("never", "build"):
        return True
    return any(
        other.get("build") is not None and other.image is not None and other.image.raw == raw
        for other in service.project.services.values()
    )


@rule(
    code="VL111",
    name="unpinned-image",
    summary="The image has no tag or the latest tag, and no digest.",
    severity=Severity.WARNING,
    hint="Pin the image to a version tag (e.g. redis:7.2.5) or a digest (@sha256:...).",
    contexts=PRODUCTION_ONLY,
)
def unpinned_image(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports an `image:` without a tag, or with the `latest` tag, and without a `@sha256:`
    digest. The value is read after interpolation, so `myapp:${TAG:-latest}` with `TAG` unset
    is reported (as information: `latest` is only the fallback, the deployment sets `TAG`)
    and `myapp:${TAG}` with `TAG=1.4.2` in `.env` passes (with `TAG` unset the
    tag is empty: VL004 reports the variable, not this rule). Images built locally are
    skipped: a service with `build:` (its `image:` names what Compose builds and tags),
    `pull_policy: never` or `build`, or the image name another service of the project builds.

    ## Why it matters
    `latest` (which is also what no tag means) moves: two `docker compose pull` runs start
    different code, a rollback cannot name the previous version, and a new major release
    (Redis 7 to 8, Flower 1 to 2) arrives without anyone choosing it.

    ## Example
    ```yaml
    services:
      flower:
        image: mher/flower
    ```

    ## Fix
    Pin a version tag (`mher/flower:2.0.1`), or a digest for full reproducibility.
    """
    image = service.image
    node = service.get("image")
    if image is None or not isinstance(node, ScalarNode) or _local_image(service, image.raw):
        return
    if image.digest or (image.tag is not None and image.tag.lower() != "latest"):
        return
    if has_unknown(image.raw) or image.tag is None and any(ref.name not in service.project.env for ref in references(node.raw)):
        return  # "app:${TAG}" with TAG unset: VL004 reports the variable, the intent is a pinned tag
    written = f'"{node.raw}" (resolves to "{image.raw}")' if node.raw != image.raw else f'"{image.raw}"'
    problem = "without a tag (which means latest)" if image.tag is None else 'with the mutable "latest" tag'
    # `app:${TAG:-latest}`: latest is only the fallback; where it is deployed the tag is set.
    choice = deployment_choice(service.project, node.raw, "the tag")
    yield ctx.finding(
        node,
        f'service "{service.name}" uses image {written} {problem}: what runs changes whenever the image is pulled'
        + choice,
        severity=Severity.INFO if choice else None,
    )
