"""A Dockerfile reader that follows BuildKit's documented parsing rules, with positions.

What it follows (https://docs.docker.com/reference/dockerfile/):

- parser directives (``# escape=`` and ``# syntax=``) only before the first comment, blank
  line or instruction; the escape character is ``\\`` or a backtick;
- a line that ends with the escape character (trailing blanks allowed) continues on the next
  line; comment lines and blank lines inside a continued instruction are dropped;
- heredocs (``RUN <<EOF``, ``<<-EOF``, quoted delimiters) on RUN, COPY and ADD: the body lines
  belong to the instruction, never parsed as instructions;
- exec form (a JSON array of strings) versus shell form, for CMD, ENTRYPOINT, RUN, SHELL and
  HEALTHCHECK CMD;
- stages: ``FROM [--platform=...] image [AS name]``, global ``ARG`` before the first FROM
  (visible to FROM lines, and inside a stage only after ``ARG NAME`` redeclares it), and
  ``FROM <stage>`` inheriting the earlier stage's USER, HEALTHCHECK, ENTRYPOINT, CMD, WORKDIR
  and ENV;
- variable substitution in FROM, USER, WORKDIR, ENV, ARG: ``$V``, ``${V}``, ``${V:-w}``,
  ``${V-w}``, ``${V:+w}``, ``${V+w}``, with quotes and the escape character as BuildKit's word
  processor reads them. ENV wins over ARG of the same name. A variable with no value known at
  lint time makes the result unknown (None), never a guess.

Nothing here reads files or raises on odd input: the caller passes the text in.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
# A heredoc starts a word (after an optional fd number): `<<EOF`, `<<-"EOF"`, `3<<EOF`; not `<<<`.
_HEREDOC = re.compile(r"(?:^|\s)\d*<<(?!<)(-?)\s*(['\"]?)([A-Za-z0-9_.\-]+)\2")
HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})
EXEC_FORM_INSTRUCTIONS = frozenset({"cmd", "entrypoint", "run", "shell"})


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str          # lowercased: "from", "user", ...
    args: str             # the text after the keyword, continuation lines joined
    line: int             # 1-based line of the keyword
    start: int            # character offsets of the whole instruction (continuations included)
    end: int
    heredocs: tuple[str, ...] = ()   # bodies of the heredocs, in order

    def json_args(self) -> list[str] | None:
        """The exec form's arguments when ``args`` is a JSON array of strings, else None."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None


@dataclass(frozen=True, slots=True)
class Command:
    """CMD / ENTRYPOINT / HEALTHCHECK CMD: exec form (a list) or shell form (one string)."""

    exec_form: bool
    words: tuple[str, ...]   # exec form: the array; shell form: (the command string,)
    line: int

    def shown(self) -> str:
        return json.dumps(list(self.words)) if self.exec_form else self.words[0]


@dataclass(frozen=True, slots=True)
class CopyOp:
    """One COPY/ADD as the build runs it: sources and destination after substitution (None:
    a variable whose value is not known), the working directory at that point, and what makes
    it unfollowable (``unread``: heredoc content, a URL, ``--parents``...)."""

    keyword: str                     # "copy" | "add"
    sources: tuple[str | None, ...]
    dest: str | None
    cwd: str | None                  # WORKDIR when it ran (None: not known)
    from_: str | None                # --from=<stage or image>
    line: int
    unread: str | None = None


@dataclass(slots=True)
class Stage:
    index: int
    name: str | None
    base: str | None                 # the FROM image after substitution (None: unknown)
    base_stage: int | None           # index of the stage it is built FROM, if any
    line: int
    platform: str | None = None
    user: str | None = None          # USER as written after substitution; "" = unknown value
    user_raw: str | None = None
    user_line: int | None = None
    healthcheck: str | None = None   # "cmd" | "none" | None (not set in this stage)
    healthcheck_line: int | None = None
    healthcheck_command: Command | None = None
    entrypoint: Command | None = None
    cmd: Command | None = None
    cmd_reset: bool = False          # ENTRYPOINT in this stage cleared an inherited CMD
    workdir: str | None = None
    env: dict[str, str | None] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    copies: list[tuple[tuple[str, ...], str, int]] = field(default_factory=list)  # (sources, dest, line)
    # WORKDIR as Docker resolves it: relative ones join the previous; inherited from a FROM
    # stage; "/" when the base image sets none (see ``base_workdir``); None: not known.
    cwd: str | None = None
    cwd_line: int | None = None
    copy_ops: list[CopyOp] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)


