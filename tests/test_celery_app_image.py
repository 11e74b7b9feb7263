"""The Celery app found through the Dockerfile: WORKDIR and COPY/ADD map the container's import
root to host files (bind mounts over them), and a CMD/ENTRYPOINT that runs celery is the
service's command when Compose sets none."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.celery.app_image import DockerIgnore
from vantage_lint.compose.project import load_project
from vantage_lint.compose.roles import celery_invocation
from vantage_lint.images.dockerfile import parse_dockerfile
from vantage_lint.rules.celery_options import app_config, celery_view
from vantage_lint.source import Reader

APP = """
from celery import Celery
app = Celery("proj")
app.conf.task_time_limit = 300
app.conf.task_soft_time_limit = 240
app.conf.worker_max_tasks_per_child = 100
"""

DECOY = """
from celery import Celery
app = Celery("decoy")
app.conf.task_time_limit = 9
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _view(root: Path, service: str = "worker"):
    project = load_project([root / "docker-compose.yml"], reader=Reader(root), environ={})
    return celery_view(project.services[service])


def _compose(worker: str) -> str:
    return "services:\n  worker:\n" + textwrap.indent(textwrap.dedent(worker).lstrip("\n"), "    ")


CMD = "command: celery -A proj worker -c 2\n"

LAYOUTS = [
    pytest.param("build: .\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
        "proj/__init__.py": "", "proj/celery.py": APP}, id="workdir-copy-dot-dot"),
    pytest.param("build: .\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY ./src /app\n",
        "src/proj/__init__.py": "", "src/proj/celery.py": APP,
        "proj/__init__.py": "", "proj/celery.py": DECOY}, id="copy-src-into-workdir"),
    pytest.param("build: .\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /srv\nWORKDIR app\nCOPY --chown=1000:1000 backend/ .\n",
        "backend/proj/__init__.py": APP, "proj/__init__.py": DECOY}, id="relative-workdir-and-chown"),
    pytest.param("build: .\n" + CMD, {
        "Dockerfile": "FROM python:3.12 AS build\nWORKDIR /build\nCOPY src/ ./code/\n"
                      "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=build /build/code /app\n",
        "src/proj/__init__.py": "", "src/proj/celery.py": APP, "proj/__init__.py": DECOY},
        id="multi-stage-copy-from"),
    pytest.param("build: {context: ., target: worker}\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim AS worker\nWORKDIR /w\nCOPY worker_src /w\n"
                      "FROM python:3.12-slim AS web\nWORKDIR /web\nCOPY web_src /web\n",
        "worker_src/proj/__init__.py": APP, "web_src/proj/__init__.py": DECOY}, id="target-selects-a-stage"),
    pytest.param("build: .\nworking_dir: /opt/svc\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nCOPY svc /opt/svc\n",
        "svc/proj/__init__.py": APP, "proj/__init__.py": DECOY}, id="working-dir-overrides-workdir"),
    pytest.param("build: .\nvolumes: ['./dev:/app']\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY src /app\n",
        "dev/proj/__init__.py": APP, "src/proj/__init__.py": DECOY}, id="bind-mount-beats-copy"),
    pytest.param("build: .\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nENV PYTHONPATH=/opt/lib\nWORKDIR /app\nCOPY lib /opt/lib\n",
        "lib/proj/__init__.py": APP}, id="env-pythonpath"),
    pytest.param("build: .\nenvironment: {PYTHONPATH: 'lib2'}\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nENV PYTHONPATH=/opt/lib\nWORKDIR /app\nCOPY lib /opt/lib\nCOPY lib2 lib2/\n",
        "lib2/proj/__init__.py": APP, "lib/proj/__init__.py": DECOY},
        id="service-pythonpath-replaces-the-image-env-relative-to-workdir"),
    pytest.param("build: .\ncommand: celery --workdir svc -A proj worker -c 2\n", {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
        "svc/proj/__init__.py": APP, "proj/__init__.py": DECOY}, id="celery-workdir-relative-to-workdir"),
    pytest.param("build: .\n" + CMD, {
        "Dockerfile": "FROM python:3.12-slim\nARG HOME_DIR=/home/app\nWORKDIR ${HOME_DIR}\n"
                      'COPY ["proj", "celeryconfig.py", "proj/"]\n',
        # celeryconfig.py lands in /home/app/proj/, beside the package's own files.
        "proj/__init__.py": "from celery import Celery\napp = Celery('proj')\n"
                            "app.config_from_object('proj.celeryconfig')\n",
        "celeryconfig.py": "task_time_limit = 300\n"},
        id="arg-workdir-exec-form-several-sources"),
    pytest.param("build: .\n", {
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["celery", "-A", "proj", "worker", "-c", "2"]\n',
        "proj/__init__.py": APP}, id="app-only-in-exec-cmd"),
    pytest.param("build: .\n", {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD celery -A proj worker -c 2\n",
        "proj/__init__.py": APP}, id="app-only-in-shell-cmd"),
    pytest.param("build: .\n", {
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["celery", "-A", "proj"]\n'
                      'CMD ["worker", "-c", "2"]\n',
        "proj/__init__.py": APP}, id="app-in-entrypoint-and-cmd"),
]


