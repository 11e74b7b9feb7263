"""Issue 13, secrets: the spellings the masker once missed, each in every output.

A stack plants one secret per spelling (URL query passwords, values with blanks, quotes, ``#``,
``,``, ``]`` or ``@``, ``redis-cli AUTH``, ``ACL SETUSER ... >pw``, a quoted ``'>pw'``, a 3-character
password on a block-list line of its own, a mistyped ``requirepasss``, an unterminated quote in
``.env``, a password variable reused in another flag, custom policies printing ``{value}`` and
``{error}``). Every format, ``--diff``, ``--output`` and ``--write-baseline`` must show none of them,
nor any 4-character run of one. Then: fingerprints and spans tell nothing of a secret, masking is
linear, and control characters or workflow-command prefixes never reach a human format raw.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_secrets_everywhere import ANSI, ROOT, _environ, leaks
from vantage_lint.secrets import MASK, mask, redact, redact_source_line

QUERY_PW = "QpQueryPass61k"       # redis://redis:6379/0?password=...
QUERY_PASS = "QsQueryShort73j"    # ...?pass=...
BLANK_PW = "Bk blank pass 1"      # requirepass "..." in redis.conf
SPECIAL_PW = "Sp#x'y,z]w@Q9"      # URL password with # ' , ] @ (percent-free): redis://:...@redis
AT_URL_PW = "At@tail@Pw88"        # redis://:At@tail@Pw88@redis:6379
AUTH_PW = "AuRedisCliAuth5"       # healthcheck: redis-cli AUTH ... ping (string form)
SETUSER_PW = "SuSetUserPw42q"     # redis-cli ACL SETUSER bob on >...
QUOTED_ACL = "QaQuotedAcl19w"     # command: [..., "'>...'"] in a shell string
TYPO_PW = "TyTypoPass27e"         # redis.conf: requirepasss ... (VL005 quotes the line)
UNTERMINATED = "UnQuoteOpen33r"   # .env: REDIS_PW='... (no closing quote)
REUSED = "RuReusedVar55t"         # .env MAXMEM_TOKEN=..., used as --maxmemory ${MAXMEM_TOKEN}
POLICY_VALUE = "PvPolicyVal81u"   # environment CELERY_PASSWORD, policy message {value}
POLICY_ERROR = "PePolicyErr92i"   # environment API_TOKEN, policy message {error} of not/required
SHORT = "x9q"                     # - --requirepass / - x9q, a block list

SECRETS = {name: value for name, value in globals().items()
           if name.isupper() and isinstance(value, str) and name not in ("SHORT", "ROOT")}

COMPOSE = f"""\
services:
  redis:
    image: redis:7.2
    command: ["redis-server", "/usr/local/etc/redis/redis.conf", "--maxmemory", "${{MAXMEM_TOKEN}}"]
    volumes:
      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro
    healthcheck:
      test: "redis-cli AUTH {AUTH_PW} ping && redis-cli ACL SETUSER bob on >{SETUSER_PW}"
  cache:
    image: redis:7.2
    command: sh -c "redis-server --user 'alice on '>{QUOTED_ACL}' ~* +@all'"
  side:
    image: redis:7.2
    command:
      - redis-server
      - --requirepass
      - {SHORT}
  worker:
    image: app:1.0
    command: celery -A app worker
    environment:
      CELERY_BROKER_URL: "redis://redis:6379/0?password={QUERY_PW}"
      CELERY_RESULT_BACKEND: "redis://redis:6379/1?pass={QUERY_PASS}"
      CELERY_PASSWORD: "{POLICY_VALUE}"
      API_TOKEN: "{POLICY_ERROR}"
      REDIS_URL: "redis://:{SPECIAL_PW}@redis:6379/2"
      CACHE_URL: "redis://:{AT_URL_PW}@redis:6379/3"
