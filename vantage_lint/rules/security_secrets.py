"""VL410: secrets written literally into a service's environment (``environment`` and ``env_file``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from vantage_lint.compose.interpolation import references
from vantage_lint.compose.merge import RESET_TAG
from vantage_lint.compose.model import EnvVar, Service
from vantage_lint.compose.nodes import ScalarNode, sub_span
from vantage_lint.compose.project import Project
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import rule
from vantage_lint.rules._security import services_phrase
from vantage_lint.secrets import mask, provider_key

# A name token that ends in one of these words names a secret: DB_PASSWORD, GITHUBTOKEN,
# CLIENT_SECRET, SECRETKEY, GITLAB_SECRETS_DB_KEY_BASE. "SECRETARY" or "TOKENIZER" do not end
# in the word, and a plural as the last part ("BREACHED_PASSWORDS") names a policy, not a secret.
_SECRET_TOKEN = re.compile(r"^[A-Z0-9]*(PASSWORD|PASSWD|SECRET|TOKEN)(?P<plural>S)?(KEY)?$")
# Short spellings, only as the last token after another one: DB_PASS, MYSQL_PWD (not PWD, the
# shell's working directory), REDISCLI_AUTH, FLOWER_BASIC_AUTH (not AUTH_RATELIMIT).
_SHORT_PASSWORD = frozenset({"PASS", "PWD", "AUTH"})
# Tokens after the secret word that say the value describes the secret instead of being it.
_DESCRIBES = frozenset({
    "FILE", "FILES", "FILENAME", "PATH", "DIR", "LOCATION", "URL", "URI", "ENDPOINT", "HOST", "PORT",
    "EXPIRY", "EXPIRE", "EXPIRES", "EXPIRATION", "TTL", "LIFETIME", "TIMEOUT", "AGE", "VALIDITY",
    "LENGTH", "LEN", "MIN", "MAX", "SIZE", "BYTES", "HEADER", "NAME", "TYPE", "ALGORITHM", "ALG",
    "ENABLED", "ENABLE", "DISABLED", "DISABLE", "REQUIRED", "POLICY", "HASHER", "HASHERS", "ISSUER",
    "AUDIENCE", "PREFIX", "ID", "USER", "USERNAME", "FORMAT", "METHOD", "MODE", "PARAM", "FIELD",
    "STRENGTH", "COMPLEXITY", "RESET", "CHANGE", "ROTATION", "INTERVAL", "SERVICE", "REALM", "SCOPE",
})
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^:/@\s'\"]*):(?P<password>[^@/\s'\"]+)@"
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

_BOOLEAN = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1", "y", "n", "none"})
_FILLER = re.compile(r"^[xX*.?#_-]+$")
# Known default passwords: still literal secrets (they are what an attacker tries first).
WELL_KNOWN = frozenset({
    "changeit", "password", "passw0rd", "secret", "admin", "root",
    "guest", "123456", "12345678", "default", "test", "example", "pass", "redis", "postgres", "mysql",
})


def names_secret(name: str) -> bool:
    """True for names such as ``POSTGRES_PASSWORD``, ``SECRET_KEY``, ``GITHUB_TOKEN``, ``OPENAI_API_KEY``,
    ``JWT_PRIVATE_KEY``, ``DB_PASS``; false for ``POSTGRES_PASSWORD_FILE``, ``TOKEN_EXPIRY``."""
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", name.upper()) if t]
    for index, token in enumerate(tokens):
        following = tokens[index + 1 :]
        match = _SECRET_TOKEN.match(token)
        if match and match.group("plural") and not following:
            continue
        if match or token in ("APIKEY", "PRIVATEKEY"):
            rest = following
        elif token in ("API", "PRIVATE") and following[:1] == ["KEY"]:
            rest = following[1:]
        elif token in _SHORT_PASSWORD and index > 0 and not following:
            rest = []
        else:
            continue
        return not any(t in _DESCRIBES for t in rest)
    return False


# Markers that a deployment tool replaces before the value is used: @{X} (Octopus, Azure
# token replacement), #{X}, %{X}, ${{ X }}, [[X]], __X__, @X@ (Maven, autoconf), %X%.
_TEMPLATE_MARKER = re.compile(
    r"^(?:[@#%$]\{\{?\s*[\w.:-]+\s*\}?\}|\[\[\s*[\w.:-]+\s*\]\]|__[A-Za-z0-9][\w.-]*__|@[A-Za-z_][\w.-]*@"
    r"|%[A-Za-z_][\w.-]*%)$"
)
# Words that tell the reader to fill the value in: changeme, CHANGE_ME, replace-me,
# your-secret-here, your_api_token, insert-token-here, todo, fixme.
_INSTRUCTION_WORDS = re.compile(
    r"^(?:change[ _.-]?me|replace[ _.-]?me|changethis|change[ _.-]this|todo|fixme|tbd|to[ _.-]?be[ _.-]?defined"
    r"|your[ _.-].*|.*[ _.-]here|(?:insert|replace|enter|put)[ _.-](?:your|the|a|an|real|actual|token|password|secret"
    r"|key|value)(?:[ _.-].*)?)$",
    re.IGNORECASE,
)


def is_placeholder(value: str) -> bool:
    """Values that are not a secret: empty, a flag, a template marker, an instruction to fill
    the value in, or an obvious filler."""
    text = value.strip()
    if not text or text.lower() in _BOOLEAN:
        return True
    if text.startswith("<") and text.endswith(">"):
        return True  # <your-token>
    if ("{{" in text and "}}" in text) or ("{%" in text and "%}" in text):
        return True  # a Jinja/Go template fills it in
    if _TEMPLATE_MARKER.match(text) or _INSTRUCTION_WORDS.match(text):
        return True
    return bool(_FILLER.match(text))  # xxx, ****, ...


def _looks_like_path(text: str) -> bool:
    return bool(re.match(r"^(/|\./|~/)[^\s]*$", text)) and "/" in text[1:] or text.startswith("/run/secrets")


@dataclass(slots=True)
class _Written:
    """One value as written in a file, and the services it reaches."""

    var: EnvVar
    raw: str                  # the value as written (before interpolation)
    span: Span
    verbatim: bool            # single-quoted in an env file: "$" is literal there
    locate: object            # (start, end) in raw -> Span
    services: list[str] = field(default_factory=list)


def _written(service: Service, var: EnvVar) -> _Written | None:
    project = service.project
    if var.value is None:
        return None
    if var.origin == "env_file":
        source = project.sources.get(var.span.path)
        if source is None:
            return None
        raw = source.text[var.span.start : var.span.end]
        verbatim = source.text[var.span.start - 1 : var.span.start] == "'"
        start = var.span.start
        return _Written(var, raw, var.span, verbatim, lambda s, e: source.span(start + s, start + e))
    node = var.node
    if node is None or node.tag == RESET_TAG:
        return None  # "!reset" removes the variable an earlier file set
    source = project.sources.get(node.span.path)
    text = source.text if source is not None else None
    twin = ScalarNode(node.raw, node.raw, node.span, node.tag, node.style)
    raw, offset = node.raw, 0
    name, sep, value = node.raw.partition("=")
    if sep and name.strip() == var.name and (not isinstance(node.value, str) or node.value != node.raw):
        raw, offset = value, len(name) + 1  # list form: "NAME=value"
    span = sub_span(twin, offset, offset + len(raw), text) if offset else node.span
    return _Written(var, raw, span, False, lambda s, e: sub_span(twin, offset + s, offset + e, text))


def _url_secret(written: _Written) -> tuple[re.Match[str], str] | None:
    """A ``scheme://user:password@`` in the value whose password is written literally."""
    inside = [] if written.verbatim else [(ref.start, ref.end) for ref in references(written.raw)]
    for match in _URL_CREDENTIALS.finditer(written.raw):
        password = match.group("password")
        if any(start <= match.start() < end for start, end in inside):
            continue  # the URL is the default of a ${VAR:-...} reference: the value comes from outside
        if (references(password) and not written.verbatim) or is_placeholder(password):
            continue
        masked = written.raw[: match.start("password")] + mask(password) + written.raw[match.end("password") :]
        return match, masked
    return None