@dataclass(slots=True)
class Dockerfile:
    stages: list[Stage]
    escape: str
    problems: list[tuple[int, str]]   # (line, message): what could not be read
    global_args: dict[str, str | None] = field(default_factory=dict)

    def stage(self, target: str | None) -> Stage | None:
        """The stage ``target`` names (case-insensitive, as BuildKit), else the last stage."""
        if not self.stages:
            return None
        if target is None:
            return self.stages[-1]
        wanted = target.lower()
        for stage in self.stages:
            if stage.name is not None and stage.name.lower() == wanted:
                return stage
        return None

    def chain(self, stage: Stage) -> list[Stage]:
        """``stage`` and the stages it is built from, nearest first."""
        seen: list[Stage] = []
        current: Stage | None = stage
        while current is not None and current not in seen:
            seen.append(current)
            current = self.stages[current.base_stage] if current.base_stage is not None else None
        return seen


# --- tokenizer -------------------------------------------------------------------------------------

def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start offset, 1-based line number, line text without its line break)."""
    out = []
    pos = 0
    number = 1
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append((pos, number, body))
        pos += len(raw)
        number += 1
    return out


def _continues(body: str, escape: str) -> tuple[bool, str]:
    stripped = body.rstrip(" \t")
    if stripped.endswith(escape):
        return True, stripped[: -len(escape)]
    return False, body


def tokenize(text: str) -> tuple[list[Instruction], str, list[tuple[int, str]]]:
    """The instructions of a Dockerfile, its escape character and what could not be read."""
    lines = _lines(text)
    escape = "\\"
    problems: list[tuple[int, str]] = []
    i = 0
    # Parser directives: only at the very top, each once, before anything else.
    seen_directives: set[str] = set()
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i][2].strip()) if lines[i][2].lstrip().startswith("#") else None
        if match is None:
            break
        name, value = match.group(1).lower(), match.group(2)
        if name in seen_directives:
            break
        seen_directives.add(name)
        if name == "escape":
            if value in ("\\", "`"):
                escape = value
            else:
                problems.append((lines[i][1], f"invalid escape directive {value!r}: must be ` or \\"))
        i += 1
    instructions: list[Instruction] = []
    while i < len(lines):
        start, number, body = lines[i]
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        parts: list[str] = []
        end = start + len(body)
        cont, piece = _continues(body, escape)
        parts.append(piece)
        i += 1
        while cont and i < len(lines):
            _s, _n, nxt = lines[i]
            i += 1
            if not nxt.strip() or nxt.strip().startswith("#"):
                continue  # BuildKit drops blank and comment lines inside a continuation
            end = _s + len(nxt)
            cont, piece = _continues(nxt, escape)
            parts.append(piece)
        joined = "".join(parts).strip()
        keyword, _, args = joined.partition(" ")
        if "\t" in keyword:
            keyword, _, rest = keyword.partition("\t")
            args = rest + " " + args if args else rest
        keyword = keyword.lower()
        args = args.strip()
        heredocs: list[str] = []
        if keyword in HEREDOC_INSTRUCTIONS and "<<" in args:
            for match in _HEREDOC.finditer(args):
                strip_tabs, delimiter = match.group(1) == "-", match.group(3)
                body_lines: list[str] = []
                closed = False
                while i < len(lines):
                    _s, _n, line = lines[i]
                    i += 1
                    check = line.lstrip("\t") if strip_tabs else line
                    if check == delimiter:
                        end = _s + len(line)
                        closed = True
                        break
                    body_lines.append(check)
                    end = _s + len(line)
                if not closed:
                    problems.append((number, f"heredoc <<{delimiter} is never closed"))
                heredocs.append("\n".join(body_lines))
        instructions.append(Instruction(keyword, args, number, start, end, tuple(heredocs)))
    return instructions, escape, problems


# --- variable substitution (BuildKit's shell_lex word processing) ---------------------------------

class _Unknown(Exception):
    """A variable whose value is not known at lint time."""


def expand(word: str, env: Mapping[str, str | None], escape: str = "\\") -> str | None:
    """``word`` after quote removal and substitution; None when a variable's value is unknown
    (declared without a value, or not declared at all)."""
    try:
        return _Expander(word, env, escape).run()
    except _Unknown:
        return None


class _Expander:
    MAX_DEPTH = 32   # nested ${A:-${B:-...}}: a hostile file must not exhaust the stack

    def __init__(self, text: str, env: Mapping[str, str | None], escape: str):
        self.text = text
        self.env = env
        self.escape = escape
        self.i = 0
        self.depth = 0

    def run(self, stop: str = "") -> str:
        out: list[str] = []
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if stop and c in stop:
                break
            if c == self.escape:
                if self.i + 1 < len(text):
                    out.append(text[self.i + 1])
                self.i += 2
            elif c == "'":
                close = text.find("'", self.i + 1)
                close = len(text) if close == -1 else close
                out.append(text[self.i + 1 : close])
                self.i = close + 1
            elif c == '"':
                self.i += 1
                while self.i < len(text) and text[self.i] != '"':
                    ch = text[self.i]
                    if ch == self.escape and self.i + 1 < len(text) and text[self.i + 1] in ('"', "$", self.escape):
                        out.append(text[self.i + 1])
                        self.i += 2
                    elif ch == "$":
                        out.append(self.variable())
                    else:
                        out.append(ch)
                        self.i += 1
                self.i += 1
            elif c == "$":
                out.append(self.variable())
            else:
                out.append(c)
                self.i += 1
        return "".join(out)

    def lookup(self, name: str) -> str | None:
        if name not in self.env:
            return None
        return self.env[name]

    def variable(self) -> str:
        text = self.text
        self.i += 1  # the $
        if self.i >= len(text):
            return "$"
        if text[self.i] == "{":
            self.i += 1
            match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[self.i :])
            if match is None:
                raise _Unknown
            name = match.group(0)
            self.i += len(name)
            if self.i < len(text) and text[self.i] == "}":
                self.i += 1
                value = self.lookup(name)
                if value is None:
                    raise _Unknown
                return value
            op = ""
            for candidate in (":-", ":+", "-", "+"):
                if text.startswith(candidate, self.i):
                    op = candidate
                    break
            if not op:
                raise _Unknown  # ${V#x}, ${V%x}, ${V/a/b}...: not read here
            self.i += len(op)
            self.depth += 1
            if self.depth > self.MAX_DEPTH:
                raise _Unknown
            word = self.run(stop="}")
            self.depth -= 1
            self.i += 1  # the }
            known = name in self.env
            value = self.env.get(name)
            if known and value is None:
                raise _Unknown
            if op == ":-":
                return value if value else word
            if op == "-":
                return value if known else word
            if op == ":+":
                return word if value else ""
            return word if known else ""
        match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[self.i :])
        if match is None:
            return "$"
        name = match.group(0)
        self.i += len(name)
        value = self.lookup(name)
        if value is None:
            raise _Unknown
        return value


def _assignments(args: str, escape: str) -> list[tuple[str, str]]:
    """``ENV a=1 b="2 3"`` / ``ARG a=1`` pairs as written (values not yet substituted), and the
    legacy ``ENV name value`` form."""
    words = _split_words(args, escape)
    if not words:
        return []
    if "=" not in words[0]:
        # ENV name value (the rest of the line is the value); ARG name (no default)
        name, _, rest = args.strip().partition(" ")
        return [(name, rest.strip())] if rest.strip() else [(name, "\0")]
    pairs = []
    for word in words:
        name, eq, value = word.partition("=")
        pairs.append((name, value if eq else "\0"))
    return pairs


def _split_words(text: str, escape: str) -> list[str]:
    """Split on unquoted blanks, keeping quotes and escapes in the words (expanded later)."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == escape and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
            current.append(c)
        elif c in "'\"":
            quote = c
            current.append(c)
        elif c in " \t":
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(c)
        i += 1
    if current:
        words.append("".join(current))
    return words


