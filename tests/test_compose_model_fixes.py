"""Model fixes found by the oracle that rules depend on (no docker-compose needed)."""

from __future__ import annotations

from pathlib import Path

from vantage_lint.compose.project import load_project
from vantage_lint.discovery import discover
from vantage_lint.source import read_source


def _load(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    target = [t for t in discover([tmp_path]) if t.kind == "compose"][0]
    return target, load_project(target.files, reader=lambda p: read_source(p, str(p)), environ={})


def test_vl004_once_per_unset_variable(tmp_path: Path) -> None:
    _, project = _load(tmp_path, {"compose.yml": 'services:\n  a:\n    image: "x:${TAG}"\n    environment:\n'
                                                 "      T: ${TAG}\n      U: ${OTHER}\n"})
    unset = [f for f in project.problems if f.code == "VL004"]
    assert [f.span.line for f in unset] == [3, 6]
    assert "(and 1 other use)" in unset[0].message
    # No .env and no template: the deployment supplies every variable; the linter cannot know.
    assert {f.severity.label for f in unset} == {"info"}
    assert unset[0].message.endswith("so it must come from where the stack is deployed")


def test_vl004_warns_when_the_env_file_lacks_the_variable(tmp_path: Path) -> None:
    _, project = _load(tmp_path, {".env": "TAG=1.0\n",
                                  "compose.yml": 'services:\n  a:\n    image: "x:${TAG}"\n    environment:\n'
                                                 "      U: ${OTHER}\n"})
    unset = [f for f in project.problems if f.code == "VL004"]
    assert [(f.span.line, f.severity.label) for f in unset] == [(5, "warning")]
    assert unset[0].message == 'variable "OTHER" is not set; Compose substitutes an empty string'


def test_vl004_a_template_line_commented_out_is_set_at_deploy_time(tmp_path: Path) -> None:
    _, project = _load(tmp_path, {".env.example": "# REDIS_PASSWORD=change-me\n# Set the tag below\nTAG=1.0\n",
                                  "compose.yml": 'services:\n  a:\n    image: "x:${TAG}"\n    command: '
                                                 "redis-server --requirepass ${REDIS_PASSWORD}\n"})
    assert [f for f in project.problems if f.code == "VL004"] == []
    assert "REDIS_PASSWORD" in project.template_names


def test_dot_and_root_sources_with_mode_are_binds(tmp_path: Path) -> None:
    _, project = _load(tmp_path, {"compose.yml": "services:\n  a:\n    image: x\n    volumes: ['.:/app:ro', '/:/host:ro']\n"})
    mounts = project.services["a"].mounts
    assert [(m.type, m.source, m.target, m.read_only) for m in mounts] == [
        ("bind", ".", "/app", True), ("bind", "/", "/host", True)]


def test_override_of_other_extension_is_one_project(tmp_path: Path) -> None:
    target, project = _load(tmp_path, {"docker-compose.yml": "services:\n  a:\n    image: x\n",
                                       "docker-compose.override.yaml": "services:\n  a:\n    image: y\n"})
    assert len([t for t in discover([tmp_path]) if t.kind == "compose"]) == 1
    assert project.services["a"].text("image") == "y"


def test_links_are_implicit_dependencies(tmp_path: Path) -> None:
    _, project = _load(tmp_path, {"compose.yml": "services:\n  a:\n    image: x\n    links: ['b:db']\n"
                                                 "    network_mode: service:c\n  b:\n    image: y\n  c:\n    image: z\n"})
    deps = project.services["a"].depends_on
    assert set(deps) == {"b", "c"} and all(d.implicit for d in deps.values())
