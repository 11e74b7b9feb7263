"""The Celery app's configuration read statically: every layout the locator recognises, every
form the reader follows, values it must leave unknown, positions in the .py file, and the join
with the command line in Celery's precedence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.celery.app_config import UNKNOWN, ModuleFinder, read_app
from vantage_lint.compose.project import load_project
from vantage_lint.source import Reader as _Reader
from vantage_lint.rules.celery_options import app_config, celery_view


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _view(root: Path, service: str = "worker", environ: dict[str, str] | None = None):
    project = load_project([root / "docker-compose.yml"], reader=_Reader(root), environ=environ or {})
    return celery_view(project.services[service])


def _app(root: Path, spec: str, environ: dict[str, str] | None = None, config_module: str | None = None):
    finder = ModuleFinder([root], root.resolve(), _Reader(root))
    return read_app(finder, spec, environ or {}, config_module)


def _compose(worker: str) -> str:
    return "services:\n  worker:\n" + textwrap.indent(textwrap.dedent(worker).lstrip("\n"), "    ")


APP = """
from celery import Celery
app = Celery("proj")
app.conf.task_time_limit = 300
"""


# --- item 1: layouts -----------------------------------------------------------------------------

@pytest.mark.parametrize("worker,files", [
    pytest.param("build: .\ncommand: celery -A proj worker\n", {"proj/__init__.py": "", "proj/celery.py": APP},
                 id="build-context-package-celery-module"),
    pytest.param("build: {context: ./backend}\ncommand: celery -A proj.celery:app worker\n",
                 {"backend/proj/__init__.py": "", "backend/proj/celery.py": APP}, id="build-context-mapping-module-attr"),
    pytest.param("image: myapp:1\nworking_dir: /srv/app\nvolumes: ['./src:/srv']\ncommand: celery -A tasks worker\n",
                 {"src/app/tasks.py": APP}, id="bind-mount-above-working-dir"),
    pytest.param("image: myapp:1\nvolumes: ['./code:/app']\ncommand: celery -A tasks worker\n",
                 {"code/tasks.py": APP}, id="bind-mount-without-working-dir"),
    pytest.param("image: myapp:1\nworking_dir: /\nvolumes: ['./code:/opt/code']\n"
                 "environment: {PYTHONPATH: /opt/code}\ncommand: celery -A tasks worker\n",
                 {"code/tasks.py": APP}, id="pythonpath-through-bind-mount"),
    pytest.param("build: .\nenvironment: {CELERY_APP: proj}\ncommand: celery worker\n",
                 {"proj/__init__.py": APP}, id="celery-app-variable-package-init"),
    pytest.param("build: .\ncommand: celery -A proj.celery_app worker\n",
                 {"proj/__init__.py": "from .celery import app as celery_app\n", "proj/celery.py": APP},
                 id="attribute-imported-into-the-package"),
    pytest.param("image: myapp:1\nvolumes: ['.:/app']\ncommand: celery --workdir /app/svc -A worker worker\n",
                 {"svc/worker.py": APP}, id="workdir-option"),
])
def test_layouts_find_the_app(tmp_path, worker, files):
    _write(tmp_path, {"docker-compose.yml": _compose(worker), **files})
    config = app_config(_view(tmp_path))
    assert config is not None and config.app_span is not None
    assert config.get("task_time_limit").value == 300


def test_django_settings_module_from_the_service_environment(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A proj worker\n"
                                       "environment: {DJANGO_SETTINGS_MODULE: proj.settings.prod}\n"),
        "proj/__init__.py": "from .celery import app as celery_app\n",
        "proj/celery.py": """
            import os
            from celery import Celery
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.dev")
            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
            """,
        "proj/settings/__init__.py": "",
        "proj/settings/base.py": "CELERY_TASK_TIME_LIMIT = 100\nCELERY_TASK_ACKS_LATE = True\n",
        "proj/settings/dev.py": "from .base import *\nCELERY_TASK_TIME_LIMIT = 1\n",
        "proj/settings/prod.py": "from .base import *  # noqa\nCELERY_TASK_TIME_LIMIT = 900\n",
    })
    config = app_config(_view(tmp_path))
    assert config.django_settings == "proj.settings.prod"
    assert config.get("task_time_limit").value == 900
    assert config.get("task_acks_late").value is True       # through the star import
    assert config.complete


def test_django_settings_module_from_setdefault(tmp_path):
    _write(tmp_path, {
        "proj/celery.py": """
            import os
            from celery import Celery
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
            """,
        "proj/__init__.py": "", "proj/settings.py": "CELERY_WORKER_PREFETCH_MULTIPLIER = 1\nTASK_TIME_LIMIT = 5\n",
    })
    config = _app(tmp_path, "proj")
    assert config.get("worker_prefetch_multiplier").value == 1
    assert config.get("task_time_limit") is None        # no CELERY_ prefix: not a Celery setting here


def test_module_missing_and_folder_outside_the_project(tmp_path):
    project = tmp_path / "p"
    _write(tmp_path, {"elsewhere/tasks.py": APP})
    _write(project, {"docker-compose.yml": _compose("image: x:1\nvolumes: ['../elsewhere:/app']\n"
                                                    "command: celery -A tasks worker\n")})
    view = _view(project)
    assert app_config(view) is None
    assert view.app.location.outside and not view.app.location.roots
    report = run([project / "docker-compose.yml"], select=["VL327"])
    assert [f.code for f in report.findings] == ["VL327"]
    assert "outside the project folder" in report.findings[0].message


def test_symlink_out_of_the_project_is_not_read(tmp_path):
    project = tmp_path / "p"
    _write(tmp_path, {"secret/tasks.py": APP})
    _write(project, {"docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker\n")})
    (project / "tasks.py").symlink_to(tmp_path / "secret" / "tasks.py")
    assert app_config(_view(project)) is None


# --- item 2: forms -------------------------------------------------------------------------------

@pytest.mark.parametrize("code,expected", [
    pytest.param('app = Celery("p", broker="redis://r:6379/0", task_acks_late=True)\n',
                 {"broker_url": "redis://r:6379/0", "task_acks_late": True}, id="celery-keywords"),
    pytest.param('app = Celery("p")\napp.conf.update({"task_time_limit": 30, "CELERYD_PREFETCH_MULTIPLIER": 1})\n',
                 {"task_time_limit": 30, "worker_prefetch_multiplier": 1}, id="conf-update-dict-old-name"),
    pytest.param('app = Celery("p")\napp.conf.update(task_time_limit=30, result_expires=timedelta(hours=2))\n',
                 {"task_time_limit": 30, "result_expires": 7200.0}, id="conf-update-keywords-timedelta"),
    pytest.param('app = Celery("p")\napp.conf.task_soft_time_limit = 4 * 60 + 30\napp.conf["task_acks_late"] = True\n',
                 {"task_soft_time_limit": 270, "task_acks_late": True}, id="conf-attribute-and-item"),
    pytest.param('app = Celery("p")\napp.config_from_object(Config)\n', {"task_time_limit": 60}, id="class-object"),
    pytest.param('app = Celery("p")\napp.config_from_object("p.conf:Config")\n', {"task_time_limit": 60},
                 id="module-colon-class"),
    pytest.param('from p import celeryconfig\napp = Celery("p")\napp.config_from_object(celeryconfig)\n',
                 {"task_time_limit": 99, "task_acks_late": True}, id="imported-module-object"),
    pytest.param('app = Celery("p")\napp.config_from_object("p.celeryconfig")\n',
                 {"task_time_limit": 99, "task_acks_late": True}, id="module-name"),
    pytest.param('app = Celery("p")\napp.config_from_envvar("CONF")\n', {"task_time_limit": 99}, id="config-from-envvar"),
    pytest.param('app = Celery("p")\n', {"task_time_limit": 99}, id="celery-config-module-variable"),
    pytest.param('app = Celery("p")\napp.conf.task_time_limit = int(os.environ.get("LIMIT", 10))\n',
                 {"task_time_limit": 1800}, id="environ-get-from-service-env"),
    pytest.param('app = Celery("p")\napp.conf.task_time_limit = int(os.getenv("NOT_SET", "45"))\n',
                 {"task_time_limit": 45}, id="getenv-default"),
    pytest.param('app = Celery("p")\napp.conf.task_time_limit = int(os.environ["NOT_SET"])\n',
                 {"task_time_limit": UNKNOWN}, id="environ-item-unset-unknown"),
    pytest.param('app = Celery("p")\napp.conf.task_time_limit = os.environ.get("NOT_SET")\n',
                 {"task_time_limit": UNKNOWN}, id="environ-get-no-default-unknown"),
    pytest.param('app = Celery("p")\napp.conf.broker_transport_options = {"visibility_timeout": 2 ** 13, "x": f()}\n',
                 {"broker_transport_options": {"visibility_timeout": 8192, "x": UNKNOWN}}, id="dict-with-unknown-item"),
    pytest.param('app = Celery("p")\nif DEBUG:\n    app.conf.task_time_limit = 5\n',
                 {"task_time_limit": UNKNOWN}, id="conditional-unknown"),
])
def test_forms(tmp_path, code, expected):
    _write(tmp_path, {
        "p/__init__.py": "",
        "p/conf.py": "class Config:\n    task_time_limit = 60\n",
        "p/celeryconfig.py": "task_time_limit = 99\nCELERY_ACKS_LATE = True\n",
        "p/app.py": "import os\nfrom datetime import timedelta\nfrom celery import Celery\n"
                    "class Config:\n    task_time_limit = 60\n" + code,
    })
    # CELERY_CONFIG_MODULE (or --config) is read only by an app that never calls config_from_object.
    config = _app(tmp_path, "p.app", {"LIMIT": "1800", "CONF": "p.celeryconfig"},
                  config_module="p.celeryconfig" if code.strip() == 'app = Celery("p")' else None)
    assert config is not None
    for name, value in expected.items():
        assert config.get(name) is not None, name
        assert config.get(name).value == value, name


def test_old_upper_case_names_in_a_celeryconfig(tmp_path):
    _write(tmp_path, {
        "celeryconfig.py": "BROKER_TRANSPORT_OPTIONS = {'visibility_timeout': 43200}\nCELERYD_TASK_TIME_LIMIT = 3600\n",
        "tasks.py": "from celery import Celery\napp = Celery('tasks')\napp.config_from_object('celeryconfig')\n",
    })
    config = _app(tmp_path, "tasks")
    assert config.get("broker_transport_options").value == {"visibility_timeout": 43200}
    assert config.get("task_time_limit").value == 3600


def test_changes_beat_the_config_object_and_the_last_config_from_object_wins(tmp_path):
    _write(tmp_path, {
        "a.py": "task_time_limit = 1\ntask_acks_late = True\n",
        "b.py": "task_time_limit = 2\n",
        "tasks.py": """
            from celery import Celery
            app = Celery('tasks')
            app.conf.task_time_limit = 3
            app.config_from_object('a')
            app.config_from_object('b')
            """,
    })
    config = _app(tmp_path, "tasks")
    assert config.get("task_time_limit").value == 3       # conf.X is a change: above the config object
    assert config.get("task_acks_late") is None          # module a was replaced by b
    assert config.value("task_acks_late") is False        # complete: Celery's default


@pytest.mark.parametrize("code", [
    "for name in ('task_time_limit',):\n    globals()[name] = 5\n",
    "globals().update(load())\n",
    "from .local_settings import *\n",
])
def test_what_the_reader_cannot_follow_is_unknown(tmp_path, code):
    _write(tmp_path, {
        "proj/__init__.py": "",
        "proj/settings.py": "CELERY_TASK_ACKS_LATE = True\n" + code,
        "tasks.py": "import os\nfrom celery import Celery\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
                    "app = Celery('t')\napp.config_from_object('django.conf:settings', namespace='CELERY')\n",
    })
    config = _app(tmp_path, "tasks")
    assert not config.complete
    assert config.value("task_reject_on_worker_lost") is UNKNOWN   # not the default: it may be set
    assert config.get("task_acks_late").value is True


def test_app_built_in_a_function_is_not_guessed(tmp_path):
    _write(tmp_path, {"tasks.py": "from celery import Celery\n\ndef make():\n    return Celery('t', task_acks_late=True)\n"})
    config = _app(tmp_path, "tasks")
    assert config is not None and config.app_span is None and not config.complete
    assert config.settings == {}


def test_positions_point_into_the_python_file(tmp_path):
    _write(tmp_path, {"tasks.py": "from celery import Celery\n# é comment\napp = Celery('t')\n"
                                  "app.conf.update(nom='é', task_time_limit=30)\n"})
    span = _app(tmp_path, "tasks").get("task_time_limit").span
    assert (span.line, span.column, span.end_column) == (4, 42, 44)   # characters (UTF-8 bytes would say 43)
    assert span.path.endswith("tasks.py")


def test_hostile_expressions_do_not_crash(tmp_path):
    deep = "(" * 150 + "1" + ")" * 150
    _write(tmp_path, {"tasks.py": f"from celery import Celery\napp = Celery('t')\napp.conf.task_time_limit = {deep}\n"
                                  "app.conf.task_soft_time_limit = 10 ** 10 ** 10\n"
                                  "app.conf.result_expires = 'x' * 10 ** 9\n"})
    config = _app(tmp_path, "tasks")
    assert config.get("task_soft_time_limit").value is UNKNOWN
    assert config.get("result_expires").value is UNKNOWN


def test_syntax_error_is_one_info_finding_at_its_position(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker\n") +
                              "  beat:\n    build: .\n    command: celery -A tasks beat\n",
        "tasks.py": "from celery import Celery\napp = Celery('t'\n",
    })
    report = run([tmp_path / "docker-compose.yml"], select=["VL327"])
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert finding.severity.label == "info" and finding.span.path.endswith("tasks.py")
    assert (finding.span.line, finding.span.column) == (2, 13)


# --- item 3: the join ----------------------------------------------------------------------------

def test_command_line_beats_the_app_and_the_app_beats_defaults_except_time_limits(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker --time-limit=50 --prefetch-multiplier=0\n"
                                       "environment: {CELERY_WORKER_CONCURRENCY: '3'}\n"),
        "tasks.py": "from celery import Celery\napp = Celery('t')\napp.conf.update(task_time_limit=500, "
                    "worker_concurrency=8, worker_prefetch_multiplier=1, task_soft_time_limit=40)\n",
    })
    view = _view(tmp_path)
    # Time limits are the exception: each task takes the app's task_time_limit as its own, so
    # --time-limit (the pool's default) counts only when the app sets none.
    assert view.get("time-limit").value == "500" and view.get("time-limit").source == "app"
    assert view.get("concurrency").value == "3" and view.get("concurrency").source == "env"
    # --prefetch-multiplier 0 is ignored by the command line: the app's value applies.
    assert view.get("prefetch-multiplier").value == "1" and view.get("prefetch-multiplier").source == "app"
    soft = view.get("soft-time-limit")
    assert soft.source == "app" and "tasks.py:3:" in view.show(soft)


def test_false_positives_named_in_the_issue_do_not_occur(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": "services:\n"
        "  worker:\n    build: .\n    command: celery -A proj worker -c 2 -Q default\n"
        "    environment:\n      DJANGO_SETTINGS_MODULE: proj.settings\n      CELERY_TASK_TIME_LIMIT: '600'\n"
        "      CELERY_BROKER_URL: redis://redis:6379/0\n"
        "  beat:\n    build: .\n    command: celery -A proj beat\n"
        "    environment:\n      DJANGO_SETTINGS_MODULE: proj.settings\n"
        "  worker2:\n    build: .\n    command: celery -A proj worker -c 2\n"
        "    environment:\n      DJANGO_SETTINGS_MODULE: proj.settings\n"
        "  redis:\n    image: redis:7.2\n",
        "proj/__init__.py": "from .celery import app as celery_app\n",
        "proj/celery.py": "import os\nfrom celery import Celery\napp = Celery('proj')\n"
                          "app.config_from_object('django.conf:settings', namespace='CELERY')\n",
        "proj/settings.py": """
            import os
            from kombu import Queue
            CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 300))
            CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
            CELERY_WORKER_MAX_TASKS_PER_CHILD = 100
            CELERY_TASK_QUEUES = [Queue("default")]
            CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
            """,
    })
    report = run([tmp_path / "docker-compose.yml"], select=["VL304", "VL305", "VL306", "VL312", "VL314"])
    assert [(f.code, f.service) for f in report.findings] == []


def test_settings_the_reader_cannot_see_are_not_reported_missing(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker -c 2\n"),
        "tasks.py": "from celery import Celery\nfrom .conf import load\napp = Celery('t')\napp.conf.update(**load())\n",
    })
    report = run([tmp_path / "docker-compose.yml"], select=["VL304", "VL305", "VL307", "VL308"])
    assert report.findings == []


ODD_EXPRESSIONS = [
    "not f()", "f() or 1", "f() and 1", "1 if f() else 2", "[f()] == [1]", "f() in (1,)", "-f()", "{f(): 1}",
    "{1: f()}", "bool(f())", "int([f()])", "str([f()])", "os.environ.get(f(), 1)", "timedelta(seconds=f())",
    "x.y", "lambda: 1", "[i for i in range(3)]", 'f"{x}"', "(y := 3)", "[*a]", "{**a}", "1 < f() < 3", "b'x'",
    "3j", "...", "os.environ", "int('x')", "10 ** -400", "1 / 0", "2 ** 0.5", "'%s' % 3", "None + 1",
]


@pytest.mark.parametrize("expression", ODD_EXPRESSIONS)
def test_odd_values_never_crash_a_rule(tmp_path, expression):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker\n"
                                       "deploy: {resources: {limits: {memory: 1G}}}\n"
                                       "environment: {CELERY_BROKER_URL: 'redis://redis:6379/0'}\n")
                              + "  redis:\n    image: redis:7.2\n",
        "tasks.py": "import os\nfrom datetime import timedelta\nfrom celery import Celery\napp = Celery('t')\n"
                    + "".join(f"app.conf.{name} = {expression}\n" for name in (
                        "task_acks_late", "task_reject_on_worker_lost", "task_time_limit", "task_soft_time_limit",
                        "worker_prefetch_multiplier", "result_expires", "result_backend", "task_queues",
                        "worker_cancel_long_running_tasks_on_connection_loss", "broker_connection_retry_on_startup"))
                    + f"app.conf.broker_transport_options = {{'visibility_timeout': {expression}}}\n",
    })
    report = run([tmp_path / "docker-compose.yml"], select=["VL3"])
    assert all(f.code.startswith("VL3") for f in report.findings)


def test_sarif_points_into_the_python_file(tmp_path, monkeypatch):
    import io
    import json

    from vantage_lint.report import ReportOptions, render

    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A proj worker\n"
                                       "deploy: {resources: {limits: {memory: 512M}}}\n"),
        "proj/__init__.py": "", "proj/celery.py": "from celery import Celery\napp = Celery('p')\n"
                                                  "app.conf.task_acks_late = True\n",
    })
    monkeypatch.chdir(tmp_path)
    report = run(["docker-compose.yml"], select=["VL328"])
    out = io.StringIO()
    render(report, "sarif", out, ReportOptions())
    result = json.loads(out.getvalue())["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "proj/celery.py"
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (3, 27)


def test_unrelated_absolute_mounts_are_not_taken_for_the_code(tmp_path):
    _write(tmp_path, {"docker-compose.yml": _compose(
        "image: myapp:1\nvolumes: ['/var/run/docker.sock:/var/run/docker.sock', '/etc/localtime:/etc/localtime:ro']\n"
        "command: celery -A tasks worker\n")})
    view = _view(tmp_path)
    assert view.app.location.roots == [] and view.app.location.outside == []
    assert run([tmp_path / "docker-compose.yml"], select=["VL327"]).findings == []


def test_app_that_maps_the_environment_reads_celery_variables(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker\n"
                                       "environment: {CELERY_TASK_TIME_LIMIT: '300', CELERY_TASK_SOFT_TIME_LIMIT: '200'}\n"),
        "tasks.py": "import os\nfrom celery import Celery\napp = Celery('t')\n"
                    "app.config_from_object(os.environ, namespace='CELERY')\n",
    })
    config = app_config(_view(tmp_path))
    assert config.maps_environ and config.get("task_time_limit").value == "300"   # strings, as Celery keeps them
    assert run([tmp_path / "docker-compose.yml"], select=["VL306", "VL305"]).findings == []


def test_celery_config_module_variable_from_the_service(tmp_path):
    _write(tmp_path, {
        "docker-compose.yml": _compose("build: .\ncommand: celery -A tasks worker\n"
                                       "environment: {CELERY_CONFIG_MODULE: myconfig}\n"),
        "tasks.py": "from celery import Celery\napp = Celery('t')\n",
        "myconfig.py": "worker_max_tasks_per_child = 10\n",
    })
    assert _view(tmp_path).get("max-tasks-per-child").value == "10"