def _command(ins: Instruction, args: str | None = None) -> Command:
    text = ins.args if args is None else args
    probe = Instruction(ins.keyword, text, ins.line, ins.start, ins.end)
    values = probe.json_args()
    if values is not None:
        return Command(True, tuple(values), ins.line)
    return Command(False, (text.strip(),), ins.line)


def _healthcheck(ins: Instruction, stage: Stage) -> None:
    words = ins.args.split()
    index = 0
    while index < len(words) and words[index].startswith("--"):
        index += 1
    if index < len(words) and words[index].upper() == "NONE":
        stage.healthcheck = "none"
    elif index < len(words) and words[index].upper() == "CMD":
        stage.healthcheck = "cmd"
        rest = ins.args.split(words[index], 1)[1] if words[index] in ins.args else ""
        stage.healthcheck_command = _command(ins, rest)
    else:
        return
    stage.healthcheck_line = ins.line


# --- the stages -------------------------------------------------------------------------------------

def parse_dockerfile(text: str, build_args: Mapping[str, str | None] | None = None) -> Dockerfile:
    """Read ``text`` into stages. ``build_args`` are Compose's ``build.args`` (None: a value
    the linter does not know); they override the defaults of the ARGs the Dockerfile declares."""
    instructions, escape, problems = tokenize(text)
    given = dict(build_args or {})
    result = Dockerfile([], escape, problems)
    global_args: dict[str, str | None] = {}
    stage: Stage | None = None
    for ins in instructions:
        if ins.keyword == "from":
            stage = _from(ins, result, global_args, escape)
            result.stages.append(stage)
            continue
        if stage is None:
            if ins.keyword == "arg":
                for name, default in _assignments(ins.args, escape):
                    global_args[name] = _arg_value(name, default, given, global_args, escape)
            elif ins.keyword not in ("#",):
                problems.append((ins.line, f"{ins.keyword.upper()} before the first FROM"))
            continue
        stage.instructions.append(ins)
        _apply(ins, stage, given, global_args, escape)
    result.global_args = global_args
    return result