@pytest.mark.parametrize("worker,files", LAYOUTS)
def test_layouts_find_the_app(tmp_path, worker, files):
    _write(tmp_path, {"docker-compose.yml": _compose(worker), **files})
    config = app_config(_view(tmp_path))
    assert config is not None and config.app_span is not None, _view(tmp_path).app
    assert config.get("task_time_limit").value == 300
    assert config.complete


@pytest.mark.parametrize("worker,files", [p for p in LAYOUTS if p.id != "arg-workdir-exec-form-several-sources"])
def test_settings_found_so_no_time_limit_finding(tmp_path, worker, files):
    """VL304/VL305 ("no time limit", "no child recycling") do not fire: the app sets them."""
    _write(tmp_path, {"docker-compose.yml": _compose(worker), **files})
    report = run([tmp_path / "docker-compose.yml"], select=["VL304", "VL305", "VL327"])
    assert [f.code for f in report.findings] == []


def test_without_the_dockerfile_the_time_limit_finding_would_fire(tmp_path):
    """The control of the test above: the same worker with an app that sets nothing."""
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD),
                      "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY ./src /app\n",
                      "src/proj/__init__.py": "from celery import Celery\napp = Celery('proj')\n",
                      "proj/__init__.py": APP})
    report = run([tmp_path / "docker-compose.yml"], select=["VL305"])
    assert [f.code for f in report.findings] == ["VL305"]


@pytest.mark.parametrize("dockerfile,reason", [
    pytest.param("FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=ghcr.io/acme/code:1 /src /app\n",
                 "copies from the image ghcr.io/acme/code:1", id="copy-from-an-image"),
    pytest.param("FROM python:3.12-slim\nARG CODE\nWORKDIR /app\nCOPY ${CODE} /app\n",
                 "source uses a variable not known", id="source-variable-unknown"),
    pytest.param("FROM python:3.12-slim\nARG DIR\nWORKDIR ${DIR}\nCOPY . .\n",
                 "working directory is not known", id="workdir-variable-unknown"),
    pytest.param("FROM acme/base:1\nCOPY . .\n", "may set its own WORKDIR", id="base-image-workdir"),
    pytest.param("FROM python:3.12-slim\nWORKDIR /app\nADD code.tar.gz /app\n", "archive", id="add-archive"),
    pytest.param("FROM python:3.12-slim\nWORKDIR /app\nCOPY <<EOF /app/proj/__init__.py\nx = 1\nEOF\n",
                 "heredoc", id="heredoc"),
])
def test_what_cannot_be_followed_is_said(tmp_path, dockerfile, reason):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD), "Dockerfile": dockerfile,
                      "proj/__init__.py": APP})
    config = app_config(_view(tmp_path))
    assert config is not None and config.app_span is None and not config.complete   # unknown, not unset
    report = run([tmp_path / "docker-compose.yml"], select=["VL327", "VL305"])
    assert [f.code for f in report.findings] == ["VL327"]
    assert reason in report.findings[0].message
    assert "its configuration is not read" in report.findings[0].message


def test_unreadable_dockerfile_is_an_info_finding(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD), "proj/__init__.py": APP})
    (tmp_path / "Dockerfile").write_bytes(b"FROM python:3.12\n\xff\xfe\x00COPY . /app\n")
    report = run([tmp_path / "docker-compose.yml"], select=["VL327"])
    assert [f.code for f in report.findings] == ["VL327"]
    assert "Dockerfile cannot be read" in report.findings[0].message


def test_dockerfile_outside_the_project_is_an_info_finding(tmp_path):
    project = tmp_path / "p"
    _write(tmp_path, {"Dockerfile": "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"})
    _write(project, {"docker-compose.yml": _compose("build: {context: ., dockerfile: ../Dockerfile}\n" + CMD),
                     "proj/__init__.py": APP})
    report = run([project / "docker-compose.yml"], select=["VL327"])
    assert [f.code for f in report.findings] == ["VL327"]
    assert "outside the project folder" in report.findings[0].message


def test_a_mount_over_the_working_dir_needs_no_dockerfile(tmp_path):
    """The Dockerfile cannot be read, but working_dir: is under a bind mount: the mount decides."""
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\nworking_dir: /app\nvolumes: ['./src:/app']\n" + CMD),
                      "src/proj/__init__.py": APP})
    (tmp_path / "Dockerfile").write_bytes(b"\xff\xfe\x00")
    config = app_config(_view(tmp_path))
    assert config is not None and config.get("task_time_limit").value == 300


