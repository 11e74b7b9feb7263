from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vantage_lint.shell import Word, script_commands, simple_commands, split_words, words_from_parts


def texts(words: list[Word]) -> list[str]:
    return [w.text for w in words]


def raws(words: list[Word], parts: list[str]) -> list[str]:
    return [parts[w.part][w.start : w.end] for w in words]


@pytest.mark.parametrize(
    ("text", "expected", "raw"),
    [
        ("celery -A app worker", ["celery", "-A", "app", "worker"], ["celery", "-A", "app", "worker"]),
        ("  a\tb\n c ", ["a", "b", "c"], ["a", "b", "c"]),
        ("--basic-auth='u:p w'", ["--basic-auth=u:p w"], ["--basic-auth='u:p w'"]),
        ('"a b" c\\ d', ["a b", "c d"], ['"a b"', "c\\ d"]),
        ('"say \\"hi\\" \\$x \\n"', ['say "hi" $x \\n'], ['"say \\"hi\\" \\$x \\n"']),
        ("-d celery@$HOSTNAME", ["-d", "celery@$HOSTNAME"], ["-d", "celery@$HOSTNAME"]),
        ("x=$(echo a b) ${V:-a b}", ["x=$(echo a b)", "${V:-a b}"], ["x=$(echo a b)", "${V:-a b}"]),
        ("`echo a; b` c", ["`echo a; b`", "c"], ["`echo a; b`", "c"]),
        ("'unbalanced rest", ["unbalanced rest"], ["'unbalanced rest"]),
        ('"unbalanced rest', ["unbalanced rest"], ['"unbalanced rest']),
        ("a && b;c|d", ["a", "&&", "b", ";", "c", "|", "d"], ["a", "&&", "b", ";", "c", "|", "d"]),
        ("a 2>&1 >/log", ["a", "2>&", "1", ">", "/log"], ["a", "2>&", "1", ">", "/log"]),
        ("''", [""], ["''"]),
        ("trailing\\", ["trailing\\"], ["trailing\\"]),
    ],
)
def test_split_words(text, expected, raw):
    words = split_words(text, part=3)
    assert texts(words) == expected
    assert [text[w.start : w.end] for w in words] == raw
    assert {w.part for w in words} <= {3}


def test_words_from_parts_one_word_per_item():
    parts = ["sh", "-c", "celery -A app worker"]
    assert words_from_parts(parts) == [Word("sh", 0, 0, 2), Word("-c", 1, 0, 2), Word("celery -A app worker", 2, 0, 20)]


CASES = [
    # (parts, shell string?, expected simple commands)
    (["celery -A app worker"], True, [["celery", "-A", "app", "worker"]]),
    (["celery", "-A", "app", "worker"], False, [["celery", "-A", "app", "worker"]]),
    (['sh -c "celery -A app worker && echo done"'], True, [["celery", "-A", "app", "worker"], ["echo", "done"]]),
    (["sh", "-c", "cd /app\ncelery beat\n"], False, [["cd", "/app"], ["celery", "beat"]]),
    (["/bin/bash", "-lc", "exec celery worker"], False, [["celery", "worker"]]),
    (["bash", "-euxo", "pipefail", "-c", "celery worker"], False, [["celery", "worker"]]),
    (["sh", "-ec", "set -e; celery worker", "arg0"], False, [["set", "-e"], ["celery", "worker"]]),
    (["VAR=1 OTHER=2 celery worker"], True, [["celery", "worker"]]),
    (["env -i PATH=/bin C_FORCE_ROOT=1 celery worker"], True, [["celery", "worker"]]),
    (["exec gosu app tini -- dumb-init celery worker"], True, [["celery", "worker"]]),
    (["su-exec", "app", "nice", "-n", "5", "celery", "worker"], False, [["celery", "worker"]]),
    (["python -m celery -A app worker"], True, [["celery", "-A", "app", "worker"]]),
    (["python3.12", "-u", "-W", "ignore", "-m", "celery", "beat"], False, [["celery", "beat"]]),
    (["python -mcelery worker"], True, [["celery", "worker"]]),
    (["python manage.py migrate"], True, [["python", "manage.py", "migrate"]]),
    (
        ["watchmedo auto-restart --directory=./ --pattern=*.py --recursive -- celery -A app worker"],
        True,
        [["celery", "-A", "app", "worker"]],
    ),
    (["watchmedo auto-restart -d . -p '*.py' -R celery worker"], True, [["celery", "worker"]]),
    (["/wait-for-it.sh redis:6379 -- celery worker"], True, [["celery", "worker"]]),
    (["/docker-entrypoint.sh", "celery", "worker"], False, [["celery", "worker"]]),
    (["poetry run celery worker"], True, [["celery", "worker"]]),
    (["hupper --shutdown-interval 10 -m celery -A w worker"], True, [["celery", "-A", "w", "worker"]]),
    (["sh -c 'celery worker > /var/log/w.log 2>&1 &\nwait'"], True, [["celery", "worker"], ["wait"]]),
    (["sh -c 'if true; then celery worker; fi # celery beat'"], True, [["true"], ["celery", "worker"]]),
    (["sh -c \"sh -c 'celery worker'\""], True, [["celery", "worker"]]),
    (["CMD", "redis-cli", "ping"], False, [["redis-cli", "ping"]]),
    (
        ["CMD-SHELL", "redis-cli ping | grep PONG || exit 1"],
        False,
        [["redis-cli", "ping"], ["grep", "PONG"], ["exit", "1"]],
    ),
    (["sh"], False, [["sh"]]),
    (["sh", "-c"], False, []),
    (["sh", "/start.sh"], False, [["sh", "/start.sh"]]),
    (["celery", "worker", "&&", "x"], False, [["celery", "worker", "&&", "x"]]),
]


