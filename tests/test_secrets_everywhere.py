"""No output ever shows a planted secret.

A realistic stack (Compose file, a redis.conf it mounts, an env_file and the project's .env)
holds a distinct secret in every place vantage-lint reads one: redis.conf directives and ACL
lines, URLs with passwords, both forms of ``environment``, env files, redis-server and
redis-cli flags (string and exec forms) and Celery broker options. Every output the CLI can
print (every ``--format``, colors, ``--statistics``, ``--diff``, ``--fix``, ``--output`` and
``--write-baseline``) and the library's messages and hints must show each secret only masked.

Each secret starts with its own two letters, so its masked form (``mask()`` keeps at most two
characters) tells which secret a finding talks about: the tests also check that the secrets
really reached the rules and the formatters, not only that they are absent.

A second, smaller stack holds spellings that a line alone does not reveal (a YAML block
sequence that puts the password on a line of its own, ``*_PWD`` names): quoted source lines
must mask them too, from what the whole file shows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import write
from vantage_lint import Inputs, Settings, lint
from vantage_lint.cli import FORMAT_CHOICES
from vantage_lint.report import FORMATS
from vantage_lint.secrets import mask

ROOT = Path(__file__).resolve().parent.parent

# --- the planted secrets: alphanumeric, >= 12 characters, a unique two-letter prefix each ------
CONF_REQUIREPASS = "RqConfPass91xk"    # redis.conf: requirepass
CONF_MASTERAUTH = "MaConfAuth55qz"     # redis.conf: masterauth
CONF_ACL = "AlAclUserPw77xv"           # redis.conf: user alice on >...
ENVFILE_SECRET = "EfSecretKey42kj"     # env_file: SECRET_KEY=...
ENVFILE_URL = "EuEnvFileUrl63m"        # env_file: CELERY_RESULT_BACKEND=redis://:...@
DOTENV_DB = "DbDotEnvPass18z"          # .env: DB_PASSWORD=... (used as ${DB_PASSWORD})
DOTENV_REDIS = "DrDotEnvRedis24y"      # .env: REDIS_PW=... (used as ${REDIS_PW} in a URL)
HC_EXEC = "HxHcExecPass36v"            # healthcheck ["CMD", "redis-cli", "-a", "...", "ping"]
HC_SHELL = "HsHcShellPass58t"          # healthcheck "redis-cli -a ... ping"
EXEC_REQUIREPASS = "XrExecReqPw47u"    # command ["redis-server", "--requirepass", "..."]
EXEC_MASTERAUTH = "XmExecMaster39c"    # command [..., "--masterauth", "..."]
CMD_REQUIREPASS = "CrCmdReqPass29w"    # command: redis-server --requirepass ...
MAP_REDIS_PASSWORD = "MpMapRedisPw64s"  # environment mapping: REDIS_PASSWORD: ...
MAP_REDIS_URL = "MuMapUrlPass75r"      # environment mapping: REDIS_URL: redis://:...@
WORKER_BROKER = "WbWorkerBrk86p"       # celery worker --broker=redis://:...@
BEAT_BROKER = "BbBeatBroker31d"        # celery -b redis://:...@ beat
LIST_API_TOKEN = "LtListApiTok97n"     # environment list: - API_TOKEN=...
LIST_AMQP = "AqAmqpListPw13k"          # environment list: - CELERY_BROKER_URL=amqp://guest:...@

SECRETS = {
    "redis.conf requirepass": CONF_REQUIREPASS,
    "redis.conf masterauth": CONF_MASTERAUTH,
    "redis.conf ACL >password": CONF_ACL,
    "env_file SECRET_KEY": ENVFILE_SECRET,
    "env_file URL password": ENVFILE_URL,
    ".env DB_PASSWORD": DOTENV_DB,
    ".env REDIS_PW": DOTENV_REDIS,
    "healthcheck exec-form redis-cli -a": HC_EXEC,
    "healthcheck string redis-cli -a": HC_SHELL,
    "exec-form --requirepass": EXEC_REQUIREPASS,
    "exec-form --masterauth": EXEC_MASTERAUTH,
    "string command --requirepass": CMD_REQUIREPASS,
    "environment mapping REDIS_PASSWORD": MAP_REDIS_PASSWORD,
    "environment mapping REDIS_URL": MAP_REDIS_URL,
    "celery worker --broker URL": WORKER_BROKER,
    "celery -b URL": BEAT_BROKER,
    "environment list API_TOKEN": LIST_API_TOKEN,
    "environment list amqp URL": LIST_AMQP,
}

# Secrets some finding's message talks about (masked). The others (masterauth, the ACL user's
# password, the .env values) are read but judged by no rule: they must only never show.
REPORTED = {
    CONF_REQUIREPASS, ENVFILE_SECRET, ENVFILE_URL, HC_EXEC, HC_SHELL, EXEC_REQUIREPASS, EXEC_MASTERAUTH,
    CMD_REQUIREPASS, MAP_REDIS_PASSWORD, MAP_REDIS_URL, WORKER_BROKER, BEAT_BROKER, LIST_API_TOKEN, LIST_AMQP,
}

REDIS_CONF = f"""\
# mounted by the redis service of docker-compose.yml
bind 0.0.0.0
port 6379
protected-mode yes
requirepass {CONF_REQUIREPASS}
masterauth {CONF_MASTERAUTH}
slave-read-only yes
user alice on >{CONF_ACL} ~* +@all
appendonly yes
appendfsync everysec
dir /data
maxmemory 256mb
maxmemory-policy noeviction
"""

WORKER_ENV = f"""\
# settings of the worker (env_file)
SECRET_KEY={ENVFILE_SECRET}
CELERY_RESULT_BACKEND=redis://:{ENVFILE_URL}@redis:6379/1
"""

DOTENV = f"""\
DB_PASSWORD={DOTENV_DB}
REDIS_PW={DOTENV_REDIS}
"""

COMPOSE = f"""\
services:
  redis:
    image: redis:7.2-alpine
    command: redis-server /usr/local/etc/redis/redis.conf
    volumes:
      - ./docker/redis/redis.conf:/usr/local/etc/redis/redis.conf
      - redis-data:/data
    healthcheck:
      test: ["CMD", "redis-cli", "-a", "{HC_EXEC}", "ping"]
      interval: 10s
      timeout: 5s
      retries: 5

  cache:
    image: redis:7.2-alpine
    command: ["redis-server", "--requirepass", "{EXEC_REQUIREPASS}", "--masterauth", "{EXEC_MASTERAUTH}"]
    healthcheck:
      test: redis-cli -a {HC_SHELL} ping
      interval: 10s

  sessions:
    image: redis:7.2-alpine
    command: redis-server --requirepass {CMD_REQUIREPASS} --appendonly yes

  api:
    image: vantage/api:1.4.2
    environment:
      REDIS_PASSWORD: {MAP_REDIS_PASSWORD}
      REDIS_URL: redis://:{MAP_REDIS_URL}@redis:6379/0
      DATABASE_URL: postgres://app:${{DB_PASSWORD}}@db:5432/app
      DB_PASSWORD: ${{DB_PASSWORD}}
      CACHE_URL: redis://:${{REDIS_PW}}@cache:6379/2
    depends_on:
      - redis

  worker:
    image: vantage/api:1.4.2
    command: celery -A vantage worker --broker=redis://:{WORKER_BROKER}@redis:6379/0 --loglevel=INFO
    env_file:
      - worker.env
    environment:
      - API_TOKEN={LIST_API_TOKEN}
      - CELERY_BROKER_URL=amqp://guest:{LIST_AMQP}@rabbit//
    depends_on:
      - redis
      - rabbit

  beat:
    image: vantage/api:1.4.2
    command: celery -A vantage -b redis://:{BEAT_BROKER}@redis:6379/0 beat --loglevel=INFO

  rabbit:
    image: rabbitmq:3.13-management

