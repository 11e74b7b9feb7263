from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from vantage_lint.celery.command import (
    CeleryInvocation,
    Setting,
    effective_settings,
    env_settings,
    env_suggestion,
    find_celery,
    find_celery_in_script,
)
from vantage_lint.celery.options import global_option, option_for, suggest


def command_of(yaml_text: str) -> tuple[list[str], bool]:
    """The ``command`` of a one-service compose snippet, as the model hands it over."""
    value = YAML(typ="safe").load(yaml_text)["command"]
    return ([value], True) if isinstance(value, str) else (value, False)


def parse(yaml_text: str) -> tuple[CeleryInvocation, list[str]]:
    parts, as_string = command_of(yaml_text)
    invocation = find_celery(parts, shell_string=as_string)
    assert invocation is not None
    return invocation, parts


def located(invocation: CeleryInvocation, parts: list[str]) -> dict[str, str]:
    """Each setting's value and the text its offsets point at."""
    return {name: parts[s.part][s.start : s.end] for name, s in invocation.settings.items()}


FORMS = [
    # (compose YAML, subcommand, command, {option: value}, {option: text the offsets point at})
    (
        "command: celery -A app worker --concurrency=4 -l info",
        "worker", None,
        {"app": "app", "concurrency": "4", "loglevel": "info"},
        {"app": "-A app", "concurrency": "--concurrency=4", "loglevel": "-l info"},
    ),
    (
        'command: ["celery", "-A", "app", "worker", "--concurrency", "4", "-Ofair", "-c4"]',
        "worker", None,
        {"app": "app", "concurrency": "4", "optimization": "fair"},
        {"app": "-A", "concurrency": "-c4", "optimization": "-Ofair"},
    ),
    (
        "command: >\n  celery -A app worker\n  --max-tasks-per-child=100\n  -Q high,low\n",
        "worker", None,
        {"app": "app", "max-tasks-per-child": "100", "queues": "high,low"},
        {"max-tasks-per-child": "--max-tasks-per-child=100", "queues": "-Q high,low"},
    ),
    (
        "command:\n  - sh\n  - -c\n  - |\n    python manage.py migrate\n    exec celery -A app worker -B -lINFO\n",
        "worker", None,
        {"app": "app", "beat": True, "loglevel": "INFO"},
        {"beat": "-B", "loglevel": "-lINFO"},
    ),
    (
        "command: sh -c \"celery -A app worker --time-limit=300 --soft-time-limit 240\"",
        "worker", None,
        {"time-limit": "300", "soft-time-limit": "240"},
        {"time-limit": "--time-limit=300", "soft-time-limit": "--soft-time-limit 240"},
    ),
    (
        "command: bash -lc 'cd /srv && exec celery --app=app.celery worker -E'",
        "worker", None,
        {"app": "app.celery", "task-events": True},
        {"app": "--app=app.celery", "task-events": "-E"},
    ),
    (
        "command: VAR=1 OTHER=x celery -b redis://redis:6379/0 worker -P solo",
        "worker", None,
        {"broker": "redis://redis:6379/0", "pool": "solo"},
        {"broker": "-b redis://redis:6379/0", "pool": "-P solo"},
    ),
    (
        'command: ["python", "-m", "celery", "-A", "proj", "worker", "--without-gossip", "--without-mingle"]',
        "worker", None,
        {"app": "proj", "without-gossip": True, "without-mingle": True},
        {"without-gossip": "--without-gossip"},
    ),
    (
        "command: celery -A app inspect ping -d celery@$HOSTNAME -t 5",
        "inspect", "ping",
        {"app": "app", "destination": "celery@$HOSTNAME", "timeout": "5"},
        {"destination": "-d celery@$HOSTNAME", "timeout": "-t 5"},
    ),
    (
        "command: celery -A app beat -s /data/celerybeat-schedule --loglevel=INFO",
        "beat", None,
        {"schedule": "/data/celerybeat-schedule", "loglevel": "INFO"},
        {"schedule": "-s /data/celerybeat-schedule"},
    ),
    (
        "command: celery -A app beat -S django_celery_beat.schedulers:DatabaseScheduler",
        "beat", None,
        {"scheduler": "django_celery_beat.schedulers:DatabaseScheduler"},
        {"scheduler": "-S django_celery_beat.schedulers:DatabaseScheduler"},
    ),
    (
        "command: celery -A app flower --basic-auth=admin:secret --port=5555 --persistent",
        "flower", None,
        {"app": "app", "basic-auth": "admin:secret", "port": "5555", "persistent": True},
        {"basic-auth": "--basic-auth=admin:secret", "port": "--port=5555"},
    ),
    (
        "command: celery --broker=redis://r:6379/0 flower --basic_auth=u:p,v:q --basic-auth=w:x",
        "flower", None,
        {"broker": "redis://r:6379/0", "basic-auth": "w:x"},      # tornado: the last one wins
        {"basic-auth": "--basic-auth=w:x"},
    ),
    (
        "command: celery -A app worker -BE --autoscale=10,3 -- -Q ignored",
        "worker", None,
        {"beat": True, "task-events": True, "autoscale": "10,3"},
        {"beat": "-BE", "task-events": "-BE"},
    ),
    (
        "command: celery -A app beat --no-enable-remote-control",
        "beat", None,
        {"remote-control": False},
        {},
    ),
    (
        "command: celery -A app control shutdown",
        "control", "shutdown", {"app": "app"}, {},
    ),
    (
        "command: /usr/local/bin/celery -A app multi start w1 -c 3",
        "multi", "start", {"app": "app"}, {},
    ),
]


