"""VL007, VL008: suppressions that do nothing or cannot work.

The suppression pass (:mod:`vantage_lint.suppress`) emits these findings after every other
rule has run, since only then is it known which suppressions were used.
"""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.findings import Applicability, Finding, Severity
from vantage_lint.registry import rule


@rule(
    code="VL007",
    name="unused-suppression",
    summary="A suppression comment or x-vantage ignore entry that suppressed nothing.",
    severity=Severity.WARNING,
    hint="Remove the suppression; nothing it names is reported here any more.",
    scope="input",
    fix=Applicability.SAFE,
)
def unused_suppression() -> Iterator[Finding]:
    """## What it does
    Reports a `# vantage-lint: disable=...` comment (end of line, previous line or
    `disable-file` at the top), a redis.conf suppression comment, or an `x-vantage: {ignore: [...]}`
    entry of a service that names a rule which reported nothing there. Only the unused codes
    are named; the others of the same comment keep working.

    ## Why it matters
    A stale suppression hides the next real problem of that kind on the same line, and it tells
    readers that something is wrong where nothing is. Suppressions should be as few and as
    precise as the findings they silence.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2  # vantage-lint: disable=VL111
    ```
    (`redis:7.2` is pinned, so VL111 reports nothing on this line.)

    ## Fix
    Delete the code from the comment, or the whole comment when no code is left; delete the
    unused entries of `x-vantage.ignore`. `--fix` does this (safe fix: no behaviour changes).
    """
    return iter(())


@rule(
    code="VL008",
    name="invalid-suppression",
    summary="A suppression that names an unknown rule, is malformed, misplaced or forbidden by the configuration.",
    severity=Severity.WARNING,
    hint="Name rules by code (VL101) or name (root-user) in `# vantage-lint: disable=...`, or remove the comment.",
    scope="input",
)
def invalid_suppression() -> Iterator[Finding]:
    """## What it does
    Reports suppressions that cannot work: a code or name that is no rule or policy, a comment
    that starts with `vantage-lint:` but is not `disable=CODES` or `disable-file[=CODES]`,
    `disable` without codes, a `disable-file` below the first line of content, an
    `x-vantage.ignore` that is not a list of codes, and any inline suppression when the
    configuration forbids it (`allow-inline-suppressions: false`, or false for that rule).

    ## Why it matters
    A typo in a suppression silently suppresses nothing, and the author believes the finding is
    handled. When a team's configuration forbids inline suppressions, the finding is still
    reported and this tells the author why their comment had no effect.

    ## Example
    ```yaml
    services:
      redis:  # vantage-lint: disable=VL1O1
        image: redis:7.2
    ```

    ## Fix
    Correct the code (`VL101`) or the syntax (`# vantage-lint: disable=VL101 -- reason`); move
    `disable-file` to the top of the file; remove suppressions the configuration forbids.
    """
    return iter(())
