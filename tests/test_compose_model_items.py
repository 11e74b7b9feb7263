"""Issue 14's model items as the rules see them: casts, unique keys, refusals, profiles,
COMPOSE_FILE, overlays in folder walks, and values only the deployment knows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import run, write
from vantage_lint.compose.casts import cast_string
from vantage_lint.compose.project import load_project, project_files
from vantage_lint.compose.show import show_project
from vantage_lint.compose.unknown import as_compose, as_written, marker
from vantage_lint.discovery import discover
from vantage_lint.engine import Inputs, lint
from vantage_lint.settings import Settings
from vantage_lint.source import read_source


def _load(folder: Path, files: list[str], **kw):
    return load_project([folder / f for f in files], reader=lambda p: read_source(p, str(p)), environ={},
                        project_directory=folder, **kw)


def test_cast_table_follows_compose_go():
    path = ("services", "web")
    assert cast_string(path + ("user",), "1000") == "1000"
    assert cast_string(path + ("deploy", "resources", "limits", "memory"), "0") == "0"
    assert cast_string(path + ("healthcheck", "retries"), "3") == 3
    assert cast_string(path + ("privileged",), "yes") is True
    assert cast_string(path + ("ports", "[]", "target"), "80") == 80
    assert cast_string(path + ("ulimits", "nofile", "soft"), "1024") == 1024
    assert cast_string(path + ("cpus",), "0.5") == 0.5
    assert cast_string(("networks", "front", "external"), "true") is True
    assert cast_string(path + ("retries",), "3") == "3"  # not in the table
    assert cast_string(path + ("privileged",), "maybe") == "maybe"  # a failed cast is left to the schema


def test_interpolated_user_and_memory_are_strings_to_the_schema(tmp_path):
    write(tmp_path, {"compose.yml": 'services:\n  web:\n    image: nginx:1.27\n    user: "${UID:-1000}"\n'
                                     '    deploy: {resources: {limits: {memory: "${MEM:-512m}"}}}\n'
                                     '    healthcheck: {test: ["CMD", "true"], retries: "${R:-3}"}\n'
                                     "    ulimits: !reset null\n"})
    report = run([tmp_path / "compose.yml"], select=["VL002"])
    assert [f.message for f in report.findings] == []


def test_duplicates_in_one_file_are_one_entry(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web:\n    image: nginx:1.27\n"
                                     "    cap_add: [NET_ADMIN, NET_ADMIN]\n    dns: [1.1.1.1, 1.1.1.1]\n"
                                     '    ports: ["8000-8001:80-81", "8000:80"]\n'
                                     "    volumes: [/a/:/data, /b:/data/]\n"})
    assert [f.message for f in run([tmp_path / "compose.yml"], select=["VL002"]).findings] == []
    project = _load(tmp_path, ["compose.yml"])
    service = project.services["web"]
    assert service.get("cap_add").plain() == ["NET_ADMIN"]
    assert [m.source for m in service.mounts] == ["/b"]  # the later mount of /data, at the first's place
    shown = show_project(project)["services"]["web"]["ports"]
    assert [(p["published"], p["target"]) for p in shown] == [("8000", 80), ("8001", 81)]


def test_reset_in_the_file_that_writes_it(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web:\n    image: nginx:1.27\n    ulimits: !reset null\n"
                                     "    volumes: [/a:/a, !reset /b:/b]\n"})
    service = _load(tmp_path, ["compose.yml"]).services["web"]
    assert service.get("ulimits") is None
    assert [m.target for m in service.mounts] == ["/a"]


def test_override_does_not_reach_an_extending_service(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  base: {image: nginx:1.27}\n  web: {extends: base}\n",
                      "compose.override.yml": "services:\n  base: {labels: {b: '2'}}\n"})
    project = _load(tmp_path, ["compose.yml", "compose.override.yml"])
    assert project.services["base"].get("labels") is not None
    assert project.services["web"].get("labels") is None


def test_extending_a_service_of_another_file_is_an_error(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  base: {image: nginx:1.27}\n",
                      "compose.override.yml": "services:\n  extra: {extends: base}\n"})
    project = _load(tmp_path, ["compose.yml", "compose.override.yml"])
    assert any(f.code == "VL003" and "base" in f.message for f in project.problems)


def test_include_path_list_merges_as_overrides_with_its_own_env(tmp_path):
    write(tmp_path, {
        "compose.yml": "include:\n  - path: [sub/compose.yml, sub/more.yml]\nservices:\n  web: {image: nginx:1.27}\n",
        ".env": "SHARED=parent\n",
        "sub/compose.yml": "services:\n  s: {image: 'redis:${TAG}', environment: {SHARED: '${SHARED}'}}\n",
        "sub/more.yml": "services:\n  s: {environment: {MORE: '1'}}\n",
        "sub/.env": "TAG=7.2\nSHARED=child\n",
    })
    project = _load(tmp_path, ["compose.yml"])
    assert not [f for f in project.problems if f.code == "VL003"]
    s = show_project(project)["services"]["s"]
    assert s["image"] == "redis:7.2" and s["environment"] == {"SHARED": "parent", "MORE": "1"}


def test_several_documents_merge_in_order(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web: {image: nginx:1.27, environment: {A: '1'}}\n---\n"
                                     "services:\n  web: {environment: {B: '2'}}\n"})
    project = _load(tmp_path, ["compose.yml"])
    assert not project.problems
    assert show_project(project)["services"]["web"]["environment"] == {"A": "1", "B": "2"}


def test_go_yaml_numbers(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web:\n    image: nginx:1.27\n"
                                     "    environment: {MODE: 0755, BIG: 1e6, N: 1_000, Q: '0755'}\n"})
    env = show_project(_load(tmp_path, ["compose.yml"]))["services"]["web"]["environment"]
    assert env == {"MODE": "493", "BIG": "1e+06", "N": "1000", "Q": "0755"}


def test_refusals_are_errors(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web:\n    image: nginx:1.27\n    labels: {true: x}\n"
                                     "    env_file: [./missing.env, {path: ./optional.env, required: false}, ./bad.env]\n",
                      ".env": 'A="unterminated\n', "bad.env": "MY VAR=1\n"})
    found = [(f.code, f.severity.name, f.span.path.rsplit("/", 1)[-1]) for f in _load(tmp_path, ["compose.yml"]).problems]
    assert ("VL001", "ERROR", "compose.yml") in found  # the key true
    assert ("VL004", "ERROR", ".env") in found
    assert ("VL004", "ERROR", "bad.env") in found
    assert ("VL003", "ERROR", "compose.yml") in found  # missing.env only: optional.env is not required
    assert sum(1 for code, _, _ in found if code == "VL003") == 1


def test_profiles_select_and_inactive_dependency(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web: {image: nginx:1.27, depends_on: [cache]}\n"
                                     "  cache: {image: 'redis:7.2', profiles: [cache]}\n"
                                     "  debug: {image: 'busybox:1.36', profiles: [debug]}\n"})
    plain = _load(tmp_path, ["compose.yml"])
    assert [f.message for f in plain.problems if f.code == "VL003"][0].startswith('service "web" depends on "cache"')
    with_profile = _load(tmp_path, ["compose.yml"], profiles=["cache"])
    assert not with_profile.problems and sorted(with_profile.services) == ["cache", "web"]
    done = subprocess.run([sys.executable, "-m", "vantage_lint", "--show-compose", "--profile", "debug",
                           "--profile", "cache", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert sorted(json.loads(done.stdout)["services"]) == ["cache", "debug", "web"]


def test_compose_file_from_dotenv_and_environment(tmp_path):
    write(tmp_path, {"compose.yml": "services: {web: {image: nginx:1.27}}\n",
                      "extra.yml": "services: {web: {restart: always}}\n",
                      ".env": "COMPOSE_FILE=compose.yml:extra.yml\n"})
    assert project_files(tmp_path, {}) == [tmp_path / "compose.yml", tmp_path / "extra.yml"]
    assert project_files(tmp_path, {"COMPOSE_FILE": "extra.yml;compose.yml", "COMPOSE_PATH_SEPARATOR": ";"}) == [
        tmp_path / "extra.yml", tmp_path / "compose.yml"]
    targets = [t for t in discover([tmp_path], environ={}) if t.kind == "compose"]
    assert [[f.name for f in t.files] for t in targets] == [["compose.yml", "extra.yml"]]


def test_folder_walk_lints_an_overlay_merged_over_its_base(tmp_path):
    write(tmp_path, {"docker-compose.yml": "services:\n  web:\n    image: nginx:1.27\n",
                      "docker-compose.prod.yml": "services:\n  web:\n    mem_limit: 512m\n",
                      "docker-compose.tools.yml": "services:\n  tool:\n    image: busybox:1.36\n"})
    targets = [[f.name for f in t.files] for t in discover([tmp_path], environ={}) if t.kind == "compose"]
    assert ["docker-compose.yml", "docker-compose.prod.yml"] in targets
    assert ["docker-compose.tools.yml"] in targets  # defines a service of its own: not an overlay
    report = lint([tmp_path], Settings(select=["VL106"]), inputs=Inputs(environ={}))
    web = [f for f in report.findings if f.service == "web"]
    # one finding for the missing logging block, at the base's definition (where it must be added)
    assert [(f.span.path.rsplit("/", 1)[-1], f.span.line) for f in web] == [("docker-compose.yml", 2)]


def test_finding_for_a_value_an_override_sets_points_at_the_override(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web:\n    image: nginx:1.27\n",
                      "compose.override.yml": "services:\n  web:\n    privileged: true\n"})
    report = lint([tmp_path], Settings(select=["VL101", "VL401"]), inputs=Inputs(environ={}))
    by_code = {f.code: f.span.path.rsplit("/", 1)[-1] for f in report.findings}
    assert by_code["VL101"] == "compose.yml"  # no user: key, add it to the base definition
    assert by_code["VL401"] == "compose.override.yml"  # privileged: true is written there


def test_unknown_values_are_not_empty(tmp_path):
    write(tmp_path, {
        "docker-compose.yml": (
            "services:\n  redis:\n    image: redis:7.2\n"
            "    command: redis-server --requirepass ${REDIS_PASSWORD:?set it} --maxmemory 256mb\n"
            '    healthcheck:\n      test: ["CMD", "redis-cli", "ping"]\n'),
        ".env.example": "REDIS_PASSWORD=\n",
    })
    report = run([tmp_path])
    codes = {f.code: f for f in report.findings}
    assert "VL005" not in codes  # `--requirepass` has its argument, whatever it will be
    assert "VL216" not in codes  # a password is set: its value is the deployment's
    assert "VL213" not in codes  # --maxmemory is still read as the next flag
    assert "VL004" not in codes  # ${VAR:?} says the deployment sets it
    assert codes["VL204"].severity.name == "ERROR"  # the probe sends no password to a Redis that needs one
    assert report.env_templates and report.env_templates[0].endswith(".env.example")
    text = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", str(tmp_path)],
                          capture_output=True, text=True, timeout=60).stdout
    assert sum("stood in for it" in line for line in text.splitlines()) == 1
    data = json.loads(subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--format", "json",
                                      str(tmp_path)], capture_output=True, text=True, timeout=60).stdout)
    assert data["summary"]["env_templates"][0].endswith(".env.example")
    assert "\ue000" not in json.dumps(data, ensure_ascii=False)


def test_markers_render_as_written_or_as_compose():
    text = f"redis://:{marker('PW')}@redis:6379/0"
    assert as_written(text) == "redis://:${PW}@redis:6379/0"
    assert as_compose(text) == "redis://:@redis:6379/0"


def test_no_conflict_is_concluded_from_an_unknown_value(tmp_path):
    write(tmp_path, {"compose.yml": "services:\n  web:\n    image: nginx:1.27\n    mem_limit: 512m\n"
                                     '    deploy: {resources: {limits: {memory: "${MEM}"}}}\n'})
    assert [f.message for f in run([tmp_path / "compose.yml"], select=["VL003"]).findings] == []
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: nginx:1.27\n    mem_limit: 512m\n"
                                          "    deploy: {resources: {limits: {memory: 1g}}}\n")
    assert len(run([tmp_path / "compose.yml"], select=["VL003"]).findings) == 1
