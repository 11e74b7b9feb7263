"""The Dockerfile reader (BuildKit's parsing rules), the known-images table and what they say
together about a service's user and healthcheck."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.compose.model import parse_image
from vantage_lint.images.dockerfile import expand, parse_dockerfile, tokenize
from vantage_lint.images.known import known_images, lookup


# --- tokenizer ----------------------------------------------------------------------------------
def test_continuations_drop_comment_and_blank_lines():
    text = "FROM python:3.12\nRUN apt-get update \\\n# a comment inside\n\n    && apt-get install -y curl\nUSER app\n"
    instructions, escape, problems = tokenize(text)
    assert escape == "\\" and not problems
    assert [(i.keyword, i.line) for i in instructions] == [("from", 1), ("run", 2), ("user", 6)]
    assert instructions[1].args == "apt-get update     && apt-get install -y curl"


def test_escape_directive_only_at_the_top():
    text = "# escape=`\nFROM windows\nRUN dir `\n    c:\\\nUSER app\n"
    instructions, escape, _ = tokenize(text)
    assert escape == "`"
    assert [i.keyword for i in instructions] == ["from", "run", "user"]
    late = "FROM x\n# escape=`\nRUN a `\nUSER b\n"
    instructions, escape, _ = tokenize(late)
    assert escape == "\\"
    assert [i.keyword for i in instructions] == ["from", "run", "user"]  # "`" does not continue


def test_heredoc_bodies_are_not_instructions():
    text = "FROM python:3.12\nRUN <<EOT bash\n  useradd app\nUSER app\nEOT\nCOPY <<-EOF /x\n\tUSER nobody\n\tEOF\nCMD [\"x\"]\n"
    instructions, _, problems = tokenize(text)
    assert [i.keyword for i in instructions] == ["from", "run", "copy", "cmd"]
    assert instructions[1].heredocs == ("  useradd app\nUSER app",)
    assert instructions[2].heredocs == ("USER nobody",)
    assert not problems
    herestring = tokenize('FROM x\nRUN cat <<< "x"\nUSER app\nRUN echo "1<<2"\nUSER b\n')[0]
    assert [i.keyword for i in herestring] == ["from", "run", "user", "run", "user"]
    _, _, problems = tokenize("FROM x\nRUN <<EOT\necho\n")
    assert problems == [(2, "heredoc <<EOT is never closed")]


def test_exec_form_and_shell_form():
    stage = parse_dockerfile('FROM x\nENTRYPOINT ["tini", "--"]\nCMD celery -A app worker\n').stages[0]
    assert stage.entrypoint.exec_form and stage.entrypoint.words == ("tini", "--")
    assert not stage.cmd.exec_form and stage.cmd.words == ("celery -A app worker",)
    broken = parse_dockerfile("FROM x\nCMD [\"unclosed\"\n").stages[0]
    assert not broken.cmd.exec_form  # not valid JSON: BuildKit runs it in a shell


# --- substitution -------------------------------------------------------------------------------
@pytest.mark.parametrize("word,expected", [
    ("$A", "a"), ("${A}", "a"), ('"${A}:$B"', "a:b"), ("'$A'", "$A"), ("\\$A", "$A"),
    ("${UNSET:-x}", "x"), ("${EMPTY:-x}", "x"), ("${EMPTY-x}", ""), ("${A:+set}", "set"),
    ("${UNSET:+set}", ""), ("$NOVALUE", None), ("${UNSET}", None), ("${A#x}", None),
])
def test_expand_follows_buildkit_words(word, expected):
    env = {"A": "a", "B": "b", "EMPTY": "", "NOVALUE": None}
    assert expand(word, env) == expected


def test_arg_env_scopes_and_build_args():
    text = ("ARG BASE=python:3.12-slim\nARG UID=1000\nFROM ${BASE} AS app\nUSER $UID\n"
            "FROM ${BASE}\nARG UID\nENV UID=2000\nUSER $UID\n"
            "FROM ${BASE}\nARG GID=7\nUSER 1:$GID\n")
    df = parse_dockerfile(text)
    assert [s.base for s in df.stages] == ["python:3.12-slim"] * 3
    # A global ARG is not visible in a stage until redeclared; ENV wins over ARG.
    assert [s.user for s in df.stages] == ["", "2000", "1:7"]
    assert parse_dockerfile(text, {"GID": "9"}).stages[2].user == "1:9"
    assert parse_dockerfile(text, {"BASE": "python:3.13"}).stages[0].base == "python:3.13"


def test_stages_inherit_and_target_picks_one():
    text = ("FROM python:3.12 AS base\nUSER app\nHEALTHCHECK CMD true\nENV A=1\n"
            "FROM base AS worker\nCMD [\"celery\"]\nFROM python:3.12 AS debug\n")
    df = parse_dockerfile(text)
    worker = df.stage("WORKER")
    assert worker is not None and worker.base_stage == 0 and worker.env == {"A": "1"}
    assert [s.index for s in df.chain(worker)] == [1, 0]
    assert df.stage(None).name == "debug"
    assert df.stage("missing") is None


def test_entrypoint_resets_an_inherited_cmd_only():
    df = parse_dockerfile('FROM x AS a\nCMD ["a"]\nFROM a\nENTRYPOINT ["e"]\nFROM x\nCMD ["c"]\nENTRYPOINT ["e"]\n')
    assert df.stages[1].cmd is None and df.stages[1].cmd_reset
    assert df.stages[2].cmd.words == ("c",) and not df.stages[2].cmd_reset


def test_healthcheck_none_and_cmd():
    df = parse_dockerfile("FROM x\nHEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"localhost\"]\n"
                          "FROM x\nHEALTHCHECK NONE\n")
    assert df.stages[0].healthcheck == "cmd" and df.stages[0].healthcheck_command.words == ("curl", "-f", "localhost")
    assert df.stages[1].healthcheck == "none"


@pytest.mark.parametrize("text", ["", "\x00\x01", "USER root\n", "FROM\n", "FROM x AS\nUSER ${\n",
                                  "FROM x\nRUN \\", "FROM ${A:-${B:-c}}\n" * 3, "#\n" * 50,
                                  "FROM x\nUSER " + "${A:-" * 5000 + "}" * 5000 + "\n"])
def test_odd_dockerfiles_never_raise(text):
    parse_dockerfile(text)


# --- the table ----------------------------------------------------------------------------------
def test_every_known_image_names_its_source():
    data = json.loads(resources.files("vantage_lint").joinpath("data/images.json").read_text())
    for entry in data["images"]:
        source = entry["source"]
        assert "/" in source["repo"] and len(source["commit"]) == 40 and source["files"], entry["match"]
        assert entry["user"]["kind"] in ("user", "drops", "root")
        if entry["user"]["kind"] == "drops":
            assert entry["user"].get("when") or entry["user"].get("when-prefix")
    assert len(known_images()) == len(data["images"])


@pytest.mark.parametrize("raw,repo", [
    ("redis:7.2", "docker-library/redis"), ("docker.io/library/postgres:16", "docker-library/postgres"),
    ("bitnami/redis:7.4", "bitnami/containers"), ("docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
                                                  "elastic/dockerfiles"),
    ("valkey/valkey:8.1", "valkey-io/valkey-container"), ("index.docker.io/grafana/grafana", "grafana/grafana"),
])
def test_lookup_by_any_spelling(raw, repo):
    entry = lookup(parse_image(raw))
    assert entry is not None and entry.source.startswith(repo)


@pytest.mark.parametrize("raw", ["registry.example.com/redis:7", "myorg/postgres:16", "${IMAGE}", "redisinsight"])
def test_lookup_does_not_guess(raw):
    assert lookup(parse_image(raw)) is None


def test_entrypoint_drop_conditions():
    redis = lookup(parse_image("redis"))
    assert redis.drops_for(None) and redis.drops_for("redis-server") and redis.drops_for("/etc/redis.conf")
    assert redis.drops_for("--appendonly") and not redis.drops_for("sh") and not redis.drops_for("/usr/bin/redis-server")
    rabbit = lookup(parse_image("rabbitmq:4.1-management"))
    assert rabbit.drops_for("rabbitmq-server") and rabbit.drops_for("rabbitmq-plugins") and not rabbit.drops_for("bash")


# --- reading through the project ----------------------------------------------------------------
def test_dockerfile_is_read_once_through_the_project_and_listed(lint_dir, monkeypatch):
    folder = lint_dir({"compose.yaml": "services:\n  api:\n    build: ./api\n  worker:\n    build: ./api\n",
                       "api/Dockerfile": "FROM python:3.12-slim\nUSER 1000\n"})
    monkeypatch.chdir(folder)
    report = run(["."], select=["VL101", "VL117"])
    assert not report.findings
    assert "api/Dockerfile" in report.files


def test_dockerfile_outside_the_project_is_never_opened(lint_dir, monkeypatch):
    folder = lint_dir({"deploy/compose.yaml": "services:\n  api:\n    build:\n      context: ..\n",
                       "Dockerfile": "FROM python:3.12-slim\nUSER 1000\n"})
    monkeypatch.chdir(folder / "deploy")
    report = run(["."], select=["VL101", "VL117"])
    (finding,) = report.findings
    assert finding.code == "VL117" and "outside the project folder" in finding.message
    assert not any(name.endswith("Dockerfile") for name in report.files)


@pytest.mark.parametrize("files,reason", [
    ({"compose.yaml": "services:\n  api:\n    build: ./missing\n"}, "cannot be read"),
    ({"compose.yaml": "services:\n  api:\n    build: .\n", "Dockerfile": "\xff\xfe"}, "cannot be read"),
    ({"compose.yaml": "services:\n  api:\n    build: https://github.com/x/y.git\n"}, "not a local folder"),
    ({"compose.yaml": "services:\n  api:\n    build:\n      context: .\n      dockerfile: x.Dockerfile\n",
      "x.Dockerfile": "RUN true\n"}, "has no FROM"),
])
def test_unreadable_builds_say_why_at_info(lint_dir, monkeypatch, files, reason):
    folder = lint_dir(files)
    if "Dockerfile" in files and files["Dockerfile"] == "\xff\xfe":
        (folder / "Dockerfile").write_bytes(b"FROM x\n\xff\xfe\x00")
    monkeypatch.chdir(folder)
    report = run(["."], select=["VL101", "VL117", "VL104", "VL118"])
    assert sorted(f.code for f in report.findings) == ["VL117", "VL118"]
    assert all(reason in f.message for f in report.findings)


def test_user_from_build_args_resolved_with_the_environment(lint_dir, monkeypatch):
    files = {"compose.yaml": "services:\n  api:\n    build:\n      context: .\n      args:\n"
                             "        - APP_UID=${HOST_UID}\n",
             "Dockerfile": "FROM python:3.12-slim\nARG APP_UID=0\nUSER ${APP_UID}\n"}
    folder = lint_dir(files)
    monkeypatch.chdir(folder)
    # HOST_UID unset here: its value at build time is not known, so neither is the USER.
    report = run(["."], select=["VL101", "VL117"])
    assert [f.code for f in report.findings] == ["VL117"]
    assert "sets USER ${APP_UID}, whose value is not known here" in report.findings[0].message
    (folder / ".env").write_text("HOST_UID=1000\n")
    assert not run(["."], select=["VL101", "VL117"]).findings
    (folder / ".env").write_text("HOST_UID=0\n")
    (finding,) = run(["."], select=["VL101", "VL117"]).findings
    assert finding.code == "VL101" and "Dockerfile:3 sets USER 0" in finding.message


def test_root_message_names_the_dockerfile_line(lint_dir, monkeypatch):
    folder = lint_dir({"compose.yaml": "services:\n  api:\n    build: .\n",
                       "Dockerfile": "FROM python:3.12-slim AS base\nUSER app\nFROM base\nUSER root\n"})
    monkeypatch.chdir(folder)
    (finding,) = run(["."], select=["VL101"]).findings
    assert finding.message == 'service "api" sets no user: and Dockerfile:4 sets USER root, so it runs as root'
    assert Path(finding.span.path).name == "compose.yaml"
