"""The Celery app's configuration joined with what the Compose file gives the ``celery`` command.

Celery's own precedence (``celery/worker/worker.py setup_defaults``: ``app.either(setting,
cli_value)``): a command-line value (a flag, or the ``CELERY_WORKER_<OPTION>`` variable click
reads for it) wins; else the app's configuration; else Celery's default. ``--prefetch-multiplier
0`` on the command line is ignored (``value or conf.worker_prefetch_multiplier``).

Time limits are the exception: every task copies ``task_time_limit``/``task_soft_time_limit``
from the app's configuration into its own ``time_limit`` (``app/task.py from_config``) and the
worker passes that per task to the pool (``worker/request.py``), so the pool's default, which
is what ``--time-limit`` sets, applies only when the app sets none. Checked with a real worker:
``--time-limit 1`` with ``task_time_limit = 30`` in the app let a 4 s task finish.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vantage_lint.celery.app_config import UNKNOWN, AppConfig, AppSetting, ModuleFinder, read_app, show_value
from vantage_lint.celery.app_locate import AppLocation, locate
from vantage_lint.celery.command import Setting

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service

# command-line option -> the app setting it overrides, per subcommand (celery 5.7 bin/worker.py,
# bin/beat.py and worker/worker.py setup_defaults).
OPTION_SETTINGS: dict[str, dict[str, str]] = {
    "worker": {
        "time-limit": "task_time_limit",
        "soft-time-limit": "task_soft_time_limit",
        "max-tasks-per-child": "worker_max_tasks_per_child",
        "max-memory-per-child": "worker_max_memory_per_child",
        "prefetch-multiplier": "worker_prefetch_multiplier",
        "concurrency": "worker_concurrency",
        "pool": "worker_pool",
        "task-events": "worker_send_task_events",
        "schedule-filename": "beat_schedule_filename",
        "scheduler": "beat_scheduler",
        "statedb": "worker_state_db",
        "disable-prefetch": "worker_disable_prefetch",
    },
    "beat": {
        "schedule": "beat_schedule_filename",
        "scheduler": "beat_scheduler",
        "max-interval": "beat_max_loop_interval",
    },
}


# Settings where the app's value, when it sets one, beats the command line (see above).
APP_WINS = frozenset({"time-limit", "soft-time-limit"})


class UnknownText(str):
    """A setting the app configures with a value the linter cannot know."""

    __slots__ = ()


@dataclass(slots=True)
class LoadedApp:
    spec: str
    location: AppLocation
    config: AppConfig | None        # None: the module is not under any import root


def setting_text(value: Any) -> str | bool | None:
    """An app value in the form command-line settings have (text, or a bool for flags)."""
    if value is UNKNOWN:
        return UnknownText("<unknown>")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    if value is None:
        return None
    return UnknownText(show_value(value))


def app_setting(option: str, app: AppSetting) -> Setting | None:
    value = setting_text(app.value)
    if value is None:
        return None
    return Setting(option, value, "app", app.written, -1, -1, -1, app.span)


def join(subcommand: str, cli: Mapping[str, Setting], config: AppConfig | None) -> dict[str, Setting]:
    """Command-line settings, with the app's configuration filling what they leave unset."""
    merged = dict(cli)
    if config is None:
        return merged
    for option, name in OPTION_SETTINGS.get(subcommand or "worker", {}).items():
        current = merged.get(option)
        ignored_zero = (option == "prefetch-multiplier" and current is not None
                        and isinstance(current.value, str) and current.value.strip() == "0")
        if current is not None and not ignored_zero and option not in APP_WINS:
            continue
        found = config.get(name)
        if found is None:
            if current is None and not config.complete:
                # The app may set it in code the reader could not follow: unknown, not unset.
                # No span when the app's module was never found (where it is is not known).
                span = config.app_span or (config.files[0].whole_span() if config.files else None)
                merged[option] = Setting(option, UnknownText(f"<{config.incomplete_why}>"), "app",
                                         f"{name} (not known)", -1, -1, -1, span)
            continue
        setting = app_setting(option, found)
        if setting is not None:
            merged[option] = setting
    return merged


def load_app(service: Service, spec: str, workdir: str | None, environ: Mapping[str, str],
             config_module: str | None) -> LoadedApp:
    """Find and read the app (cached per service)."""
    cache = service.__dict__
    key = ("_celery_app", spec, workdir)
    cached = cache.get(key)
    if cached is not None:
        return cached
    project = service.project
    location = locate(service, workdir, environ)
    config = None
    if location.roots and project.reader is not None:
        finder = ModuleFinder([r.finder_root for r in location.roots], project.directory.resolve(), project.reader)
        config = read_app(finder, spec, environ, config_module)
        for reason in finder.unfollowed:
            if reason not in location.unfollowed:
                location.unfollowed.append(reason)
        if config is not None and finder.unfollowed:
            config.mark_incomplete(f"a module is in the container where the linter cannot see: {finder.unfollowed[0]}")
        files = config.files if config is not None else finder.files
        for source in files:
            project.sources.setdefault(source.path, source)
        if config is None and finder.problems:
            config = AppConfig(module=spec, problems=list(finder.problems))
            config.mark_incomplete("the app module could not be read")
    if config is None and location.unfollowed:
        # The module may be in the container where the linter cannot see: its settings are
        # unknown, not unset.
        config = AppConfig(module=spec)
        config.mark_incomplete("the app's module is not known: " + location.unfollowed[0])
    loaded = LoadedApp(spec, location, config)
    cache[key] = loaded
    return loaded
