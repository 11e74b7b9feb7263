"""Is a file one the repository deliberately leaves out (listed in a ``.gitignore``)?

A Compose file that names an env file the repository does not hold (``.env.nginx``,
``secrets.env``) is either broken or waiting for the deployment to create that file. A
``.gitignore`` that lists it says which: the file is kept out of the repository on purpose,
because it holds the deployment's secrets. The ``.gitignore`` files are read from the file's
folder up to ``top`` (the project folder, or the folder the run started in when that holds
it), through the source layer so the result cache sees them, and matched with pathspec's
implementation of Git's rules (negation, anchoring, ``**``), the most specific file last.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vantage_lint.source import SourceError, SourceFile, is_file


def ignored(path: Path, top: Path, read: Callable[[Path], SourceFile]) -> bool:
    """True when a ``.gitignore`` between ``path``'s folder and ``top`` ignores ``path``;
    ``read`` is the project's reader."""
    try:
        path, top = path.absolute(), top.absolute()
        relative = path.relative_to(top)
    except ValueError:
        return False
    folders = [top, *(top.joinpath(*relative.parts[:i]) for i in range(1, len(relative.parts)))]
    verdict = False
    for folder in folders:  # outermost first: a nearer .gitignore overrides it, as in Git
        gitignore = folder / ".gitignore"
        if not is_file(gitignore):
            continue
        try:
            text = read(gitignore).text
        except (OSError, SourceError):
            continue
        import pathspec

        spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
        result = spec.check_file(path.relative_to(folder).as_posix())
        if result.include is not None:
            verdict = bool(result.include)
    return verdict