@pytest.mark.parametrize(("parts", "as_string", "expected"), CASES)
def test_simple_commands(parts, as_string, expected):
    words = split_words(parts[0]) if as_string else words_from_parts(parts)
    assert [texts(c) for c in simple_commands(words, parts)] == expected


def test_assignment_from_command_substitution_is_kept_whole():
    # The substitution's contents are not run as commands of their own.
    parts = ["sh -c 'x=$(celery inspect ping; echo) && `celery beat`'"]
    commands = simple_commands(split_words(parts[0]), parts)
    assert [texts(c) for c in commands] == [["`celery beat`"]]


def test_script_offsets_point_into_the_list_item():
    parts = ["sh", "-c", "exec celery -A app worker --loglevel=info"]
    (command,) = simple_commands(words_from_parts(parts), parts)
    assert {w.part for w in command} == {2}
    assert raws(command, parts) == texts(command)


def test_script_offsets_point_into_the_quoted_string():
    parts = ["""bash -lc 'celery -A app worker -Q "a b"'"""]
    (command,) = simple_commands(split_words(parts[0]), parts)
    assert texts(command) == ["celery", "-A", "app", "worker", "-Q", "a b"]
    assert raws(command, parts) == ["celery", "-A", "app", "worker", "-Q", '"a b"']


def test_script_with_escapes_falls_back_to_the_script_word():
    parts = ['sh -c "celery worker -n \\"w1\\""']
    (command,) = simple_commands(split_words(parts[0]), parts)
    assert texts(command) == ["celery", "worker", "-n", "w1"]
    assert {(w.start, w.end) for w in command} == {(6, len(parts[0]))}


def test_python_m_celery_points_at_the_module_word():
    parts = ["python -m celery worker", "python -mcelery beat"]
    for index, part in enumerate(parts):
        (command,) = simple_commands(split_words(part, index), parts)
        assert command[0].text == "celery"
        assert parts[index][command[0].start : command[0].end].endswith("celery")


def test_script_commands_for_healthcheck_strings():
    commands = script_commands("redis-cli -a \"$REDIS_PASSWORD\" ping | grep -q PONG", part=1)
    assert [texts(c) for c in commands] == [["redis-cli", "-a", "$REDIS_PASSWORD", "ping"], ["grep", "-q", "PONG"]]
    assert commands[0][2] == Word("$REDIS_PASSWORD", 1, 13, 30)


def test_newline_is_a_space_for_compose_but_a_separator_for_a_shell():
    text = "celery -A app worker\n--loglevel=info"
    assert [texts(c) for c in simple_commands(split_words(text), [text])] == [
        ["celery", "-A", "app", "worker", "--loglevel=info"]
    ]
    assert [texts(c) for c in script_commands(text)] == [["celery", "-A", "app", "worker"], ["--loglevel=info"]]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(list("ab -=c'\"\\$(){}`;&|<>\n#") + ["sh ", "-c ", "celery ", "exec "])).map("".join))
def test_any_text_is_split_without_error(text):
    words = split_words(text)
    for word in words:
        assert 0 <= word.start <= word.end <= len(text)
    for command in simple_commands(words, [text]) + script_commands(text):
        assert all(isinstance(w, Word) for w in command)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=20) | st.sampled_from(["sh", "-c", "bash", "-lc", "python", "-m", "env", "--"]),
                max_size=6))
def test_any_list_is_unwrapped_without_error(parts):
    simple_commands(words_from_parts(parts), parts)