@pytest.mark.parametrize(("yaml_text", "subcommand", "command", "values", "spans"), FORMS)
def test_command_forms(yaml_text, subcommand, command, values, spans):
    invocation, parts = parse(yaml_text)
    assert invocation.subcommand == subcommand
    assert invocation.command == command
    assert {k: invocation.settings[k].value for k in values} == values
    assert all(s.source == "flag" for s in invocation.settings.values())
    assert {k: v for k, v in located(invocation, parts).items() if k in spans} == spans
    assert invocation.problems == []
    celery = invocation.celery_word
    assert parts[celery.part][celery.start : celery.end].endswith("celery")


def test_embedded_beat():
    assert parse("command: celery -A app worker -B")[0].embedded_beat
    assert parse("command: celery -A app worker --beat")[0].embedded_beat
    assert not parse("command: celery -A app worker")[0].embedded_beat
    assert not parse("command: celery -A app beat")[0].embedded_beat


def test_written_keeps_the_spelling():
    invocation, _ = parse("command: celery -A app worker -c4 --prefetch-multiplier 1")
    assert invocation.settings["concurrency"].written == "-c4"
    assert invocation.settings["prefetch-multiplier"].written == "--prefetch-multiplier 1"


def test_last_occurrence_wins():
    invocation, _ = parse("command: celery -A app worker -Q a,b -c 2 --queues c")
    assert invocation.settings["queues"].value == "c"
    assert invocation.settings["queues"].written == "--queues c"


def test_entrypoint_and_command_parts():
    parts = ["/entrypoint.sh", "celery", "-A", "app", "worker", "-c", "2"]
    invocation = find_celery(parts, shell_string=False)
    # option and value are two list items: the span is the option's item
    assert invocation is not None and invocation.settings["concurrency"] == Setting(
        "concurrency", "2", "flag", "-c 2", 5, 0, 2
    )
    # entrypoint written as a list, command as a string: the flag per part says which to split
    parts = ["tini", "--", "celery -A app beat -s /data/s"]
    invocation = find_celery(parts, shell_string=[False, False, True])
    assert invocation is not None and invocation.settings["schedule"].value == "/data/s"
    s = invocation.settings["schedule"]
    assert parts[s.part][s.start : s.end] == "-s /data/s"


def test_no_celery():
    assert find_celery(["redis-server", "/etc/redis.conf"], shell_string=False) is None
    assert find_celery(["sh -c 'echo celery worker'"], shell_string=True) is None
    assert find_celery([], shell_string=False) is None


