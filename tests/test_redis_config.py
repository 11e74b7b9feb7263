"""redis.conf parsing (vantage_lint.redis.config): the model, VL005 problems, includes, save
points, command-line options. ``tests/redis_cases`` are also run against redis-server in
test_redis_vs_server.py; here each case is checked against the expectation in its first line
(``# expect: ok`` / ``# expect: error [LINE | FILE:LINE]``), so they run without Redis too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import write
from vantage_lint.findings import Span
from vantage_lint.redis import config_from_args, directive_info, looks_like_redis_conf, parse_redis_config
from vantage_lint.redis.units import format_bytes, parse_memory
from vantage_lint.source import SourceFile, decode

CASES_DIR = Path(__file__).parent / "redis_cases"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


@dataclass(frozen=True)
class Expectation:
    error: bool
    path: str | None = None  # the included file the error is in, relative to the cases folder
    line: int | None = None


def case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.conf"))


def expectation(case: Path, server: str = "redis") -> Expectation:
    """The case's first line, ``# expect: ok|error [FILE:]LINE``; a second line
    ``# valkey: ok|error [FILE:]LINE`` gives valkey-server's verdict where it differs."""
    lines = case.read_bytes().decode("utf-8").lstrip("\ufeff").split("\n", 2)
    first = lines[0]
    if server != "redis" and len(lines) > 1 and lines[1].startswith(f"# {server}: "):
        first = "# expect: " + lines[1][len(f"# {server}: "):]
    match = re.fullmatch(r"# expect: (ok|error)(?: (?:([\w/.-]+):)?(\d+))?\s*", first)
    assert match, f"{case.name}: first line must be '# expect: ok|error [FILE:]LINE'"
    kind, path, line = match.groups()
    return Expectation(kind == "error", path, int(line) if line else None)


def parse(text: str, *, path: str = "redis.conf", version: tuple[int, int] | None = None, **kw):
    return parse_redis_config(decode(text.encode("utf-8"), path), version=version, **kw)


def messages(conf) -> list[str]:
    return [f.message for f in conf.problems]


@pytest.mark.parametrize("case", case_files(), ids=lambda p: p.stem)
def test_case_expectation(case: Path):
    from vantage_lint.source import read_source

    conf = parse_redis_config(read_source(case, case.name), version=(7, 0))
    want = expectation(case)
    assert bool(conf.problems) == want.error, [(f.span.path, f.span.line, f.message) for f in conf.problems]
    if want.error and want.line is not None:
        first = conf.problems[0]
        assert first.span.line == want.line, first.message
        if want.path is not None:
            assert first.span.path.endswith(want.path)


def test_at_least_forty_cases():
    assert len(case_files()) >= 40


# --- messages and positions ------------------------------------------------------------------


def test_unknown_directive_did_you_mean_and_position():
    conf = parse("maxmemory-policy noeviction\n  maxmemroy 256mb\n")
    (finding,) = conf.problems
    assert finding.code == "VL005"
    assert (finding.span.line, finding.span.column, finding.span.end_column) == (2, 3, 12)
    assert "Bad directive or wrong number of arguments" in finding.message
    assert "did you mean maxmemory?" in finding.message
    assert finding.hint == "Fix the line; redis-server refuses to start with FATAL CONFIG FILE ERROR."


def test_enum_message_lists_values_and_suggests():
    (message,) = messages(parse("maxmemory-policy allkeys-lrux\n"))
    assert "argument(s) must be one of the following: volatile-lru" in message
    assert "did you mean allkeys-lru?" in message


def test_inline_comment_is_explained():
    (message,) = messages(parse("maxmemory 100mb # note\n"))
    assert "wrong number of arguments" in message and "no inline comments" in message


@pytest.mark.parametrize("value", ["1t", "100MiB", "1.5gb", "-1", "1 gb", "0x10"])
def test_memory_values_redis_refuses(value):
    (message,) = messages(parse(f'maxmemory "{value}"\n'))
    assert "argument must be a memory value" in message


def test_each_bad_line_is_reported_not_only_the_first():
    conf = parse("appendonly true\nmaxmemory 1t\nport 70000\n")
    assert [f.span.line for f in conf.problems] == [1, 2, 3]