def test_no_dockerfile_in_the_context_keeps_the_build_context_reading(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD), "proj/__init__.py": APP})
    view = _view(tmp_path)
    assert app_config(view) is not None
    assert view.app.location.looked_in == "build context ."


def test_module_not_copied_is_not_a_module_under_the_image(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD),
                      "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY web /app\n",
                      "requirements.txt": "celery\n", "web/manage.py": "", "proj/__init__.py": APP})
    report = run([tmp_path / "docker-compose.yml"], select=["VL327"])
    assert [f.code for f in report.findings] == ["VL327"]
    message = report.findings[0].message
    assert "is not a module under /app (WORKDIR at " in message and "Dockerfile:2) in the image built from" in message


def test_dockerignore_excludes_files_from_the_context(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD),
                      "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
                      ".dockerignore": "*\n!src\n", "src/x.py": "", "proj/__init__.py": APP})
    assert app_config(_view(tmp_path)) is None


def test_dockerfile_specific_ignore_file_wins(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: {context: ., dockerfile: docker/worker.Dockerfile}\n" + CMD),
                      "docker/worker.Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
                      "docker/worker.Dockerfile.dockerignore": "web\n", ".dockerignore": "proj\n",
                      "proj/__init__.py": APP})
    assert app_config(_view(tmp_path)).get("task_time_limit").value == 300


@pytest.mark.parametrize("pattern,path,excluded", [
    ("*.md", "README.md", True), ("*.md", "docs/a.md", False), ("**/*.md", "docs/a.md", True),
    ("docs", "docs/a/b.py", True), ("/docs/", "docs/x", True), ("*/temp*", "a/temporary.txt", True),
    ("*/temp*", "temp.txt", False), ("temp?", "tempa", True), ("*\n!src", "src/x.py", False),
    ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),
    ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", False),
])
def test_dockerignore_patterns(pattern, path, excluded):
    """The examples of the .dockerignore reference (docs.docker.com, build context)."""
    assert DockerIgnore.parse(pattern).excluded(path) is excluded


@pytest.mark.parametrize("copy,files", [
    pytest.param("COPY *.py /app/", {"tasks.py": APP}, id="files"),
    pytest.param("COPY sr* /app/", {"src/tasks.py": APP}, id="a-folder-matched-copies-its-contents"),
])
def test_wildcard_sources(tmp_path, copy, files):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker\n"),
                      "Dockerfile": f"FROM python:3.12-slim\nWORKDIR /app\n{copy}\n", **files})
    assert app_config(_view(tmp_path)).get("task_time_limit").value == 300


def test_later_copy_overwrites_an_earlier_one(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD),
                      "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY old /app\nCOPY new /app\n",
                      "old/proj/__init__.py": DECOY, "old/proj/extra.py": "", "new/proj/__init__.py": APP})
    assert app_config(_view(tmp_path)).get("task_time_limit").value == 300


def test_cross_check_fires_with_settings_from_the_image(tmp_path):
    """VL329: a countdown beyond the visibility timeout the app sets, app found through COPY."""
    _write(tmp_path, {
        "docker-compose.yml": "services:\n  redis:\n    image: redis:7.2\n  worker:\n    build: .\n"
                              "    environment: {CELERY_BROKER_URL: 'redis://redis:6379/0'}\n",
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY ./src .\nCMD ["celery", "-A", "proj", "worker"]\n',
        "src/proj/__init__.py": "from celery import Celery\napp = Celery('proj')\n"
                                "app.conf.broker_transport_options = {'visibility_timeout': 60}\n"
                                "app.conf.task_acks_late = True\n"})
    report = run([tmp_path / "docker-compose.yml"], select=["VL329"])
    assert [f.code for f in report.findings] == ["VL329"]
    assert "src/proj/__init__.py" in str(report.findings[0].span.path)


# --- the Dockerfile's command --------------------------------------------------------------------

def _invocation(root: Path, service: str = "worker"):
    project = load_project([root / "docker-compose.yml"], reader=Reader(root), environ={})
    return celery_invocation(project.services[service])