def _arg_value(name: str, default: str, given: Mapping[str, str | None], scope: Mapping[str, str | None],
               escape: str) -> str | None:
    if name in given:
        return given[name]
    if default == "\0":
        return None
    return expand(default, scope, escape)


def _from(ins: Instruction, result: Dockerfile, global_args: Mapping[str, str | None], escape: str) -> Stage:
    words = _split_words(ins.args, escape)
    platform = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--platform="):
            platform = flag.split("=", 1)[1]
    name = None
    if len(words) >= 3 and words[1].lower() == "as":
        name = words[2]
    image = expand(words[0], global_args, escape) if words else None
    base_stage = None
    if image is not None:
        for earlier in result.stages:
            if earlier.name is not None and earlier.name.lower() == image.lower():
                base_stage = earlier.index
                break
    stage = Stage(len(result.stages), name, image, base_stage, ins.line, platform)
    stage.instructions.append(ins)
    if base_stage is not None:
        stage.env = dict(result.stages[base_stage].env)
        stage.cwd = result.stages[base_stage].cwd
        stage.cwd_line = result.stages[base_stage].cwd_line
    else:
        stage.cwd = base_workdir(image)
    return stage


# Images whose own Dockerfiles (docker-library) set no WORKDIR: a stage built FROM them starts
# in "/" (read in docker-library/python 3.12/slim-bookworm/Dockerfile: FROM debian, ENV, RUN
# and CMD only). Any other image may set one, so its working directory is not known.
_NO_WORKDIR_IMAGES = frozenset({"python", "pypy", "debian", "ubuntu", "alpine", "buildpack-deps", "scratch",
                                "fedora", "amazonlinux", "rockylinux", "almalinux", "busybox"})


def base_workdir(image: str | None) -> str | None:
    if image is None or "$" in image:
        return None
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name = name[:colon]
    name = name.removeprefix("docker.io/").removeprefix("library/")
    return "/" if name in _NO_WORKDIR_IMAGES else None


def _scope(stage: Stage) -> dict[str, str | None]:
    """Variables visible to an instruction: the stage's ARGs, then its ENV (which wins)."""
    scope = dict(stage.args)
    scope.update(stage.env)
    return scope