def test_unbalanced_quotes_points_at_the_quote():
    (finding,) = parse('requirepass x\nsyslog-ident "abc"def\n').problems
    assert "Unbalanced quotes in configuration line" in finding.message
    assert (finding.span.line, finding.span.column) == (2, 14)


def test_passwords_are_masked_in_messages():
    conf = parse('requirepass "hunter2 extra"x\nmasterauth one two\nuser alice on >topsecret bogus\n')
    text = " ".join(messages(conf))
    assert "hunter2" not in text and "two" not in text and "topsecret" not in text
    assert "masterauth o***" in text


def test_version_specific_directives():
    assert parse("gopher-enabled yes\n", version=(6, 2)).problems == []
    (message,) = messages(parse("gopher-enabled yes\n"))
    assert "removed after Redis 6.2" in message
    assert parse("loglevel nothing\n", version=(7, 2)).problems == []
    assert parse("loglevel nothing\n").problems == []  # any 7.x: 7.2+ accepts it
    assert parse("loglevel nothing\n", version=(7, 0)).problems
    (message,) = messages(parse("locale-collate C\n", version=(7, 0)))
    assert "needs Redis 7.2 or newer" in message
    assert parse("foo.bar 1\n", version=(6, 2)).problems  # module configs are 7.0+


def test_rename_command_tracks_the_command_table():
    conf = parse('rename-command CONFIG ""\nrename-command config ""\n'
                 "rename-command FLUSHALL x\nrename-command get x\n")
    assert [f.span.line for f in conf.problems] == [2, 4]
    assert "already renamed or removed" in conf.problems[0].message
    assert "Target command name already exists" in conf.problems[1].message


def test_acl_rules():
    assert parse("user alice on >pw ~* &* +@all\nuser bob off resetpass (~x +get) %R~y\n").problems == []
    bad = {
        "user a on bogus": "Syntax error",
        "user a #abc": "exactly 64 characters",
        "user a <pw": "does not exist",
        "user a ~* ~x": "allkeys",
        "user a &* &x": "allchannels",
        "user a +client|list|x": "first-arg of a subcommand",
        "user a +debug|": "Syntax error",
        "user a (~x +get": "Unknown command",
    }
    for line, reason in bad.items():
        (message,) = messages(parse(line + "\n"))
        assert reason in message, (line, message)
    # Unknown commands and categories are refused after the load, not as a config-file error.
    assert parse("user a on +@allx -bogus\n").problems == []


def test_acl_pubsub_default_changes_channel_rules():
    assert parse("acl-pubsub-default allchannels\nuser a &x\n").problems
    assert parse("user a &x\n").problems == []


def test_cluster_and_replicaof():
    (finding,) = parse("cluster-enabled yes\nreplicaof 10.0.0.1 6379\n").problems
    assert finding.span.line == 2 and "not allowed in cluster mode" in finding.message
    assert parse("cluster-enabled yes\nreplicaof no one\n").problems == []


def test_byte_order_mark_breaks_the_first_line():
    source = decode(b"\xef\xbb\xbfmaxmemory 1mb\n", "bom.conf")
    (finding,) = parse_redis_config(source).problems
    assert finding.span.line == 1 and "byte order mark" in finding.message


# --- templates and files that are not redis configs ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "port {{ port }}\nbind {{ bind }}\ndaemonize {{ daemonize }}\n",
        "{% if tls %}\ntls-port 6380\n{% endif %}\nport 6379\n",
        "<%- | Integer $port | -%>\nport <%= $port %>\n",
        '{{- /* helm */ -}}\nmaxmemory {{ .Values.maxmemory }}\n',
    ],
)
def test_template_gives_one_finding(text):
    conf = parse(text)
    assert conf.kind == "template"
    (finding,) = conf.problems
    assert "template" in finding.message and finding.hint.endswith(".")


def test_not_a_redis_conf_gives_one_finding():
    text = "".join(f"option_{i} = {i};\n" for i in range(30))
    conf = parse(text)
    assert conf.kind == "other"
    (finding,) = conf.problems
    assert "does not look like a redis.conf" in finding.message and "30 of its 30" in finding.message
    assert conf.directives == []


def test_problems_are_capped():
    text = "bind 0.0.0.0\n" * 400 + "appendonly maybe\n" * 400
    assert len(parse(text).problems) == 101