@pytest.mark.parametrize("compose,dockerfile,expected", [
    pytest.param("build: .\n", 'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker"]\n', "worker", id="exec-cmd"),
    pytest.param("build: .\n", "FROM python:3.12\nCMD exec celery -A proj beat\n", "beat", id="shell-cmd-exec"),
    pytest.param("build: .\n", "FROM python:3.12\nCMD [\"sh\", \"-c\", \"celery -A proj worker\"]\n", "worker",
                 id="sh-c-in-exec-form"),
    pytest.param("build: .\ncommand: celery -A proj beat\n", 'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker"]\n',
                 "beat", id="command-replaces-cmd"),
    pytest.param("build: .\nentrypoint: ['/start.sh']\n", 'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker"]\n',
                 None, id="entrypoint-clears-cmd"),
    # An entrypoint script is taken to end with `exec "$@"`, as for a Compose command (shell.py).
    pytest.param("build: .\n", 'FROM python:3.12\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["celery", "-A", "p", "worker"]\n',
                 "worker", id="entrypoint-script-runs-its-arguments"),
    pytest.param("build: .\n", 'FROM python:3.12\nENTRYPOINT ["/usr/bin/start"]\nCMD ["celery", "-A", "p", "worker"]\n',
                 None, id="unknown-entrypoint-program"),
    pytest.param("build: .\n", 'FROM python:3.12\nENTRYPOINT celery -A p worker\nCMD ["beat"]\n',
                 "worker", id="shell-entrypoint-ignores-cmd"),
    pytest.param("build: .\n", 'FROM python:3.12 AS base\nCMD ["celery", "-A", "p", "worker"]\nFROM base\n'
                               'ENTRYPOINT ["tini", "--"]\n', None, id="entrypoint-resets-inherited-cmd"),
    pytest.param("build: .\n", 'FROM python:3.12 AS base\nCMD ["celery", "-A", "p", "worker"]\nFROM base\n',
                 "worker", id="cmd-inherited-from-a-stage"),
])
def test_the_dockerfile_command_is_the_service_command(tmp_path, compose, dockerfile, expected):
    _write(tmp_path, {"docker-compose.yml": _compose(compose), "Dockerfile": dockerfile})
    invocation = _invocation(tmp_path)
    assert (invocation.subcommand if invocation is not None else None) == expected


def test_findings_on_the_dockerfile_command_point_into_the_dockerfile(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n"),
                      "Dockerfile": 'FROM python:3.12\nWORKDIR /app\nCOPY . .\n'
                                    'CMD ["celery", "-A", "proj", "worker", "--concurency=4"]\n',
                      "proj/__init__.py": APP})
    report = run([tmp_path / "docker-compose.yml"], select=["VL301"])
    assert [f.code for f in report.findings] == ["VL301"]
    span = report.findings[0].span
    assert span.path.endswith("Dockerfile") and span.line == 4
    line = (tmp_path / "Dockerfile").read_text().splitlines()[3]
    assert line[span.column - 1 : span.end_column - 1] == "--concurency=4"


def test_copy_ops_record_the_workdir_at_each_copy():
    dockerfile = parse_dockerfile("FROM python:3.12\nWORKDIR /a\nCOPY x .\nWORKDIR b\nCOPY --link y ./z/\n")
    ops = dockerfile.stages[0].copy_ops
    assert [(op.sources, op.dest, op.cwd) for op in ops] == [(("x",), ".", "/a"), (("y",), "./z/", "/a/b")]
    assert dockerfile.stages[0].cwd == "/a/b"


# --- the project cache sees what the mapping looked at --------------------------------------------

@pytest.mark.parametrize("initial,change", [
    pytest.param({}, {"src/proj/__init__.py": APP}, id="the-module-appearing-where-copied"),
    pytest.param({"src/proj/__init__.py": APP}, {".dockerignore": "src/proj\n"}, id="a-dockerignore-appearing"),
])
def test_a_change_the_mapping_depends_on_is_a_cache_miss(cache_dir, tmp_path, monkeypatch, initial, change):
    from vantage_lint import lint

    _write(tmp_path, {"docker-compose.yml": _compose("build: .\n" + CMD),
                      "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY ./src /app\n",
                      "src/other.py": "", "proj/__init__.py": DECOY, **initial})
    monkeypatch.chdir(tmp_path)

    def codes() -> list[str]:
        return [f.code for f in lint(["."]).findings if f.code in ("VL305", "VL327")]

    before = codes()
    assert codes() == before     # answered from the cache
    _write(tmp_path, change)
    after = codes()
    assert after != before
    assert sorted(after) == sorted(f.code for f in run([tmp_path / "docker-compose.yml"], select=["VL305", "VL327"]).findings)


def test_a_long_chain_of_copy_from_stages_is_bounded(tmp_path):
    stages = ["FROM python:3.12 AS s0\nWORKDIR /app\nCOPY . .\n"]
    stages += [f"FROM python:3.12 AS s{i}\nCOPY --from=s{i - 1} /app /app\nCOPY --from=s{i - 1} /app/ /app/\n"
               for i in range(1, 400)]
    _write(tmp_path, {"docker-compose.yml": _compose("build: .\nworking_dir: /app\n" + CMD),
                      "Dockerfile": "".join(stages), "proj/__init__.py": APP})
    report = run([tmp_path / "docker-compose.yml"], select=["VL327"])
    assert [f.code for f in report.findings] == ["VL327"]
    assert "is not followed" in report.findings[0].message
