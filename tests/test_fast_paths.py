"""Each shortcut taken for speed gives the answer of the plain computation it replaces."""

from __future__ import annotations

from pathlib import Path

from vantage_lint.compose import casts

ROOT = Path(__file__).resolve().parent.parent


def _linear_caster(path: tuple[str, ...]):
    for pattern, cast in casts.CAST_TABLE.items():
        if casts._matches(path, pattern):
            return cast
    return None


def test_cast_lookup_by_shape_equals_the_table_scan():
    names = ["web", "*", "[]", "x"]
    paths: set[tuple[str, ...]] = {()}
    for pattern in casts.CAST_TABLE:
        for i in range(len(pattern) + 1):
            paths.add(pattern[:i])
        # every wildcard filled with each name, and each literal part swapped for another
        for name in names:
            paths.add(tuple(name if p == "*" else p for p in pattern))
            for i in range(len(pattern)):
                paths.add(pattern[:i] + (name,) + pattern[i + 1:])
        paths.add(pattern + ("extra",))
    for path in paths:
        matches = [p for p in casts.CAST_TABLE if casts._matches(path, p)]
        assert len(matches) <= 1, (path, matches)  # so the order of the lookup cannot matter
        assert casts.caster_for(path) is _linear_caster(path), path


# --- the secret scan reads the loader's tree -----------------------------------------------------

CORPUS = ROOT.parent / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")


def _compose_files() -> list[Path]:
    files = sorted((ROOT / "tests" / "rules").rglob("*.y*ml")) + sorted((ROOT / "fixtures").rglob("*.y*ml"))
    if CORPUS.is_dir():
        files += sorted((CORPUS / "realworld").rglob("*.y*ml"))
    return files


def test_secrets_from_the_loaders_tree_equal_those_of_a_fresh_parse():
    """The loader's tree is interpolated (unset variables become unknown markers, set ones their
    values) and its file's ``extends`` are applied on copies: the secret scan over it must find
    exactly the values a parse without interpolation finds."""
    from vantage_lint.compose.project import load_project
    from vantage_lint.secrets import _yaml_secrets
    from vantage_lint.source import Reader

    environ = {"REDIS_PASSWORD": "EnvValuePw42", "PASSWORD": "x", "TAG": "7.2", "HOME": "/root"}
    compared = with_secrets = extended = 0
    for path in _compose_files():
        try:
            project = load_project([path], reader=Reader(path.parent), environ=environ)
        except (OSError, RecursionError):
            continue
        for source in project.sources.values():
            tree = source.yaml_root
            if tree is None or not source.path.endswith((".yml", ".yaml")):
                continue
            from_tree = _yaml_secrets(source.path, source.text, tree)
            assert from_tree == _yaml_secrets(source.path, source.text), path
            compared += 1
            with_secrets += bool(from_tree)
            extended += "extends:" in source.text
    assert compared > 300 and with_secrets > 30 and extended > 5, (compared, with_secrets, extended)


def test_static_schema_equals_the_static_copy_of_the_schema():
    from vantage_lint.compose.schema import compose_schema, static_schema, static_unevaluated

    assert static_schema() == static_unevaluated(compose_schema())
    assert static_schema() != compose_schema()  # the transformation did something


def test_secret_values_are_the_same_with_the_cache_off(tmp_path, monkeypatch):
    from vantage_lint import cache, secrets

    compose = ("services:\n  redis:\n    image: redis:7.2\n    command: [redis-server, --requirepass, Pw0rdOne]\n"
               "    environment:\n      REDIS_PASSWORD: Pw0rdTwo\n      URL: redis://:Pw0rdThree@redis:6379/0\n")
    found = {}
    for enabled in (True, False, True):  # stored, not stored, read back
        monkeypatch.setattr(secrets, "_memo", {})
        cache.configure(enabled=enabled, folder=tmp_path)
        try:
            found[enabled] = secrets.secret_values("docker-compose.yml", compose)
        finally:
            cache.configure()
    assert found[True] == found[False] == ("Pw0rdThree", "Pw0rdOne", "Pw0rdTwo")


def test_a_lazy_pattern_compiles_on_first_use_and_then_answers_as_the_pattern():
    import re

    from vantage_lint.lazyre import lazy

    pattern = lazy(r"(?P<word>[a-z]+)=(\d+)", re.IGNORECASE)
    assert pattern._compiled is None
    real = re.compile(r"(?P<word>[a-z]+)=(\d+)", re.IGNORECASE)
    text = "A=1 bb=22 c=x"
    assert pattern.search(text).group("word") == real.search(text).group("word")  # compiles
    assert pattern._compiled is not None
    assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert pattern.sub("-", text) == real.sub("-", text) and pattern.findall(text) == real.findall(text)
    assert pattern.match(text) and not pattern.fullmatch(text) and pattern.split(text) == real.split(text)
    assert pattern.groups == 2 and pattern.pattern == real.pattern