def test_sentinel_config_is_accepted():
    conf = parse("port 26379\nsentinel monitor mymaster 127.0.0.1 6379 2\n"
                 "sentinel down-after-milliseconds mymaster 5000\n")
    assert conf.problems == [] and conf.kind == "sentinel"


# --- includes --------------------------------------------------------------------------------


def _load(path: Path, **kw):
    from vantage_lint.source import read_source

    return parse_redis_config(read_source(path, path.name), **kw)


def test_include_in_place_last_wins(tmp_path):
    root = write(tmp_path, {"main.conf": "maxmemory 2mb\ninclude extra.conf\n", "extra.conf": "maxmemory 7mb\n",
                             "other.conf": "include extra.conf\nmaxmemory 2mb\n"})
    conf = _load(root / "main.conf")
    assert conf.problems == [] and conf.memory("maxmemory") == 7 * 2**20
    assert [f.real_path.name for f in conf.files] == ["main.conf", "extra.conf"]
    assert conf.get("maxmemory").source.real_path.name == "extra.conf"
    assert _load(root / "other.conf").memory("maxmemory") == 2 * 2**20


def test_include_error_is_located_in_the_included_file(tmp_path):
    root = write(tmp_path, {"main.conf": "include sub/inc.conf\n", "sub/inc.conf": "# x\nappendonly maybe\n"})
    (finding,) = _load(root / "main.conf").problems
    assert finding.span.path.endswith("inc.conf") and finding.span.line == 2


def test_missing_include_and_glob(tmp_path):
    root = write(tmp_path, {"main.conf": "include nope.conf\ninclude conf.d/*.conf\n",
                             "other.conf": "include conf.d/*.conf\n"})
    (finding,) = _load(root / "main.conf").problems
    assert finding.span.line == 1 and "can't open config file 'nope.conf'" in finding.message
    write(tmp_path, {"conf.d/b.conf": "maxmemory 2mb\n", "conf.d/a.conf": "maxmemory 1mb\n"})
    conf = _load(root / "other.conf")
    assert conf.memory("maxmemory") == 2 * 2**20  # glob results come in sorted order


def test_include_cycle_reported_once(tmp_path):
    root = write(tmp_path, {"a.conf": "include b.conf\n", "b.conf": "include a.conf\nmaxmemory 1mb\n",
                             "self.conf": "include self.conf\n"})
    conf = _load(root / "a.conf")
    assert len(conf.problems) == 1 and "includes itself" in conf.problems[0].message
    assert len(_load(root / "self.conf").problems) == 1


def test_include_with_custom_reader(tmp_path):
    seen: list[Path] = []

    def read(path: Path) -> SourceFile:
        seen.append(path)
        return decode(b"appendonly yes\n", "mounted.conf")

    conf = parse("include /usr/local/etc/redis/common.conf\n", read=read)
    assert conf.problems == [] and conf.value("appendonly") == "yes"
    assert seen == [Path("/usr/local/etc/redis/common.conf")]


# --- the model -------------------------------------------------------------------------------


def test_model_accessors():
    conf = parse("SLAVEOF 10.0.0.1 6379\nmaxmemory-policy ALLKEYS-LRU\nmaxmemory 512m\n"
                 "bind 127.0.0.1 -::1\nrequirepass Secret\n")
    d = conf.get("replicaof")
    assert (d.name, d.canonical, d.args) == ("slaveof", "replicaof", ["10.0.0.1", "6379"])
    assert conf.value("maxmemory-policy") == "allkeys-lru"
    assert conf.value("requirepass") == "Secret"  # strings keep their case
    assert conf.value("bind") == "127.0.0.1 -::1"
    assert conf.memory("maxmemory") == 512_000_000
    assert conf.value("appendonly") is None and conf.default("appendonly") == "no"
    assert conf.all("save") == [] and conf.save_points() is None
    assert directive_info("SLAVE-READ-ONLY")["name"] == "replica-read-only"