def _env_entries(service: Service) -> Iterator[EnvVar]:
    """Every value written for the service: all env_file entries (also those ``environment``
    overrides, since they are still written down) and the ``environment`` entries."""
    yield from service.env_file_entries
    for var in service.environment.values():
        if var.origin == "environment":
            yield var


@rule(
    code="VL410",
    name="secret-in-environment",
    summary="A password, token or key is written literally in the environment of a service.",
    severity=Severity.WARNING,
    hint="Move the value out of the file: reference it as ${VAR} from an untracked .env, or use Compose secrets.",
    scope="project",
    production=True,
)
def secret_in_environment(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a literal value for an environment variable whose name names a secret, and a URL
    with a literal password (`scheme://user:password@host`) in any variable. It reads the list
    form (`- DB_PASSWORD=s3cret`) and the mapping form (`DB_PASSWORD: s3cret`) of
    `environment`, and the files listed in `env_file` (reported in the env file, at the line).
    A value written once and used by several services (an anchor, a shared env file) is
    reported once, naming every service. The value is masked in every message.

    In a development stack (see "Presets and context") only a value shaped like a credential a
    provider issues is reported: an AWS access key id (`AKIA...`), a GitHub, GitLab or Slack
    token, a Stripe live key, a Google, OpenAI, Anthropic or SendGrid API key, a private key.
    A development password is a development password; a real key is a leak wherever it is.

    Secret names (any case): a name part ending in `PASSWORD`, `PASSWD`, `SECRET` or `TOKEN`
    (`PGPASSWORD`, `CLIENT_SECRET`, also `SECRETKEY`), the pairs `API_KEY` and `PRIVATE_KEY`
    (or `APIKEY`, `PRIVATEKEY`), and `PASS`, `PWD` or `AUTH` as the last part after another
    one (`DB_PASS`, `MYSQL_PWD`, `REDISCLI_AUTH`, `FLOWER_BASIC_AUTH`). A plural starts a
    group of secrets (`GITLAB_SECRETS_DB_KEY_BASE`), but as the last part it names a policy
    (`BREACHED_PASSWORDS`). A name part after the secret word that describes it makes the
    value not the secret: `POSTGRES_PASSWORD_FILE`, `TOKEN_EXPIRY`, `PASSWORD_MIN_LENGTH`,
    `API_KEY_HEADER`, `SECRET_KEY_PATH`, `TOKEN_URL`, `REGISTRY_AUTH_TOKEN_SERVICE`.
    `SECRETARY` and `TOKENIZER` are not secret words.

    Values that pass:
    - references: `${DB_PASSWORD}`, `$DB_PASSWORD`, and any value that contains one (for a URL,
      a password that is a reference), also with a default (`${DB_PASSWORD:-x}`,
      `${DATABASE_URL:-postgres://app:app@db/app}`): the value is meant to come from outside
      the file, and the default is a development fallback;
    - empty values, names without a value (taken from the shell) and `!reset` entries;
    - flags: `true`, `false`, `yes`, `no`, `on`, `off`, `0`, `1`, `none`;
    - file paths (`/run/secrets/db`, `./keys/jwt.pem`) and URLs without a password;
    - obvious placeholders, which say the value is still to be filled in: a value in angle
      brackets (`<your-token>`), a template expression (`{{ db_password }}`,
      `{% ... %}`), a deployment tool's marker (`@{ADMIN_PASSWORD}`, `#{TOKEN}`,
      `${{ secrets.X }}`, `[[X]]`, `__X__`, `@X@`, `%X%`), an instruction to fill it in
      (`changeme`, `CHANGE_ME`, `replace-me`, `your-secret-here`, `your_api_token`, `todo`),
      and fillers made only of `x`, `*`, `.`, `?`, `#`, `_` or `-` (`xxx`, `****`).

    Known defaults such as `password`, `secret`, `guest` or `redis` are **not**
    placeholders: they are working credentials that ship as they are, and the first ones an
    attacker tries; the message says when a value is one of them. (A Redis password that is a
    placeholder is still reported by VL217: Redis would run with it.)

    ## Why it matters
    A Compose file is committed, copied into images, pasted into tickets and printed by
    `docker compose config` and `docker inspect`. Anyone who reads it gets the database
    password, the API token or the signing key, and with a signing key (`SECRET_KEY`) can
    forge sessions for any user. A literal value also tends to be the same in every
    environment, so a leak from a test stack opens production.

    ## Example
    ```yaml
    services:
      api:
        image: myorg/api:1.4.2
        environment:
          DATABASE_URL: postgres://app:s3cr3tpass@db:5432/app
          SECRET_KEY: 8f2b1c9e77a04d3f
    ```

    ## Fix
    Write `SECRET_KEY: ${SECRET_KEY}` and keep the value in an untracked `.env` (or the CI's
    secret store), or use Compose `secrets:` and the image's `*_FILE` variables
    (`POSTGRES_PASSWORD_FILE: /run/secrets/db_password`).
    """
    grouped: dict[tuple[str, int, int, str], tuple[_Written, str]] = {}
    development = ctx.deploy_context == "development"
    for service in project.services.values():
        for var in _env_entries(service):
            written = _written(service, var)
            if written is None:
                continue
            found = _classify(written)
            issued = provider_key(written.var.value or "") if written.verbatim or not references(written.raw) else None
            if issued is not None:
                # Whatever the variable is called (AWS_ACCESS_KEY_ID names no secret word).
                head = found[1] if found is not None else (
                    f'{var.name} is set to a literal credential ("{mask((written.var.value or "").strip())}")')
                found = (written, f"{head} ({issued})")
            if found is None or (development and issued is None):
                continue  # nothing, or a development stack's own password: production hardening
            key = (written.span.path, written.span.start, written.span.end, var.name)
            entry = grouped.setdefault(key, (found[0], found[1]))
            if service.name not in entry[0].services:
                entry[0].services.append(service.name)
    for written, message in grouped.values():
        origin = "env file" if written.var.origin == "env_file" else "environment"
        services = written.services
        ctx.service_name = services[0]
        yield ctx.finding(written.span, f"{message} in the {origin} of {services_phrase(services)}")
    ctx.service_name = None


def _classify(written: _Written) -> tuple[_Written, str] | None:
    """(what to report, the message's head), or None when the value is not a literal secret."""
    name = written.var.name
    url = _url_secret(written)
    if url is not None:
        match, masked = url
        written.span = written.locate(match.start("password"), match.end("password"))  # type: ignore[operator]
        return written, f'{name} holds a URL with a literal password ({masked})'
    if not names_secret(name) or not written.raw.strip() or (references(written.raw) and not written.verbatim):
        return None
    value = written.var.value or ""
    text = value.strip()
    if is_placeholder(text) or _looks_like_path(text) or (_URL.match(text) and "@" not in text):
        return None
    known = " (a well-known default password)" if text.lower() in WELL_KNOWN else ""
    return written, f'{name} is set to a literal secret ("{mask(text)}"){known}'