PROBLEMS = [
    # (command, kind, written, suggestion)
    ("celery -A app worker --concurency=4", "unknown", "--concurency=4", "--concurrency"),
    ("celery -A app worker --max-task-per-child 10", "unknown", "--max-task-per-child", "--max-tasks-per-child"),
    ("celery -A app worker --prefetch 1", "unknown", "--prefetch", "--prefetch-multiplier"),
    ("celery -A app worker -concurrency=2", "unknown", "-concurrency=2", "--concurrency"),
    ("celery -A app worker -Z", "unknown", "-Z", None),
    ("celery worker -A app", "global-after-subcommand", "-A", None),
    ("celery worker --app=app -l info", "global-after-subcommand", "--app=app", None),
    ("celery -A app worker -b redis://r", "global-after-subcommand", "-b", None),
    ("celery -A app flower -A x", "global-after-subcommand", "-A", None),
    ("celery -l info -A app worker", "unknown", "-l", None),
    ("celery -A app worker -c", "missing-value", "-c", None),
    ("celery -A app flower --basic-auth u:p", "missing-value", "--basic-auth", None),
    ("celery -A app worker -O fiar", "bad-choice", "-O fiar", "fair"),
    ("celery -A app worker --pool=prefrok", "bad-choice", "--pool=prefrok", "prefork"),
    ("celery -A app worker --prefetch-multiplier=x", "bad-value", "--prefetch-multiplier=x", None),
    ("celery -A app worker --without-gossip=1", "takes-no-value", "--without-gossip=1", None),
    ("celery -A app wroker", "unknown-subcommand", "wroker", "worker"),
    ("celery -A app inspect pong", "unknown-command", "pong", "ping"),
    ("celery -A app flower --basic-auht=u:p", "unknown", "--basic-auht=u:p", "--basic-auth"),
]


@pytest.mark.parametrize(("text", "kind", "written", "suggestion"), PROBLEMS)
def test_problems(text, kind, written, suggestion):
    invocation = find_celery([text], shell_string=True)
    assert invocation is not None
    assert [(p.kind, p.written, p.suggestion) for p in invocation.problems] == [(kind, written, suggestion)]
    problem = invocation.problems[0]
    assert text[problem.start : problem.end] == written
    assert problem.message


def test_global_after_subcommand_message_and_no_setting():
    invocation = find_celery(["celery worker -A app -c 2"], shell_string=True)
    assert invocation is not None
    assert "must precede the subcommand" in invocation.problems[0].message
    assert "app" not in invocation.settings          # celery exits: the app is never set
    assert invocation.settings["concurrency"].value == "2"
    assert invocation.arguments == []                # "app" was -A's value, not an argument


def test_variables_are_kept_and_not_validated():
    invocation = find_celery(["celery -A app worker -l $LOG_LEVEL -c ${CONCURRENCY:-2}"], shell_string=True)
    assert invocation is not None and invocation.problems == []
    assert invocation.settings["loglevel"].value == "$LOG_LEVEL"
    assert invocation.settings["concurrency"].value == "${CONCURRENCY:-2}"


def test_healthcheck_forms():
    test = ["CMD", "celery", "-A", "app", "inspect", "ping", "-d", "celery@$HOSTNAME"]
    invocation = find_celery(test, shell_string=False)
    assert invocation is not None and invocation.command == "ping"
    assert invocation.settings["destination"].value == "celery@$HOSTNAME"
    test = ["CMD-SHELL", "celery -A app inspect ping -d celery@$HOSTNAME || exit 1"]
    invocation = find_celery(test, shell_string=False)
    assert invocation is not None and invocation.settings["destination"].part == 1
    invocation = find_celery_in_script("celery -A app status -t 3 | grep -q OK", part=0)
    assert invocation is not None and invocation.subcommand == "status"
    assert invocation.settings["timeout"].value == "3"


