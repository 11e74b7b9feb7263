"""The edit helpers: each returns one splice that keeps the file's style and everything else."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vantage_lint import edits as E
from vantage_lint.compose.nodes import MapNode, Node, child
from vantage_lint.compose.yaml_loader import parse_yaml
from vantage_lint.findings import Applicability, Edit, Fix
from vantage_lint.redis.config import parse_redis_config
from vantage_lint.source import SourceFile, decode
from tests.helpers import run


def load(text: str, path: str = "compose.yml") -> tuple[SourceFile, MapNode]:
    source = decode(textwrap.dedent(text).lstrip("\n").encode(), path)
    root = parse_yaml(source).root
    assert isinstance(root, MapNode)
    return source, root


def applied(source: SourceFile, edit: Edit | None) -> str:
    assert edit is not None
    out = source.text[: edit.start] + edit.content + source.text[edit.end :]
    assert not parse_yaml(decode(out.encode(), source.path)).problems, out
    return out


def svc(root: MapNode, *path: str | int) -> Node:
    node = child(root, "services", *path)
    assert node is not None
    return node


BLOCK = """
    services:
      redis:  # the broker
        image: redis:7.2
        ports:
          - "6379:6379"   # local only
        command: |
          redis-server
          # a line of the script, not a comment

      worker: {image: "app:1", depends_on: [redis]}
    """


class TestInsertKey:
    def test_block_mapping_after_last_entry(self):
        source, root = load(BLOCK)
        out = applied(source, E.insert_key_edit(source, svc(root, "redis"), "restart", "unless-stopped"))
        assert "      # a line of the script, not a comment\n    restart: unless-stopped\n\n  worker:" in out

    def test_flow_mapping(self):
        source, root = load(BLOCK)
        out = applied(source, E.insert_key_edit(source, svc(root, "worker"), "restart", "unless-stopped"))
        assert '  worker: {image: "app:1", depends_on: [redis], restart: unless-stopped}\n' in out

    def test_nested_value_block_and_flow(self):
        source, root = load(BLOCK)
        value = {"options": {"max-size": E.quote(source, "10m")}}
        out = applied(source, E.insert_key_edit(source, svc(root, "redis"), "logging", value))
        assert '    logging:\n      options:\n        max-size: "10m"\n' in out
        out = applied(source, E.insert_key_edit(source, svc(root, "worker"), "logging", value))
        assert 'logging: {options: {max-size: "10m"}}}' in out

    def test_several_keys_are_one_edit(self):
        source, root = load(BLOCK)
        edit = E.insert_keys_edit(source, svc(root, "redis"), {"restart": "always", "init": "true"})
        assert applied(source, edit).count("\n    restart: always\n    init: true\n") == 1

    def test_existing_key_is_not_inserted_again(self):
        source, root = load(BLOCK)
        assert E.insert_key_edit(source, svc(root, "redis"), "image", "redis:7.4") is None

    def test_crlf_file_stays_crlf(self):
        source = decode(b"services:\r\n  redis:\r\n    image: redis:7.2\r\n", "compose.yml")
        root = parse_yaml(source).root
        out = applied(source, E.insert_key_edit(source, child(root, "services", "redis"), "restart", "always"))
        assert out == "services:\r\n  redis:\r\n    image: redis:7.2\r\n    restart: always\r\n"

    def test_file_without_final_newline(self):
        source = decode(b"services:\n  redis:\n    image: redis:7.2", "compose.yml")
        root = parse_yaml(source).root
        out = applied(source, E.insert_key_edit(source, child(root, "services", "redis"), "restart", "always"))
        assert out == "services:\n  redis:\n    image: redis:7.2\n    restart: always\n"

    def test_four_space_indentation_and_single_quotes(self):
        source, root = load("""
            services:
                redis:
                    image: 'redis:7.2'
                    logging:
                        driver: 'json-file'
            """)
        logging = svc(root, "redis", "logging")
        out = applied(source, E.insert_key_edit(source, logging, "options", {"max-size": E.quote(source, "10m")}))
        assert "            driver: 'json-file'\n            options:\n                max-size: '10m'\n" in out

    def test_indentless_sequences_are_followed(self):
        source, root = load("""
            services:
              api:
                ports:
                - "80:80"
                image: app:1
            """)
        out = applied(source, E.insert_key_edit(source, svc(root, "api"), "security_opt", ["no-new-privileges:true"]))
        assert out.endswith("    image: app:1\n    security_opt:\n    - no-new-privileges:true\n")

    def test_merged_keys_do_not_count_as_written(self):
        source, root = load("""
            x-base: &base
              restart: "no"
            services:
              api:
                <<: *base
                image: app:1
              # comment that belongs to the next service
              db:
                <<: *base
            """)
        api = svc(root, "api")
        out = applied(source, E.insert_key_edit(source, api, "restart", "unless-stopped"))
        assert "    image: app:1\n    restart: unless-stopped\n  # comment that belongs" in out
        db = svc(root, "db")
        out = applied(source, E.insert_key_edit(source, db, "restart", "unless-stopped"))
        assert out.endswith("    <<: *base\n    restart: unless-stopped\n")

    def test_anchored_mapping_uses_its_keys_column(self):
        source, root = load("""
            x-logging: &logging
              driver: json-file
            services: {}
            """)
        out = applied(source, E.insert_key_edit(source, child(root, "x-logging"), "options", "{}"))
        assert "x-logging: &logging\n  driver: json-file\n  options: {}\nservices" in out

    def test_empty_flow_mapping(self):
        source, root = load("services:\n  api: {}\n")
        value = E.scalar_text(source, "app:1", flow=True)
        out = applied(source, E.insert_key_edit(source, svc(root, "api"), "image", value))
        assert out == 'services:\n  api: {image: "app:1"}\n'

    def test_key_needing_quotes(self):
        source, root = load("services:\n  api:\n    image: x\n")
        out = applied(source, E.insert_key_edit(source, svc(root, "api"), "1", "x"))
        assert out.endswith('    "1": x\n')

    def test_replace_in_flow_quotes_colons(self):
        source, root = load("services:\n  api: {image: app}\n")
        out = applied(source, E.replace_scalar_edit(source, svc(root, "api", "image"), "app:1"))
        assert out == 'services:\n  api: {image: "app:1"}\n'


class TestSequences:
    def test_block_append_keeps_comment(self):
        source, root = load(BLOCK)
        out = applied(source, E.append_seq_item_edit(source, svc(root, "redis", "ports"), E.quote(source, "6380")))
        assert '      - "6379:6379"   # local only\n      - "6380"\n' in out

    def test_flow_append(self):
        source, root = load(BLOCK)
        out = applied(source, E.append_seq_item_edit(source, svc(root, "worker", "depends_on"), "db"))
        assert "depends_on: [redis, db]" in out

    def test_append_mapping_item(self):
        source, root = load(BLOCK)
        out = applied(source, E.append_seq_item_edit(source, svc(root, "redis", "ports"), {"target": "6380", "published": "6380"}))
        assert '      - target: 6380\n        published: 6380\n' in out


class TestReplaceAndDelete:
    def test_replace_keeps_quotes(self):
        source, root = load('services:\n  a:\n    restart: "no"\n    image: x\n')
        out = applied(source, E.replace_scalar_edit(source, svc(root, "a", "restart"), "always"))
        assert 'restart: "always"' in out

    def test_replace_plain_quotes_when_needed(self):
        source, root = load("services:\n  a:\n    image: redis\n")
        out = applied(source, E.replace_scalar_edit(source, svc(root, "a", "image"), "123"))
        assert 'image: "123"' in out

    def test_replace_value_with_block_keeps_key_comment(self):
        source, root = load("""
            services:
              api:
                depends_on:  # wait for these
                  - redis
                image: app:1
            """)
        value = {"redis": {"condition": "service_healthy"}}
        out = applied(source, E.replace_value_edit(source, svc(root, "api"), "depends_on", value))
        assert "depends_on:  # wait for these\n      redis:\n        condition: service_healthy\n    image" in out

    def test_replace_flow_value_under_block_key(self):
        source, root = load("services:\n  api:\n    depends_on: [redis]\n    image: app:1\n")
        out = applied(source, E.replace_value_edit(source, svc(root, "api"), "depends_on", {"redis": {"condition": "service_healthy"}}))
        assert out == "services:\n  api:\n    depends_on:\n      redis:\n        condition: service_healthy\n    image: app:1\n"

    def test_replace_null_value(self):
        source, root = load("services:\n  api:\n    image: app:1\n    logging:\n")
        out = applied(source, E.replace_value_edit(source, svc(root, "api"), "logging", {"driver": "local"}))
        assert out.endswith("    logging:\n      driver: local\n")

    def test_anchored_value_is_not_replaced(self):
        source, root = load("x: &deps [redis]\nservices:\n  api:\n    depends_on: *deps\n")
        assert E.replace_value_edit(source, svc(root, "api"), "depends_on", "[db]") is None

    def test_delete_block_key_with_its_comments(self):
        source, root = load("""
            services:
              api:
                image: app:1
                healthcheck:
                  test: ["CMD", "true"]
                  # about the test
                restart: always  # keep
            """)
        out = applied(source, E.delete_key_edit(source, svc(root, "api"), "healthcheck"))
        assert out == "services:\n  api:\n    image: app:1\n    restart: always  # keep\n"

    def test_delete_flow_key(self):
        source, root = load("services:\n  api: {image: app, init: true}\n")
        assert applied(source, E.delete_key_edit(source, svc(root, "api"), "init")) == "services:\n  api: {image: app}\n"
        assert applied(source, E.delete_key_edit(source, svc(root, "api"), "image")) == "services:\n  api: {init: true}\n"

    def test_delete_last_key_is_refused(self):
        source, root = load("services:\n  api:\n    image: app:1\n")
        assert E.delete_key_edit(source, svc(root, "api"), "image") is None


class TestRedis:
    def conf(self, text: str, tmp_path: Path):
        path = tmp_path / "redis.conf"
        path.write_bytes(text.encode())
        source = decode(path.read_bytes(), "redis.conf")
        source.real_path = path
        return source, parse_redis_config(source)

    def splice(self, source: SourceFile, edit: Edit | None) -> str:
        assert edit is not None
        return source.text[: edit.start] + edit.content + source.text[edit.end :]

    def test_set_edits_the_effective_line(self, tmp_path):
        source, conf = self.conf("# AOF\nappendonly no\n# later\nAPPENDONLY  no\nport 6379\n", tmp_path)
        out = self.splice(source, E.set_directive_edit(conf, "appendonly", "yes"))
        assert out == "# AOF\nappendonly no\n# later\nAPPENDONLY  yes\nport 6379\n"

    def test_set_appends_missing_directive_crlf(self, tmp_path):
        source, conf = self.conf("port 6379\r\n# end", tmp_path)
        out = self.splice(source, E.set_directive_edit(conf, "appendonly", "yes"))
        assert out == "port 6379\r\n# end\r\nappendonly yes\r\n"

    def test_set_same_value_is_no_edit(self, tmp_path):
        _source, conf = self.conf("appendonly yes\n", tmp_path)
        assert E.set_directive_edit(conf, "appendonly", "yes") is None

    def test_rename_keeps_arguments(self, tmp_path):
        source, conf = self.conf("  slaveof 10.0.0.1 6379\n", tmp_path)
        directive = conf.get("replicaof")
        out = self.splice(source, E.rename_directive_edit(directive, "replicaof"))
        assert out == "  replicaof 10.0.0.1 6379\n"

    def test_delete_directive_line(self, tmp_path):
        source, conf = self.conf("# keep\nport 6379\nappendonly no\n", tmp_path)
        out = self.splice(source, E.delete_directive_edit(conf.get("port")))
        assert out == "# keep\nappendonly no\n"


class TestSharing:
    def project(self, tmp_path: Path, text: str):
        (tmp_path / "compose.yml").write_text(textwrap.dedent(text).lstrip("\n"))
        from vantage_lint.compose.project import load_project
        from vantage_lint.source import read_source

        return load_project([tmp_path / "compose.yml"], reader=lambda p: read_source(p, p.name), environ={})

    def test_anchor_merge_and_extends(self, tmp_path):
        project = self.project(tmp_path, """
            x-log: &log
              driver: json-file
            services:
              a:
                image: x
                logging: *log
                environment: {A: "1"}
              b:
                <<: {image: x}
                logging: *log
              c:
                extends: a
              d:
                image: y
                restart: always
            """)
        logging = project.services["a"].get("logging")
        assert E.sharing_services(project, logging) == ["a", "b", "c"]
        assert E.edit_is_shared(project, logging)
        assert not E.edit_is_shared(project, project.services["d"].get("restart"))
        assert not E.edit_is_shared(project, project.services["c"].node)  # extends gives c its own mapping
        assert "shared by services" in E.sharing_note(project, logging)

    def test_included_and_extends_files_may_serve_other_projects(self, tmp_path):
        (tmp_path / "part.yml").write_text("services:\n  cache:\n    image: redis:7.2\n")
        (tmp_path / "base.yml").write_text("services:\n  common:\n    image: app:1\n    init: true\n")
        project = self.project(tmp_path, """
            include: [part.yml]
            services:
              api:
                extends: {file: base.yml, service: common}
            """)
        cache = project.services["cache"]
        assert E.edit_is_shared(project, cache.node)
        assert not E.edit_is_shared(project, project.services["api"].node)
        init = project.services["api"].get("init")
        assert E.edit_is_shared(project, init)
        assert "may serve other projects" in E.sharing_note(project, init)

    def test_guard_fix(self, tmp_path):
        project = self.project(tmp_path, """
            x-log: &log
              driver: json-file
            services:
              a: {image: x, logging: *log}
              b: {image: x, logging: *log}
              c: {image: x}
            """)
        node = project.services["a"].get("logging")
        safe = Fix("t", (Edit("compose.yml", 0, 0, "x"),), Applicability.SAFE)
        unsafe = Fix("t", safe.edits, Applicability.UNSAFE)
        assert E.guard_fix(project, node, safe, lambda name: True) == (safe, "")
        fix, note = E.guard_fix(project, node, safe, lambda name: name == "a")
        assert fix is not None and fix.applicability is Applicability.UNSAFE and "shared" in note
        fix, note = E.guard_fix(project, node, unsafe)
        assert fix is None and "not fixed automatically" in note
        own = project.services["c"].node
        assert E.guard_fix(project, own, unsafe) == (unsafe, "")


@pytest.mark.parametrize("text", ["10m", "unless-stopped", "no-new-privileges:true", "a b"])
def test_plain_strings(text):
    assert E.plain_ok(text)


@pytest.mark.parametrize("text", ["", "3", "true", "null", "1.5", " x", "a: b", "#x", "*x", "-", "{a}", "x #y"])
def test_strings_that_need_quotes(text):
    assert not E.plain_ok(text)


def test_quote_escapes():
    source = decode(b"a: 'x'\n", "c.yml")
    assert E.quote(source, "it's") == "'it''s'"
    assert E.quote(source, 'say "hi"', '"') == '"say \\"hi\\""'


def test_helpers_are_used_by_rules(tmp_path):
    """A rule fix built from the helpers is applied the same way as the fixer will."""
    (tmp_path / "compose.yml").write_text("services:\n  api:\n    image: app:1.0\n")
    report = run([tmp_path / "compose.yml"], select=["VL107"])
    fixes = [f.fix for f in report.findings if f.fix is not None]
    assert fixes and fixes[0].edits[0].content == "    restart: unless-stopped\n"