volumes:
  redis-data:
"""

FILES = {
    "docker-compose.yml": COMPOSE,
    "docker/redis/redis.conf": REDIS_CONF,
    "worker.env": WORKER_ENV,
    ".env": DOTENV,
}

# --- the second stack: secrets only the file's structure reveals ------------------------------
GAP_BLOCK_REQUIREPASS = "GbBlockReqPw52g"  # command block sequence: - --requirepass / - <pw>
GAP_BLOCK_HC = "GhBlockHcPw61f"            # healthcheck block sequence: - -a / - <pw>
GAP_MAP_PWD = "GmMapPwdVal73e"             # environment mapping: DB_PWD: <pw>
GAP_ENVFILE_PWD = "GePwdEnvFile43h"        # env_file: MYSQL_PWD=<pw>

GAP_SECRETS = {
    "command block sequence --requirepass": GAP_BLOCK_REQUIREPASS,
    "healthcheck block sequence redis-cli -a": GAP_BLOCK_HC,
    "environment mapping DB_PWD": GAP_MAP_PWD,
    "env_file MYSQL_PWD": GAP_ENVFILE_PWD,
}

GAP_FILES = {
    "compose.yaml": f"""\
services:
  store:
    image: redis:7.2-alpine
    command:
      - redis-server
      - --requirepass
      - {GAP_BLOCK_REQUIREPASS}
    healthcheck:
      test:
        - CMD
        - redis-cli
        - -a
        - {GAP_BLOCK_HC}
        - ping
  app:
    image: vantage/api:1.4.2
    env_file: app.env
    environment:
      DB_PWD: {GAP_MAP_PWD}