"""

REDIS_CONF = f"""\
requirepass "{BLANK_PW}"
requirepasss {TYPO_PW}
maxmemory-policy noeviction
"""

DOTENV = f"REDIS_PW='{UNTERMINATED}\nMAXMEM_TOKEN={REUSED}\n"

CONFIG = """\
policies:
  - id: XSEC001
    message: "{path} is {value}: write a variable"
    schema:
      properties:
        environment:
          properties:
            CELERY_PASSWORD: {pattern: "^\\\\$"}
  - id: XSEC002
    message: "no API_TOKEN in the service: {error}"
    schema:
      properties:
        environment:
          not: {required: [API_TOKEN]}
"""

FILES = {"compose.yaml": COMPOSE, "redis.conf": REDIS_CONF, ".env": DOTENV, ".vantage-lint.yaml": CONFIG}
FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit")
RUNS = {**{fmt: ("--format", fmt) for fmt in FORMATS},
        "text-statistics": ("--format", "text", "--statistics", "--color", "always"),
        "diff": ("--diff", "--unsafe-fixes"),
        "diff-output-baseline": ("--diff", "--unsafe-fixes", "--output", "{out}/report.txt",
                                 "--write-baseline", "{out}/baseline.json")}


def _lint(folder: Path, args: tuple[str, ...], out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "vantage_lint", *[a.format(out=out) for a in args], "."],
                          cwd=folder, env=_environ(out / "cache"), capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    written = [p.read_text() for p in out.glob("*.*") if p.is_file()]
    return ANSI.sub("", "\n".join([done.stdout, done.stderr, *written]))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("secrets-stack")
    for name, text in FILES.items():
        (folder / name).write_text(text)
    scratch = tmp_path_factory.mktemp("secrets-out")
    with ThreadPoolExecutor(max_workers=2) as pool:
        texts = pool.map(lambda item: (item[0], _lint(folder, item[1], scratch / item[0])), RUNS.items())
    return dict(texts)


@pytest.mark.parametrize("name", list(RUNS))
def test_no_output_shows_a_secret(outputs, name):
    found = leaks(outputs[name], SECRETS)
    assert not found, "\n".join(found)
    assert f"- {SHORT}" not in outputs[name] and f"--requirepass {SHORT}" not in outputs[name]


def test_the_runs_reported_the_planted_spellings(outputs):
    text = outputs["json"]
    codes = {f["code"] for f in json.loads(text[: text.rindex("}") + 1])["findings"]}
    assert {"XSEC001", "XSEC002", "VL005"} <= codes
    assert "is ****: write" in outputs["concise"] or "is Pv****: write" in outputs["concise"]
    assert "---" in outputs["diff"] or outputs["diff"].strip() == ""


# --- every spelling the masker knows, with any printable secret --------------------------------
SPELLINGS = {
    "requirepass {}": " \t\n",
    'requirepass "{}"': '"\n',
    "masterauth {}": " \t\n",
    "requirepasss {}": " \t\n",
    "sentinel auth-pass mymaster {}": " \t\n",
    'command: ["redis-server", "--requirepass", "{}"]': '"\n',
    "redis-cli -a {} ping": " \t\n",
    "redis-cli --pass {} ping": " \t\n",
    "redis-cli AUTH {}": " \t\n",
    "redis-cli ACL SETUSER bob on >{} ~*": " \t\n",
    "user alice on >{} ~* +@all": " \t\n",
    "redis-server --user 'alice on '>{}' ~*'": "'\n",
    "redis://:{}@redis:6379/0": "/?#<>\"'` \t\r\n",
    "redis://user:{}@redis:6379/0": "/?#<>\"'` \t\r\n",
    "redis://redis:6379/0?password={}": "@&#;\"'` \t\r\n",
    "redis://redis:6379/0?pass={}&db=1": "@&#;\"'` \t\r\n",
    "REDIS_PASSWORD={}": " \t\n",
    "REDIS_PASSWORD='{}'": "'\n",
    "REDIS_PASSWORD='{}": "'\n",
    "{{'API_TOKEN': '{}'}}": "'\n",
    "SECRET_KEY: {}": " \t\n",
}


def _runs(secret: str) -> set[str]:
    return {secret[i : i + 4] for i in range(len(secret) - 3)} if len(secret) >= 4 else set()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(spelling=st.sampled_from(sorted(SPELLINGS)),
       secret=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(" \t#@,]"),
                      min_size=1, max_size=40))
def test_fuzz_masker_hides_every_secret(spelling, secret):
    secret = "".join(c for c in secret if c not in SPELLINGS[spelling]).strip() or "k"
    if secret.startswith("$") or secret.endswith("****"):
        secret = "k" + secret.lstrip("$").rstrip("*") + "k"
    line = spelling.format(secret)
    template = spelling.replace("{{", "{").replace("}}", "}")
    outer = template.replace("{}", "\x00")
    # the secret's place holds the mask, the rest of the line is the spelling's own text
    masked = redact(line)
    for run in _runs(secret):
        assert run not in masked or run in outer, (line, masked)
    assert MASK in masked, (line, masked)
    # a line quoted from a file may mask more (a short value wherever it stands as a word)
    shown = redact_source_line(line, ".env", line)
    for run in _runs(secret):
        assert run not in shown or run in outer, (line, shown)
    assert len(secret) >= 4 or mask(secret) in shown


# --- fingerprints, spans, time ------------------------------------------------------------------
def _json(folder: Path, files: dict[str, str]) -> list[dict]:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    out = _lint(folder, ("--isolated", "--format", "json"), folder / "out")
    return json.loads(out[: out.rindex("}") + 1])["findings"]


def test_fingerprints_and_spans_do_not_depend_on_the_secret(tmp_path):
    """Two secrets with the same first letters: same fingerprints (a dictionary could recover a
    password from a committed baseline), and a span over a secret has no width to measure."""
    def compose(pw: str) -> str:
        return ("services:\n  redis:\n    image: redis:7.2\n    command: redis-server --requirepass "
                f"{pw}\n    environment:\n      REDIS_PASSWORD: {pw}\n")
    one = _json(tmp_path / "a", {"compose.yaml": compose("Fp1234567890abc")})
    two = _json(tmp_path / "b", {"compose.yaml": compose("Fpzyxwvutsrqpon")})
    assert one and [f["fingerprint"] for f in one] == [f["fingerprint"] for f in two]
    for a, b in zip(one, two, strict=True):
        assert (a["line"], a["column"], a["end_line"], a["end_column"]) == \
               (b["line"], b["column"], b["end_line"], b["end_column"])
    secret_spans = [f for f in one if f["code"] in ("VL202", "VL410") or "Fp****" in f["message"]]
    assert secret_spans and all(f["end_column"] == f["column"] for f in secret_spans)


@pytest.mark.parametrize("text", ["redis://:" * 30_000, "REDIS_PASSWORD=" + "a" * 270_000,
                                  "x" * 270_000, "requirepass " + " " * 100_000 + "-a " * 30_000,
                                  "user u on " + ">" * 100_000, "redis-cli AUTH " * 20_000])
def test_masking_is_linear(text):
    start = time.monotonic()
    redact(text)
    redact_source_line(text, "redis.conf", text)
    assert time.monotonic() - start < 5


# --- control characters and workflow commands --------------------------------------------------
def test_control_characters_and_workflow_commands_are_neutralised(tmp_path):
    folder = tmp_path / "proj"
    nasty = folder / "x\n::error file=a::pwned\n##[error]pwned"
    nasty.mkdir(parents=True)
    (nasty / "compose.yaml").write_text("version: '3'\nservices:\n  web:\n    image: nginx\n")
    (nasty / "redis.conf").write_text("maxmemory-policy \x1b[2Jbogus\x1b]0;title\x07\n")
    for fmt in ("text", "concise", "github"):
        out = _lint(folder, ("--isolated", "--format", fmt), tmp_path / f"out-{fmt}")
        assert "\x1b" not in out and "\x07" not in out
        for line in out.splitlines():
            assert not line.startswith(("::error file=a", "##[")), (fmt, line)
            assert "pwned" not in line or fmt != "github" or line.startswith("::")