@pytest.mark.parametrize(
    "text,points",
    [
        ("maxmemory 1mb\n", None),
        ("save 900 1\nsave 300 10\n", [(900, 1), (300, 10)]),
        ('save ""\nsave 900 1\n', [(900, 1)]),
        ('save 900 1\nsave ""\n', []),
        ("save 900 1 300 10\n", [(900, 1), (300, 10)]),
        ('save "60 10000"\n', [(60, 10000)]),
        ("save\n", []),
        ("save 900 1\nsave\n", [(900, 1)]),
        ('save 900 1\nsave "\\"abc"\n', [(900, 1)]),
        # After any include, each save line replaces the points (redis-server 7.0, verified).
        ("include nothing/*.conf\nsave 900 1\nsave 300 10\n", [(300, 10)]),
        ("save 900 1\ninclude nothing/*.conf\nsave 300 10\n", [(300, 10)]),
    ],
)
def test_save_points(text, points, tmp_path):
    main = tmp_path / "r.conf"
    main.write_text(text)
    assert _load(main).save_points() == points


def test_save_points_redis_62_multi_pair_line_stores_nothing():
    conf = parse("save 900 1 300 10\n", version=(6, 2))
    assert conf.problems == [] and conf.save_points() == []
    assert parse("save 900 1\nsave 300 10\n", version=(6, 2)).save_points() == [(900, 1), (300, 10)]


# --- command-line options ------------------------------------------------------------------------


def _spans(words: list[str]) -> list[Span]:
    spans, col = [], 20
    for word in words:
        spans.append(Span("docker-compose.yml", 7, col, 7, col + len(word), 100 + col, 100 + col + len(word)))
        col += len(word) + 1
    return spans


def test_command_line_appends_after_the_file():
    base = parse("save 60 1\nmaxmemory 1mb\n")
    words = ["--save", "900", "1", "--maxmemory", "256m", "--appendonly", "yes"]
    conf = config_from_args(words, _spans(words), base)
    assert conf.save_points() == [(60, 1), (900, 1)]  # --save adds to the file's points
    assert conf.memory("maxmemory") == 256_000_000 and conf.value("appendonly") == "yes"
    assert conf.get("maxmemory").from_command_line and conf.get("maxmemory").source is None
    assert base.memory("maxmemory") == 2**20 and base.save_points() == [(60, 1)]  # base unchanged


@pytest.mark.parametrize(
    "words,points",
    [
        (["--save", ""], []),
        (["--save"], []),
        (["--save", "--maxmemory", "1mb"], []),
        (["--save", "900 1"], [(60, 1), (900, 1)]),
        (["--save", "900", "1", "--save", "300", "10"], [(60, 1), (900, 1), (300, 10)]),
    ],
)
def test_command_line_save(words, points):
    conf = config_from_args(words, _spans(words), parse("save 60 1\n"))
    assert conf.problems == [] and conf.save_points() == points


def test_command_line_errors_point_at_the_words():
    words = ["--maxmemory", "1xb", "--bogus-option", "1", "--port", "--appendonly"]
    conf = config_from_args(words, _spans(words), None)
    assert [f.span.column for f in conf.problems] == [32, 36, 60]
    assert "argument must be a memory value" in conf.problems[0].message
    assert "Bad directive" in conf.problems[1].message
    assert "couldn't be parsed into an integer" in conf.problems[2].message  # `port "--appendonly"`


def test_command_line_word_with_value_inside():
    words = ["--maxmemory 5mb", "--requirepass", "pw"]
    conf = config_from_args(words, _spans(words), None)
    assert conf.problems == [] and conf.memory("maxmemory") == 5 * 1024 * 1024
    assert conf.value("requirepass") == "pw" and conf.source is None


# --- sniffing, units -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("# redis\nmaxmemory 1gb\nappendonly yes\n", True),
        ("bind 0.0.0.0\nprotected-mode no\n", True),
        ("user nginx;\nworker_processes auto;\ninclude /etc/nginx/conf.d/*.conf;\n", False),
        ("[program:x]\ncommand=/bin/true\n", False),
        ("port = 80\nbind = 0.0.0.0\n", False),
        ("port 80\n", False),
        ("", False),
    ],
)
def test_looks_like_redis_conf(text, expected):
    assert looks_like_redis_conf(text) is expected


def test_units():
    assert parse_memory("512m") == 512_000_000 and parse_memory("512MB") == 536_870_912
    assert parse_memory("mb") == 0 and parse_memory("") == 0 and parse_memory("1t") is None
    assert parse_memory("17179869184gb") == 0  # wraps like redis-server 7.0
    assert format_bytes(268435456) == "256 MiB" and format_bytes(512_000_000) == "512,000,000 bytes"


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")
def test_redis_sample_config_is_clean():
    conf = _load(CORPUS / "redisconf" / "redis__redis" / "redis.conf")
    assert conf.problems == [] and conf.value("appendonly") == "no" and conf.save_points() is None