""",
    "app.env": f"MYSQL_PWD={GAP_ENVFILE_PWD}\n",
}

# --- the CLI runs ----------------------------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WINDOW = 10  # any 10 characters of a secret in a row count as a leak (also a cut-off secret)


# The secrets the unified diffs show (masked) in their context lines: the safe fixes rename
# slave-read-only next to requirepass/masterauth/the ACL line and add :ro to the mount above the
# exec-form healthcheck.
DIFF_CONTEXT = frozenset({CONF_REQUIREPASS, CONF_MASTERAUTH, CONF_ACL, HC_EXEC})


@dataclass(frozen=True)
class Variant:
    args: tuple[str, ...]
    on_copy: bool = False                  # --fix rewrites files: run it on a copy of the stack
    files: tuple[str, ...] = ()            # files the run writes (outside the stack), checked too
    shows: frozenset[str] = frozenset(REPORTED)  # secrets the output must show masked


def _format_variants() -> dict[str, Variant]:
    variants = {"text": Variant(("--format", "text", "--color", "never")),
                "text-color-statistics": Variant(("--format", "text", "--color", "always", "--statistics"))}
    for fmt in FORMAT_CHOICES.choices:
        if fmt != "text":
            variants[fmt] = Variant(("--format", fmt))
    return variants


# One process per variant, run in parallel by the fixture (a run costs about half a second).
VARIANTS: dict[str, Variant] = {
    **_format_variants(),
    # --diff prints the diff alone; the report goes to --output
    "diff": Variant(("--diff", "--color", "never"), shows=DIFF_CONTEXT),
    "diff-unsafe-output-baseline": Variant(
        ("--diff", "--unsafe-fixes", "--output", "{out}/report.txt", "--write-baseline", "{out}/baseline.json"),
        files=("report.txt", "baseline.json")),
    "fix-unsafe": Variant(("--fix", "--unsafe-fixes", "--color", "never"), on_copy=True),
}

# Only the outputs that print source lines: the other formats print messages and hints, which
# test_library_messages_and_hints_show_no_secret checks for this stack too.
GAP_VARIANTS: dict[str, Variant] = {
    "text": Variant(("--format", "text", "--color", "never")),
    "sarif": Variant(("--format", "sarif")),
    # concise: should the report ever follow the diff again, only the diff itself can leak here
    "diff-unsafe": Variant(("--diff", "--unsafe-fixes", "--format", "concise")),
}


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    written: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None

    @property
    def everything(self) -> str:
        """What a user or a CI log gets to see, colors removed (an escape code may split a word)."""
        parts = [self.stdout, self.stderr, *self.written.values()]
        return ANSI.sub("", "\n".join(parts))


def _environ(cache_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("GITHUB_ACTIONS", "VANTAGE_LINT_FORMAT", "FORCE_COLOR", "VANTAGE_LINT_NO_CACHE",
                          "DB_PASSWORD", "REDIS_PW")}
    env.setdefault("VANTAGE_LINT_CACHE_DIR", str(cache_dir))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _run_all(stack: Path, variants: dict[str, Variant], scratch: Path) -> dict[str, Run]:
    env = _environ(scratch / "cache")

    def one(name: str) -> tuple[str, Run]:
        variant = variants[name]
        folder = stack
        if variant.on_copy:
            folder = scratch / f"copy-{name}"
            shutil.copytree(stack, folder)
        out = scratch / f"out-{name}"
        out.mkdir()
        args = [arg.format(out=out) for arg in variant.args]
        # the production preset: every rule, hardening included, so each line with a secret is quoted
        done = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--preset", "production", *args, "."],
                              cwd=folder,
                              env=env, capture_output=True, text=True, timeout=120)
        written = {f: (out / f).read_text() for f in variant.files if (out / f).exists()}
        return name, Run(args, done.returncode, done.stdout, done.stderr, written, folder)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(one, variants))


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("secret-stack"), FILES)


@pytest.fixture(scope="module")
def runs(stack, tmp_path_factory) -> dict[str, Run]:
    return _run_all(stack, VARIANTS, tmp_path_factory.mktemp("secret-runs"))


@pytest.fixture(scope="module")
def gap_stack(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("secret-gap-stack"), GAP_FILES)


@pytest.fixture(scope="module")
def gap_runs(gap_stack, tmp_path_factory) -> dict[str, Run]:
    return _run_all(gap_stack, GAP_VARIANTS, tmp_path_factory.mktemp("secret-gap-runs"))


class SecretLeak(AssertionError):
    """A planted secret shows in an output."""


def assert_no_leak(run: Run, secrets: dict[str, str]) -> None:
    found = leaks(run.everything, secrets)
    if found:
        raise SecretLeak(f"{run.args}:\n" + "\n".join(found))


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """One line per secret that shows (in full or a run of WINDOW of its characters)."""
    found = []
    for where, secret in secrets.items():
        pieces = {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
        lines = [line.strip() for line in text.splitlines() if any(piece in line for piece in pieces)]
        if lines:
            found.append(f"{where} ({secret}) shows in: {lines[0]!r}" + (f" (+{len(lines) - 1} more lines)"
                                                                          if len(lines) > 1 else ""))
    return found


def masked_forms(text: str, secrets) -> set[str]:
    return {secret for secret in secrets if mask(secret) in text}


# --- the planted files are what the tests think they are ---------------------------------------
def test_every_secret_is_planted_once_and_distinct(stack):
    text = "\n".join((stack / name).read_text() for name in FILES)
    assert len(set(SECRETS.values())) == len(SECRETS)
    assert len({mask(s) for s in SECRETS.values()}) == len(SECRETS), "masked forms must tell secrets apart"
    for where, secret in SECRETS.items():
        assert len(secret) >= 12 and secret.isalnum(), where
        assert text.count(secret) == 1, where
    assert leaks(text, SECRETS), "the leak check must see the secrets in the files themselves"


def test_every_format_of_the_cli_is_covered():
    choices = set(FORMAT_CHOICES.choices)
    assert choices == set(FORMATS)
    assert {"text", "concise", "json", "sarif", "github", "gitlab", "junit"} <= choices
    assert choices <= {v.args[v.args.index("--format") + 1] for v in VARIANTS.values() if "--format" in v.args}


# --- the CLI ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(VARIANTS))
def test_cli_output_shows_no_secret(runs, name):
    run = runs[name]
    assert run.returncode in (0, 1), f"{run.args}: exit {run.returncode}\n{run.stderr}"
    assert_no_leak(run, SECRETS)
    # the run really printed what it says about the secrets, masked
    shows = VARIANTS[name].shows
    missing = shows - masked_forms(run.everything, shows)
    assert not missing, f"{run.args}: no " + ", ".join(sorted(mask(s) for s in missing))


def test_the_runs_did_what_their_flags_say(runs, stack):
    for name in ("text", "text-color-statistics", "concise", "json", "sarif", "github", "gitlab", "junit"):
        assert runs[name].stdout.strip(), name
    assert "\x1b[" in runs["text-color-statistics"].stdout
    assert "\x1b[" not in runs["text"].stdout
    assert re.search(r"^\s+\d+\s+VL410\s", ANSI.sub("", runs["text-color-statistics"].stdout), re.MULTILINE)
    for name in ("diff", "diff-unsafe-output-baseline"):
        out = runs[name].stdout
        assert "+++ b/docker-compose.yml" in out and "+++ b/docker/redis/redis.conf" in out, name
        assert "+replica-read-only yes" in out, name
        assert "Would fix" in runs[name].stderr, name
    diffed = runs["diff-unsafe-output-baseline"]
    assert "+    restart: unless-stopped" in diffed.stdout
    assert set(diffed.written) == {"report.txt", "baseline.json"}
    assert "VL410" in diffed.written["report.txt"] and "VL410" in diffed.written["baseline.json"]
    assert "Fixed" in runs["fix-unsafe"].stderr
    fixed = runs["fix-unsafe"].folder
    assert "restart: unless-stopped" in (fixed / "docker-compose.yml").read_text(), "--fix changed nothing"
    assert (stack / "docker-compose.yml").read_text() == COMPOSE, "--fix must run on the copy only"


def test_json_findings_point_into_every_planted_file(runs):
    report = json.loads(runs["json"].stdout)
    findings = report["findings"]
    by_path: dict[str, list[dict]] = {}
    for f in findings:
        by_path.setdefault(Path(f["path"]).as_posix(), []).append(f)
    assert {"docker-compose.yml", "docker/redis/redis.conf", "worker.env"} <= set(by_path)

    def about(path: str, code: str, secret: str) -> bool:
        return any(f["code"] == code and mask(secret) in f["message"] for f in by_path[path])

    assert about("docker/redis/redis.conf", "VL217", CONF_REQUIREPASS)       # weak requirepass
    assert about("worker.env", "VL410", ENVFILE_SECRET)
    assert about("worker.env", "VL410", ENVFILE_URL)
    assert about("worker.env", "VL205", ENVFILE_URL)
    assert about("docker-compose.yml", "VL206", HC_EXEC)
    assert about("docker-compose.yml", "VL204", HC_SHELL)
    assert about("docker-compose.yml", "VL206", EXEC_REQUIREPASS)
    assert about("docker-compose.yml", "VL206", EXEC_MASTERAUTH)
    assert about("docker-compose.yml", "VL217", CMD_REQUIREPASS)
    assert about("docker-compose.yml", "VL410", MAP_REDIS_PASSWORD)
    assert about("docker-compose.yml", "VL205", MAP_REDIS_URL)
    assert about("docker-compose.yml", "VL206", WORKER_BROKER)
    assert about("docker-compose.yml", "VL206", BEAT_BROKER)
    assert about("docker-compose.yml", "VL410", LIST_API_TOKEN)
    assert about("docker-compose.yml", "VL410", LIST_AMQP)
    # the redis.conf is linked to its service (VL202: its mount is writable; VL225: old name)
    assert any(f["code"] == "VL202" for f in by_path["docker-compose.yml"])
    assert any(f["code"] == "VL225" for f in by_path["docker/redis/redis.conf"])
    # .env was read: ${DB_PASSWORD} and ${REDIS_PW} are set (else VL004 reports them unset)
    assert not [f for f in findings if f["code"] == "VL004"]
    # the ACL line is shown, masked, in the excerpt of its finding
    assert f"user alice on >{mask(CONF_ACL)}" in runs["text"].stdout


# --- the library -----------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["stack", "gap_stack"])
def test_library_messages_and_hints_show_no_secret(which, request, monkeypatch):
    folder = request.getfixturevalue(which)
    secrets = SECRETS if which == "stack" else GAP_SECRETS
    monkeypatch.chdir(folder)
    report = lint([Path(".")], Settings(), inputs=Inputs(environ={}))
    texts = []
    for f in [*report.findings, *report.suppressed]:
        texts += [str(f.message), str(f.hint)]
        if f.fix is not None:
            texts.append(str(f.fix.title))
    everything = "\n".join(texts)
    assert not leaks(everything, secrets), "\n".join(leaks(everything, secrets))
    expected = REPORTED if which == "stack" else set(GAP_SECRETS.values())
    assert masked_forms(everything, expected) == expected


@pytest.mark.parametrize("name", GAP_VARIANTS)
def test_cli_output_shows_no_secret_written_on_its_own_line_or_under_a_pwd_name(gap_runs, name):
    run = gap_runs[name]
    assert run.returncode in (0, 1), f"{run.args}: exit {run.returncode}\n{run.stderr}"
    if name == "diff-unsafe":
        assert "+++ b/compose.yaml" in run.stdout
    else:  # the findings about each secret were printed, masked
        assert masked_forms(run.everything, GAP_SECRETS.values()) == set(GAP_SECRETS.values()), run.args
    assert_no_leak(run, GAP_SECRETS)


def test_prose_hints_are_not_masked():
    from vantage_lint.secrets import redact

    assert redact("retries >= 1 and interval >= 1s") == "retries >= 1 and interval >= 1s"
    assert redact("PWD=/srv/app") == "PWD=/srv/app"
    assert redact("user alice on >s3cretpass ~* +@all") == "user alice on >**** ~* +@all"
