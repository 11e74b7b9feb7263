"""Rule sets for the suppression, baseline and format tests: the input/meta rules plus tiny
test rules that flag every service and every redis.conf directive, so the tests do not
depend on what the catalogue rules report."""

from __future__ import annotations

import importlib
from pathlib import Path

from vantage_lint.engine import Inputs, Report, lint
from vantage_lint.findings import Edit, Severity
from vantage_lint.registry import Rule, RuleSet, collected_rules
from vantage_lint.settings import Settings

CORE_MODULES = ("vantage_lint.rules.meta", "vantage_lint.rules.input_compose")


def _flag_service(service, ctx):
    yield ctx.finding(service.key_span, f"service {service.name!r} is flagged")


def _flag_image(service, ctx):
    node = service.get("image")
    if node is not None:
        yield ctx.finding(node.span, f"service {service.name!r} uses image {service.text('image')!r}")


def _flag_directive(conf, ctx):
    for directive in conf.directives:
        yield ctx.finding(directive.span, f"directive {directive.name} is flagged")


def _rule(code: str, name: str, scope: str, check) -> Rule:
    return Rule(code=code, name=name, summary="Test rule.", severity=Severity.WARNING, scope=scope,
                check=check, doc="", hint="Do what the test says.")


FLAG_SERVICE = _rule("VL990", "test-flag-service", "service", _flag_service)
FLAG_IMAGE = _rule("VL991", "test-flag-image", "service", _flag_image)
FLAG_DIRECTIVE = _rule("VL992", "test-flag-directive", "redis", _flag_directive)
TEST_CODES = ["VL001", "VL006", "VL007", "VL008", "VL990", "VL991", "VL992"]


def make_rules() -> RuleSet:
    for module in CORE_MODULES:
        importlib.import_module(module)
    core = {r.code: r for r in collected_rules() if r.check.__module__ in CORE_MODULES}
    return RuleSet(list(core.values()) + [FLAG_SERVICE, FLAG_IMAGE, FLAG_DIRECTIVE])


def lint_test(paths, settings: Settings | None = None, *, stdin: str | None = None,
              stdin_filename: str | None = None) -> Report:
    settings = settings or Settings()
    if settings.select == ["ALL"]:
        settings.select = list(TEST_CODES)
    inputs = Inputs(environ={}, stdin_text=stdin, stdin_filename=stdin_filename)
    return lint([Path(p) for p in paths], settings, inputs=inputs, rules=make_rules())


def apply_edits(text: str, edits: list[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.content + text[edit.end :]
    return text