# --- robustness ----------------------------------------------------------------------------------

_WORDS = ["maxmemory", "save", "bind", "user", "include", "rename-command", "client-output-buffer-limit",
          "replicaof", "shutdown-on-sigint", "foo.bar", "sentinel", "notify-keyspace-events", "port", "{{",
          "<%", "1mb", "-1", '"', "'", '""', "\\", "#", "(", ")", "~*", ">pw", "%R~x", "nosave", "yes", "x|y"]


_TEXT = st.characters(exclude_characters="\0", exclude_categories=["Cs"])  # what decode() accepts
_WORD = st.sampled_from(_WORDS) | st.text(_TEXT, max_size=4)


@given(st.lists(st.lists(_WORD, max_size=6), max_size=12))
def test_parser_never_raises(lines):
    text = "\n".join(" ".join(words) for words in lines)
    conf = parse(text)
    for finding in conf.problems:
        assert 0 <= finding.span.start <= finding.span.end <= len(text)
        assert finding.span.line >= 1 and finding.span.column >= 1
    words = [w for line in lines for w in line]
    config_from_args(words, [Span("c.yml", 1, 1, 1, 1)] * len(words), conf)


# --- VL225 / VL226 on parsed configs ------------------------------------------------------------


def _run_rule(code: str, conf) -> list:
    from vantage_lint.context import RuleContext
    from vantage_lint.registry import load_rules

    rule = load_rules().lookup(code)
    return list(rule.check(conf, RuleContext(rule, {})))


def test_vl225_fix_renames_the_name_token():
    text = "# replica\n  SLAVEOF 10.0.0.1 6379\r\nhash-max-ziplist-entries 128\n"
    findings = _run_rule("VL225", parse(text))
    assert [f.span.line for f in findings] == [2, 3]
    fixed = text
    for finding in sorted(findings, key=lambda f: -f.fix.edits[0].start):
        (edit,) = finding.fix.edits
        assert edit.path == finding.span.path
        fixed = fixed[: edit.start] + edit.content + fixed[edit.end :]
    assert fixed == "# replica\n  replicaof 10.0.0.1 6379\r\nhash-max-listpack-entries 128\n"
    assert parse(fixed).problems == [] and _run_rule("VL225", parse(fixed)) == []


def test_vl225_only_suggests_names_the_version_knows():
    assert _run_rule("VL225", parse("server_cpulist 0-3\n", version=(7, 0))) == []
    assert _run_rule("VL225", parse("server_cpulist 0-3\n")) == []  # 7.0-7.2 lack server-cpulist
    assert len(_run_rule("VL225", parse("server_cpulist 0-3\n", version=(7, 4)))) == 1
    (ignored,) = _run_rule("VL225", parse("list-max-ziplist-entries 512\n"))
    assert ignored.fix is None and "no effect" in ignored.message


def test_vl226_duplicates(tmp_path):
    findings = _run_rule("VL226", parse("maxmemory 1gb\nbind a\nmaxmemory 2gb\nbind b\nmaxmemory 3gb\n"))
    assert [f.span.line for f in findings] == [3, 2, 1]
    assert "line 5" in findings[0].message
    limits = "client-output-buffer-limit replica 1mb 1mb 1\nclient-output-buffer-limit pubsub 1mb 1mb 1\n"
    assert _run_rule("VL226", parse(limits)) == []
    assert len(_run_rule("VL226", parse(limits + "client-output-buffer-limit slave 2mb 2mb 2\n"))) == 1
    assert _run_rule("VL226", parse("save 900 1\nsave 300 10\nuser a on\nuser b on\n")) == []
    # An include or a command-line option that overrides a value is deliberate.
    root = write(tmp_path, {"main.conf": "maxmemory 1gb\ninclude extra.conf\n", "extra.conf": "maxmemory 2gb\n"})
    conf = _load(root / "main.conf")
    assert _run_rule("VL226", conf) == []
    words = ["--maxmemory", "3gb"]
    assert _run_rule("VL226", config_from_args(words, _spans(words), conf)) == []
    secret = _run_rule("VL226", parse("requirepass aaaaaa\nrequirepass bbbbbbbb\n"))
    assert "bbbb" not in secret[0].message
