"""The LSP side: diagnostics on open/change/save for every file of the project, code actions
from fixes (unsafe ones labelled), hover with the rule's documentation, and a re-lint when the
configuration changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from vantage_lint import __version__
from vantage_lint.findings import Applicability, Finding, Severity
from vantage_lint.lsp.project import LintRun, absolute, lint_project, project_root
from vantage_lint.secrets import redact

SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
            Severity.INFO: types.DiagnosticSeverity.Information}
CONFIG_GLOBS = ("**/.vantage-lint.yaml", "**/.vantage-lint.yml", "**/vantage-lint.yaml", "**/pyproject.toml")


@dataclass(slots=True)
class Published:
    diagnostic: types.Diagnostic
    finding: Finding | None
    root: Path


class VantageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("vantage-lint-lsp", __version__)
        # uri -> what was last published for it (code actions and hover read this)
        self.published: dict[str, list[Published]] = {}
        self.runs: dict[Path, LintRun] = {}

    # --- positions --------------------------------------------------------------------------
    def _range(self, text: str, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
        """1-based code-point (line, column) pairs -> an LSP range in the client's encoding."""
        if end < start:
            end = start
        lines = text.splitlines(keepends=True) or [""]
        internal = types.Range(types.Position(max(start[0] - 1, 0), max(start[1] - 1, 0)),
                               types.Position(max(end[0] - 1, 0), max(end[1] - 1, 0)))
        return self.workspace.position_codec.range_to_client_units(lines, internal)

    def _offset_range(self, text: str, start: int, end: int) -> types.Range:
        def position(offset: int) -> tuple[int, int]:
            offset = max(0, min(offset, len(text)))
            line_start = text.rfind("\n", 0, offset) + 1
            return text.count("\n", 0, offset) + 1, offset - line_start + 1

        return self._range(text, position(start), position(end))

    # --- diagnostics ------------------------------------------------------------------------
    def roots(self) -> list[Path]:
        folders = [Path(to_fs_path(f.uri) or "") for f in self.workspace.folders.values()]
        if not folders and self.workspace.root_path:
            folders = [Path(self.workspace.root_path)]
        return [f.absolute() for f in folders if str(f)]

    def overlay(self) -> dict[Path, str]:
        texts: dict[Path, str] = {}
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path:
                texts[Path(path)] = document.source
        return texts

    def lint_for(self, uri: str) -> None:
        path = to_fs_path(uri)
        if not path:
            return
        self.lint_root(project_root(Path(path).absolute(), self.roots()))

    def lint_root(self, root: Path) -> None:
        run = lint_project(root, self.overlay())
        previous = self.runs.get(root)
        self.runs[root] = run
        fresh: dict[str, list[Published]] = {}
        if run.error is not None:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"vantage-lint: {run.error}"))
            where = run.config_file
            if where is not None:
                diagnostic = types.Diagnostic(range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                                              message=redact(run.error), severity=types.DiagnosticSeverity.Error,
                                              source="vantage-lint")
                fresh[from_fs_path(where) or where] = [Published(diagnostic, None, root)]
        for path in run.files:
            fresh.setdefault(from_fs_path(path) or path, [])
        for path, findings in run.findings.items():
            text = run.texts.get(path, "")
            fresh[from_fs_path(path) or path] = [Published(self._diagnostic(f, text), f, root) for f in findings]
        stale = set()
        if previous is not None:
            stale = {from_fs_path(p) or p for p in previous.files} | ({from_fs_path(previous.config_file)}
                                                                      if previous.config_file else set())
        for uri in stale - set(fresh):
            fresh[uri] = []
        for uri, items in fresh.items():
            self.published[uri] = items
            version = self.workspace.text_documents[uri].version if uri in self.workspace.text_documents else None
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[item.diagnostic for item in items], version=version))

    def _diagnostic(self, f: Finding, text: str) -> types.Diagnostic:
        from vantage_lint.docs import rule_url

        span = f.span
        rule = self.rule(f.code)
        message = redact(f.message) + (f" (service {f.service})" if f.service and f.service not in f.message else "")
        if f.hint:
            message += f"\nFix: {redact(f.hint)}"
        href = rule_url(rule) if rule is not None and "policy" not in rule.tags else None
        return types.Diagnostic(
            range=self._range(text, (span.line, span.column), (span.end_line, span.end_column)),
            message=message, severity=SEVERITY[f.severity], code=f.code, source="vantage-lint",
            code_description=types.CodeDescription(href=href) if href else None)

    def rule(self, code: str):
        from vantage_lint.report import rule_of

        for run in self.runs.values():
            if run.report is not None:
                return rule_of(run.report, code)  # type: ignore[arg-type]
        from vantage_lint.registry import load_rules

        return load_rules().by_code.get(code)

    # --- code actions and hover ---------------------------------------------------------------
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        actions = []
        for item in self.published.get(params.text_document.uri, []):
            f = item.finding
            if f is None or f.fix is None or not f.fix.edits or not _overlaps(item.diagnostic.range, params.range):
                continue
            run = self.runs.get(item.root)
            changes: dict[str, list[types.TextEdit]] = {}
            for edit in f.fix.edits:
                path = absolute(item.root, edit.path)
                text = run.texts.get(path) if run is not None else None
                if text is None:  # the fix edits a file this run did not read: offer nothing
                    break
                changes.setdefault(from_fs_path(path) or path, []).append(
                    types.TextEdit(range=self._offset_range(text, edit.start, edit.end), new_text=edit.content))
            else:
                unsafe = f.fix.applicability is Applicability.UNSAFE
                title = f"{f.code}: {f.fix.title}" + (" (unsafe fix: changes behaviour)" if unsafe else "")
                actions.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix,
                                                diagnostics=[item.diagnostic], is_preferred=not unsafe,
                                                edit=types.WorkspaceEdit(changes=changes)))
        return actions

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        from vantage_lint.docs import rule_markdown

        parts: list[str] = []
        for item in self.published.get(params.text_document.uri, []):
            if item.finding is None or not _contains(item.diagnostic.range, params.position):
                continue
            rule = self.rule(item.finding.code)
            doc = rule_markdown(rule, level=3) if rule is not None else f"### {item.finding.code}"
            if doc not in parts:
                parts.append(doc)
        if not parts:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


def _overlaps(a: types.Range, b: types.Range) -> bool:
    key = lambda p: (p.line, p.character)  # noqa: E731
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _contains(r: types.Range, p: types.Position) -> bool:
    key = lambda q: (q.line, q.character)  # noqa: E731
    return key(r.start) <= key(p) <= key(r.end)


def build_server() -> VantageServer:
    server = VantageServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: VantageServer, params: types.InitializedParams) -> None:
        watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watched and watched.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=g) for g in CONFIG_GLOBS])
            ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="vantage-lint-config", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options)]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: VantageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.lint_for(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: VantageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.lint_for(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: VantageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.lint_for(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: VantageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.lint_for(params.text_document.uri)  # the file on disk replaces the unsaved text

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: VantageServer, params: types.DidChangeWatchedFilesParams) -> None:
        for root in list(ls.runs):
            ls.lint_root(root)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: VantageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: VantageServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params)

    return server