def test_env_settings_reads_what_the_cli_reads():
    env = {
        "CELERY_WORKER_CONCURRENCY": "3",
        "CELERY_WORKER_WITHOUT_GOSSIP": "yes",
        "CELERY_WORKER_TIME_LIMIT": "",          # empty = unset for click
        "APP": "first",
        "CELERY_APP": "second",
        "CELERY_BROKER_URL": "redis://redis:6379/0",
        "CELERY_TASK_TIME_LIMIT": "300",
        "CELERY_WORKER_PREFETCH": "1",
        "CELERY_WORKER_REVOKES_MAX": "100",       # read by the worker library itself
        "CELERY_BEAT_SCHEDULE": "/data/s",        # read by `celery beat`, harmless here
        "FLOWER_BASIC_AUTH": "u:p",
        "PATH": "/bin",
    }
    found, unread = env_settings("worker", env)
    assert {k: (s.value, s.written) for k, s in found.items()} == {
        "concurrency": ("3", "CELERY_WORKER_CONCURRENCY"),
        "without-gossip": (True, "CELERY_WORKER_WITHOUT_GOSSIP"),
        "app": ("first", "APP"),
        "broker": ("redis://redis:6379/0", "CELERY_BROKER_URL"),
    }
    assert all((s.source, s.part, s.start, s.end) == ("env", -1, -1, -1) for s in found.values())
    assert unread == ["CELERY_TASK_TIME_LIMIT", "CELERY_WORKER_PREFETCH"]
    assert env_suggestion("CELERY_TASK_TIME_LIMIT") == "CELERY_WORKER_TIME_LIMIT"
    assert env_suggestion("CELERY_TASK_SOFT_TIME_LIMIT") == "CELERY_WORKER_SOFT_TIME_LIMIT"
    assert env_suggestion("CELERY_WORKER_PREFETCH") == "CELERY_WORKER_PREFETCH_MULTIPLIER"
    assert env_suggestion("CELERY_TIMEZONE") is None


def test_env_settings_for_beat_and_flower():
    found, _ = env_settings("beat", {"CELERY_BEAT_SCHEDULER": "x:Y", "CELERY_BEAT_REMOTE_CONTROL": "0"})
    assert found["scheduler"].value == "x:Y" and found["remote-control"].value is False
    found, unread = env_settings("flower", {"FLOWER_BASIC_AUTH": "u:p", "FLOWER_PORT": "5556", "BROKER_URL": "r"})
    assert found["basic-auth"].value == "u:p" and found["port"].value == "5556"
    assert found["broker"].written == "BROKER_URL" and unread == []


def test_flags_beat_env():
    invocation = find_celery(["celery -A app worker -c 8"], shell_string=True)
    env, _ = env_settings("worker", {"CELERY_WORKER_CONCURRENCY": "2", "CELERY_WORKER_QUEUES": "a"})
    merged = effective_settings(invocation, env)
    assert merged["concurrency"].value == "8" and merged["concurrency"].source == "flag"
    assert merged["queues"] == Setting("queues", "a", "env", "CELERY_WORKER_QUEUES", -1, -1, -1)
    assert effective_settings(None, env) == env


def test_option_lookups():
    assert option_for("worker", "-c").name == "concurrency"
    assert option_for("beat", "-S").name == "scheduler"
    assert option_for("worker", "-S").name == "statedb"       # same letter, other meaning
    assert option_for("events", "-d").name == "detach"        # declared twice: the last wins
    assert option_for("flower", "--basic_auth").name == "basic-auth"
    assert option_for("worker", "-A") is None
    assert global_option("-A").envvars == ("APP", "CELERY_APP")
    assert suggest("worker", "--concurency") == "--concurrency"
    assert suggest("worker", "-x") is None


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([
    "celery", "-A", "app", "worker", "beat", "flower", "inspect", "ping", "-c", "-c4", "--concurrency=",
    "-Ofair", "-O", "--", "-B", "-BE", "--basic-auth", "--port=x", "-d", "$X", "sh", "-c", "python", "-m",
    "--no-enable-remote-control", "-concurrency", "=", "-", "'", '"', "&&", "multi", "amqp", "--app=x",
]), max_size=10), st.booleans())
def test_any_command_parses_without_error(words, as_string):
    parts = [" ".join(words)] if as_string else words
    invocation = find_celery(parts, shell_string=as_string)
    if invocation is not None:
        for s in invocation.settings.values():
            assert 0 <= s.start <= s.end <= len(parts[s.part])


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.lists(st.text(max_size=10), max_size=4))
def test_any_text_or_list_parses_without_error(text, items):
    find_celery(["celery " + text], shell_string=True)
    find_celery(["celery", *items], shell_string=False)
    find_celery([text, *items], shell_string=True)