def _apply(ins: Instruction, stage: Stage, given: Mapping[str, str | None],
           global_args: Mapping[str, str | None], escape: str) -> None:
    keyword = ins.keyword
    if keyword == "arg":
        for name, default in _assignments(ins.args, escape):
            if default == "\0" and name in global_args and name not in given:
                stage.args[name] = global_args[name]
            else:
                stage.args[name] = _arg_value(name, default, given, _scope(stage), escape)
    elif keyword == "env":
        for name, value in _assignments(ins.args, escape):
            stage.env[name] = None if value == "\0" else expand(value, _scope(stage), escape)
    elif keyword == "user":
        stage.user_raw = ins.args.strip()
        value = expand(stage.user_raw, _scope(stage), escape)
        stage.user = value if value is not None else ""
        stage.user_line = ins.line
    elif keyword == "workdir":
        stage.workdir = expand(ins.args.strip(), _scope(stage), escape)
        if stage.workdir is None or not (stage.workdir.startswith("/") or stage.cwd is not None):
            stage.cwd = None
        else:
            stage.cwd = posixpath.normpath(posixpath.join(stage.cwd or "/", stage.workdir))
        stage.cwd_line = ins.line
    elif keyword == "healthcheck":
        _healthcheck(ins, stage)
    elif keyword == "entrypoint":
        stage.entrypoint = _command(ins)
        if stage.cmd is None:
            stage.cmd_reset = True  # an inherited CMD is cleared by a new ENTRYPOINT
    elif keyword == "cmd":
        stage.cmd = _command(ins)
        stage.cmd_reset = False
    elif keyword in ("copy", "add"):
        stage.copy_ops.append(_copy_op(ins, stage, escape))
        flags = [w for w in _split_words(ins.args, escape) if w.startswith("--")]
        if any(f.startswith("--from") for f in flags) or ins.heredocs:
            return  # from another stage or image, or inline content: not a file of the context
        words = [w for w in _split_words(ins.args, escape) if not w.startswith("--")]
        values = Instruction(keyword, " ".join(words), ins.line, ins.start, ins.end).json_args()
        if values is not None:
            words = values
        if len(words) >= 2:
            stage.copies.append((tuple(words[:-1]), words[-1], ins.line))


# Flags that do not change which files land where.
_NEUTRAL_COPY_FLAGS = ("--chown", "--chmod", "--link")
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")


def _copy_op(ins: Instruction, stage: Stage, escape: str) -> CopyOp:
    words = _split_words(ins.args, escape)
    flags: list[str] = []
    while words and words[0].startswith("--"):
        flags.append(words.pop(0))
    values = Instruction(ins.keyword, " ".join(words), ins.line, ins.start, ins.end).json_args()
    scope = _scope(stage)
    if values is not None:
        # Exec form: the JSON strings, with variables still substituted.
        sources: list[str | None] = [expand(v, scope, escape) if "$" in v else v for v in values[:-1]]
        dest: str | None = values[-1] if values else None
        dest = expand(dest, scope, escape) if dest and "$" in dest else dest
    else:
        expanded = [expand(w, scope, escape) for w in words]
        sources, dest = expanded[:-1], (expanded[-1] if expanded else None)
    from_ = None
    unread = None
    for flag in flags:
        name, _, value = flag.partition("=")
        if name == "--from":
            from_ = expand(value, scope, escape)
            if from_ is None:
                unread = f"{flag}: a stage or image not known"
        elif name not in _NEUTRAL_COPY_FLAGS:
            unread = f"{name} is not followed"
    if ins.heredocs:
        unread = "content written inline (a heredoc)"
    elif len(words) < 2:
        unread = "no destination"
    elif ins.keyword == "add" and any(s is not None and ("://" in s or s.startswith("git@")) for s in sources):
        unread = "a remote source"
    elif ins.keyword == "add" and any(s is not None and s.lower().endswith(_ARCHIVES) for s in sources):
        unread = "a local archive, which ADD unpacks"
    return CopyOp(ins.keyword, tuple(sources), dest, stage.cwd, from_, ins.line, unread)
