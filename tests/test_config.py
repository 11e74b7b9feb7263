"""Configuration files: discovery, keys, validation errors, presets, extends and policies."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from tests.suppress_helpers import FLAG_SERVICE, lint_test, make_rules
from vantage_lint.cli import main
from vantage_lint.config import ConfigError, find_config, load_settings, settings_from_file
from vantage_lint.findings import Severity
from vantage_lint.registry import RuleSet


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(path: Path, rules: RuleSet | None = None):
    return settings_from_file(path, rules or make_rules())


def error_of(path: Path, rules: RuleSet | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(path, rules)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- discovery ------------------------------------------------------------------------------------

def test_found_walking_up_from_the_linted_path(tmp_path):
    config = write(tmp_path / ".vantage-lint.yaml", "ignore: [VL110]\n")
    compose = write(tmp_path / "deploy" / "prod" / "compose.yaml", "services: {}\n")
    assert find_config(compose) == config
    assert find_config(compose.parent) == config
    assert load_settings([compose]).ignore == ["VL110"]


def test_discovery_stops_at_the_repository_root(tmp_path):
    write(tmp_path / ".vantage-lint.yaml", "ignore: [VL110]\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    compose = write(tmp_path / "repo" / "compose.yaml", "services: {}\n")
    assert find_config(compose) is None
    assert load_settings([compose]).ignore == []


def test_pyproject_without_our_table_is_skipped(tmp_path):
    config = write(tmp_path / ".vantage-lint.yml", "ignore: [VL110]\n")
    write(tmp_path / "app" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    assert find_config(tmp_path / "app" / "compose.yaml") == config


def test_yaml_file_wins_over_pyproject_in_the_same_folder(tmp_path):
    config = write(tmp_path / ".vantage-lint.yaml", "ignore: [VL110]\n")
    write(tmp_path / "pyproject.toml", '[tool.vantage-lint]\nignore = ["VL111"]\n')
    assert find_config(tmp_path) == config


def test_pyproject_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", """
        [project]
        name = "app"

        [tool.vantage-lint]
        extends = "production"
        ignore = ["VL990"]
        fail-on = "error"

        [tool.vantage-lint.severity]
        VL006 = "warning"
        """)
    settings = load(path)
    assert (settings.preset, settings.ignore, settings.fail_on) == ("production", ["VL990"], Severity.ERROR)
    assert settings.severity == {"VL006": Severity.WARNING}


def test_config_flag_and_isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".vantage-lint.yaml", "ignore: [VL110]\n")
    other = write(tmp_path / "ci" / "strict.yaml", "fail-on: info\n")
    assert load_settings([], config_path=str(other)).fail_on == Severity.INFO
    assert load_settings([], isolated=True).ignore == []
    assert load_settings([]).ignore == ["VL110"]
    with pytest.raises(ConfigError, match="cannot be used together"):
        load_settings([], config_path=str(other), isolated=True)
    with pytest.raises(ConfigError, match="missing.yaml: configuration file not found"):
        load_settings([], config_path="missing.yaml")


# --- keys -----------------------------------------------------------------------------------------

def test_every_key_reaches_the_settings(tmp_path):
    path = write(tmp_path / ".vantage-lint.yaml", """
        select: [VL0, test-flag-service]
        extend-select: [VL991]
        ignore: [VL006]
        severity: {VL990: error, obsolete-version-key: info}
        fail-on: never
        per-file-ignores:
          "dev/*.yaml": [VL99]
        exclude: ["legacy/*"]
        roles:
          cache: redis
          jobs: [celery-worker, celery-beat]
        allow-inline-suppressions: {VL990: false}
        """)
    s = load(path)
    assert s.select == ["VL0", "test-flag-service"] and s.extend_select == ["VL991"] and s.ignore == ["VL006"]
    assert s.severity == {"VL990": Severity.ERROR, "obsolete-version-key": Severity.INFO}
    assert s.fail_on > Severity.ERROR
    assert s.per_file_ignores == {"dev/*.yaml": ["VL99"]}
    assert s.exclude == ["legacy/*"]
    assert s.roles == {"cache": ["redis"], "jobs": ["celery-worker", "celery-beat"]}
    assert s.allow_inline_suppressions == {"VL990": False}
    assert s.config_path == str(path)


def _options_rules() -> RuleSet:
    tunable = dataclasses.replace(
        FLAG_SERVICE, code="VL993", name="test-tunable",
        options_schema={"type": "object", "additionalProperties": False,
                        "properties": {"max-fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}}},
        default_options={"max-fraction": 0.5})
    return RuleSet(list(make_rules()) + [tunable])


def test_rule_options_are_validated_by_the_rule_schema(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rules = _options_rules()
    good = write(tmp_path / "good.yaml", "rules:\n  test-tunable:\n    max-fraction: 0.75\n")
    assert load(good, rules).rule_options == {"VL993": {"max-fraction": 0.75}}
    bad = write(tmp_path / "bad.yaml", "rules:\n  VL993:\n    max-fraction: 2\n")
    assert error_of(bad, rules) == "bad.yaml:3: rules.VL993.max-fraction: 2 is greater than the maximum of 1"
    typo = write(tmp_path / "typo.yaml", "rules:\n  VL993:\n    max-fractoin: 0.5\n")
    assert error_of(typo, rules) == "typo.yaml:3: rules.VL993.max-fractoin: unknown key 'max-fractoin' (did you mean 'max-fraction'?)"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("select: [VL1\n", "{f}:2:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence)"),
        ("ignore: [VL006]\nignore: [VL110]\n", '{f}:2:1: duplicate key "ignore" (first defined at line 1)'),
        ("- VL006\n", "{f}:1: the configuration must be a mapping of keys"),
        ("fail-on: warn\n", "{f}:1: fail-on: 'warn' is not one of error, warning, info, never"),
        ("# top\nselct: [VL0]\n", "{f}:2: selct: unknown key 'selct' (did you mean 'select'?)"),
        ("select: VL0\n", "{f}:1: select: expected a list, got string 'VL0'"),
        ("select:\n  - VL0\n  - test-flag-servce\n",
         "{f}:3: select[1]: unknown rule 'test-flag-servce' (not a rule code, prefix, name or policy id) "
         "(did you mean test-flag-service?)"),
        ("ignore: [VL5]\n", "{f}:1: ignore[0]: unknown rule 'VL5' (not a rule code, prefix, name or policy id)"),
        ("severity:\n  VL990: fatal\n", "{f}:2: severity.VL990: 'fatal' is not one of error, warning, info"),
        ("severity:\n  VL9: error\n", "{f}:2: severity.VL9: unknown rule 'VL9' (severity takes rule codes, names or "
                                      "policy ids) (did you mean VL99"),
        ("rules:\n  VL999: {}\n", "{f}:2: rules.VL999: unknown rule 'VL999' (did you mean VL99"),
        ("rules:\n  VL990: {x: 1}\n", "{f}:2: rules.VL990.x: unknown key 'x' (this rule has no options)"),
        ("roles:\n  cache: redi\n", "{f}:2: roles.cache: 'redi' is not a role or list of roles (redis, celery-worker, "
                                    "celery-beat, flower, none)"),
        ("extends: strict\n", "{f}:1: extends: 'strict' is neither a preset (recommended, production) nor a file "
                              "(no {d}strict)"),
        ("allow-inline-suppressions: maybe\n", "{f}:1: allow-inline-suppressions: 'maybe' is not valid under any of "
                                               "the given schemas"),
        ("per-file-ignores:\n  '*.yml': [VL9X]\n", "{f}:2: per-file-ignores.*.yml[0]: unknown rule 'VL9X'"),
    ],
)
def test_validation_errors_name_file_line_and_key(tmp_path, monkeypatch, text, expected):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "conf" / ".vantage-lint.yaml", text)
    assert error_of(path).startswith(expected.format(f="conf/.vantage-lint.yaml", d="conf/"))


def test_toml_errors_have_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = write(tmp_path / "a" / "pyproject.toml", '[tool.vantage-lint]\nselect = ["VL0"\n')
    assert error_of(broken) == "a/pyproject.toml:2: invalid TOML: Unclosed array"
    wrong = write(tmp_path / "b" / "pyproject.toml", """
        [tool.vantage-lint]
        select = ["VL0"]

        [tool.vantage-lint.rules.VL990]
        colour = "red"
        """)
    assert error_of(wrong) == "b/pyproject.toml:5: rules.VL990.colour: unknown key 'colour' (this rule has no options)"


# --- presets and extends --------------------------------------------------------------------------

def test_production_preset_raises_p_rules_to_error(tmp_path):
    prod_rule = dataclasses.replace(FLAG_SERVICE, code="VL994", name="test-production", production=True)
    rules = RuleSet(list(make_rules()) + [prod_rule])
    compose = write(tmp_path / "compose.yaml", "services:\n  web:\n    image: nginx\n")
    for extends, severity in (("recommended", Severity.WARNING), ("production", Severity.ERROR)):
        config = write(tmp_path / f"{extends}.yaml", f"extends: {extends}\nselect: [VL994, VL990]\n")
        settings = load(config, rules)
        assert settings.preset == extends
        from vantage_lint.engine import Inputs, lint

        report = lint([compose], settings, inputs=Inputs(environ={}), rules=rules)
        assert {f.code: f.severity for f in report.findings} == {"VL994": severity, "VL990": Severity.WARNING}


def test_production_preset_for_catalogue_rules():
    from vantage_lint.registry import load_rules
    from vantage_lint.settings import Settings

    marked = [r for r in load_rules() if r.production]
    if not marked:
        pytest.skip("no rule marked P is registered yet")
    for rule in marked:
        assert Settings(preset="production").severity_for(rule) == Severity.ERROR
        assert Settings().severity_for(rule) == rule.severity


def test_extends_a_file(tmp_path):
    write(tmp_path / "team" / "base.yaml", """
        extends: production
        ignore: [VL006]
        severity: {VL990: info}
        fail-on: error
        policies:
          - id: XTEAM001
            message: "service {service} has no image"
            schema: {required: [image]}
        """)
    child = write(tmp_path / "app" / ".vantage-lint.yaml", """
        extends: ../team/base.yaml
        ignore: [VL991]
        severity: {VL991: error}
        fail-on: warning
        """)
    settings = load(child)
    assert settings.preset == "production"
    assert settings.ignore == ["VL006", "VL991"]
    assert settings.severity == {"VL990": Severity.INFO, "VL991": Severity.ERROR}
    assert settings.fail_on == Severity.WARNING
    assert [p.code for p in settings.policies] == ["XTEAM001"]


def test_extends_loop(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    assert "extends loop: a.yaml -> b.yaml -> a.yaml" in error_of(tmp_path / "a.yaml")


# --- custom policies ------------------------------------------------------------------------------

POLICIES = """
    select: [XACME]
    policies:
      - id: XACME001
        name: owner-label-missing
        message: "service {service} has no com.example.owner label"
        hint: Add the label com.example.owner naming the team that owns the service.
        severity: error
        schema:
          type: object
          required: [labels]
          properties:
            labels:
              type: object
              required: [com.example.owner]
      - id: XACME002
        message: "service {service}: image {value} is not from registry.example.com"
        hint: Push the image to registry.example.com and use it from there.
        schema:
          properties:
            image: {type: string, pattern: "^registry\\\\.example\\\\.com/"}
    """


def test_policy_examples(tmp_path):
    config = write(tmp_path / ".vantage-lint.yaml", POLICIES)
    compose = write(tmp_path / "compose.yaml", """
        services:
          ok:
            image: registry.example.com/team/api:1.2
            labels:
              com.example.owner: payments
          listed:
            image: registry.example.com/team/worker:1.2
            labels: ["com.example.owner=payments"]
          nolabels:
            image: docker.io/library/redis:7.2
          otherlabel:
            image: registry.example.com/x:1
            labels:
              com.example.team: payments
        """)
    report = lint_test([compose], load(config))
    found = [(f.code, f.name, f.severity.label, f.service, f.span.line, f.span.column, f.message) for f in report.findings]
    assert found == [
        ("XACME001", "owner-label-missing", "error", "nolabels", 9, 3, "service nolabels has no com.example.owner label"),
        ("XACME002", "policy-xacme002", "warning", "nolabels", 10, 12,
         "service nolabels: image docker.io/library/redis:7.2 is not from registry.example.com"),
        ("XACME001", "owner-label-missing", "error", "otherlabel", 13, 5,
         "service otherlabel has no com.example.owner label"),
    ]
    assert report.findings[0].hint == "Add the label com.example.owner naming the team that owns the service."


def test_policy_filters_selection_and_severity(tmp_path):
    config = write(tmp_path / ".vantage-lint.yaml", """
        select: [XACME, VL990]
        ignore: [no-image-latest]
        severity: {XACME003: error}
        policies:
          - id: XACME003
            message: "{service} must set read_only"
            roles: redis
            services: ["cache*"]
            schema: {required: [read_only]}
          - id: XACME004
            name: no-image-latest
            message: never reported
            schema: false
        """)
    compose = write(tmp_path / "compose.yaml", """
        services:
          cache:
            image: redis:7.2
          cache-b:
            image: redis:7.2
            read_only: true
          api:
            image: nginx:1.25
          sessions:
            image: redis:7.2
        """)
    report = lint_test([compose], load(config))
    policy = [(f.code, f.service, f.severity.label) for f in report.findings if f.code.startswith("X")]
    assert policy == [("XACME003", "cache", "error")]


def test_policy_on_redis_config(tmp_path):
    config = write(tmp_path / ".vantage-lint.yaml", """
        select: [XACME]
        policies:
          - id: XACME010
            target: redis-config
            message: "redis.conf must set {path}"
            schema:
              required: [maxmemory, appendonly]
              properties:
                appendonly: {const: "yes"}
        """)
    conf = write(tmp_path / "redis.conf", "maxmemory 100mb\nappendonly no\n")
    report = lint_test([conf], load(config))
    assert [(f.code, f.span.line, f.message) for f in report.findings] == [
        ("XACME010", 2, "redis.conf must set appendonly")]


@pytest.mark.parametrize(
    "policy,expected",
    [
        ("{id: XACME001, message: m, schema: {type: strin}}",
         "{f}:3: policies[0].schema: policy XACME001: invalid JSON Schema: 'strin' is not valid under any of the given schemas"),
        ("{id: XACME001, message: m, schema: {properties: {image: {pattern: '(['}}}}",
         "{f}:3: policies[0].schema: policy XACME001: invalid JSON Schema: '([' is not a 'regex'"),
        ("{id: ACME001, message: m, schema: {}}",
         "{f}:3: policies[0].id: 'ACME001' is not a policy id: X + 1-4 capital letters + 3 digits (e.g. XACME001)"),
        ("{id: XACME001, message: 'm {servce}', schema: {}}",
         "{f}:3: policies[0].message: policy XACME001: unknown placeholder {{servce}}; use {{service}}, {{error}}, "
         "{{path}}, {{value}}"),
        ("{id: XACME001, schema: {}}", "{f}:3: policies[0]: 'message' is required"),
        ("{id: XACME001, message: m, target: redis-config, roles: redis, schema: {}}",
         "{f}:3: policies[0].roles: policy XACME001: roles filter services only"),
        ("{id: XACME001, name: test-flag-service, message: m, schema: {}}",
         "{f}:3: policies[0].name: 'test-flag-service' is already the name of rule VL990"),
    ],
)
def test_bad_policies(tmp_path, monkeypatch, policy, expected):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / ".vantage-lint.yaml", f"# policies\npolicies:\n  - {policy}\n")
    assert error_of(path).startswith(expected.format(f=".vantage-lint.yaml"))


# --- the command line: exit 2 and one clear line ----------------------------------------------------

@pytest.mark.parametrize(
    "config,expected",
    [
        ("select: [VL1\n", "vantage-lint: error: .vantage-lint.yaml:2:1: YAML syntax error:"),
        ("select: [root-usr]\n", "vantage-lint: error: .vantage-lint.yaml:1: select[0]: unknown rule 'root-usr'"),
        ("policies:\n  - id: XACME001\n    message: m\n    schema: {type: [1]}\n",
         "vantage-lint: error: .vantage-lint.yaml:4: policies[0].schema: policy XACME001: invalid JSON Schema:"),
    ],
)
def test_cli_config_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys, config, expected):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".vantage-lint.yaml", config)
    write(tmp_path / "compose.yaml", "services:\n  web:\n    image: nginx:1.25\n")
    assert main(["compose.yaml"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines
