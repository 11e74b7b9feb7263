"""The language server end to end with pytest-lsp: a real client talks to `python -m
vantage_lint.lsp` over stdio."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DISK = "services:\n  redis:\n    image: redis:7.2\n"
# the editor's unsaved text: the obsolete version key is in the buffer only
EDITED = 'version: "3.8"\n' + DISK
OVERRIDE = "services:\n  redis:\n    restart: always\n"
CONFIG = "select: [VL006, VL107, VL003]\nfail-on: info\n"

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "vantage_lint.lsp"],
                            server_env={**os.environ, "PYTHONPATH": str(ROOT), "VANTAGE_LINT_NO_CACHE": "1"})


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    root = Path(tempfile.mkdtemp(prefix="vl-lsp-"))
    (root / "compose.yaml").write_text(DISK)
    # the override sets a value VL107 reports: the finding is published for the override, which
    # the editor never opened (a missing key would be reported at the base's definition)
    (root / "compose.override.yaml").write_text('services:\n  redis:\n    image: redis:7.2\n    restart: "no"\n')
    (root / ".vantage-lint.yaml").write_text(CONFIG)
    lsp_client.root = root  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # the server asks to watch its config
        lsp_client.registrations = params.registrations  # type: ignore[attr-defined]

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=from_fs_path(str(root)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="stack")],
    ))
    yield
    await lsp_client.shutdown_session()


async def _until(predicate, timeout: float = 30.0):
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for the server")


def _codes(client: LanguageClient, uri: str) -> list[str]:
    return sorted(str(d.code) for d in client.diagnostics.get(uri, []))


def _open(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text)))


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)

    def offset(p: types.Position) -> int:  # ASCII text: UTF-16 units are characters
        return sum(len(line) for line in lines[: p.line]) + p.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


@pytest.mark.asyncio
async def test_diagnostics_code_action_and_hover(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    uri = from_fs_path(str(root / "compose.yaml"))
    override = from_fs_path(str(root / "compose.override.yaml"))
    _open(client, uri, EDITED)

    # the unsaved buffer is linted (VL006 exists only there), the whole project is published
    await _until(lambda: "VL006" in _codes(client, uri))
    assert _codes(client, uri) == ["VL006"]
    vl006 = next(d for d in client.diagnostics[uri] if d.code == "VL006")
    assert vl006.range.start == types.Position(0, 0) and vl006.range.end.line == 0
    assert vl006.severity == types.DiagnosticSeverity.Information and vl006.source == "vantage-lint"
    assert vl006.code_description is not None and "vl006" in vl006.code_description.href
    # a file of the project the editor never opened: the value it sets is reported there
    await _until(lambda: _codes(client, override) == ["VL107"])

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 2)))
    assert hover is not None and "VL006" in hover.contents.value and "Fix" in hover.contents.value

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=vl006.range,
        context=types.CodeActionContext(diagnostics=[vl006])))
    (action,) = [a for a in actions if a.title.startswith("VL006")]
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    fixed = _apply(EDITED, action.edit.changes[uri])
    assert fixed == DISK

    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await _until(lambda: "VL006" not in _codes(client, uri))
    assert _codes(client, uri) == []


@pytest.mark.asyncio
async def test_unsafe_fix_is_labelled_and_config_reloads(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    _open(client, from_fs_path(str(root / "compose.yaml")), DISK)
    uri = from_fs_path(str(root / "compose.override.yaml"))
    await _until(lambda: "VL107" in _codes(client, uri))
    assert any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in client.registrations)
    vl107 = next(d for d in client.diagnostics[uri] if d.code == "VL107")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=vl107.range,
        context=types.CodeActionContext(diagnostics=[vl107])))
    (action,) = actions  # VL107's fix (add a restart policy) is unsafe: offered, labelled, not preferred
    assert action.title.startswith("VL107") and "unsafe" in action.title and not action.is_preferred
    assert "unless-stopped" in action.edit.changes[uri][0].new_text

    # the workspace configuration changes on disk: the server lints again with it
    (root / ".vantage-lint.yaml").write_text("select: [VL006]\n")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=from_fs_path(str(root / ".vantage-lint.yaml")), type=types.FileChangeType.Changed)]))
    await _until(lambda: uri in client.diagnostics and not client.diagnostics[uri])

    # a broken configuration is reported on the config file, not a crash
    (root / ".vantage-lint.yaml").write_text("select: VL006\nbogus-key: 1\n")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=from_fs_path(str(root / ".vantage-lint.yaml")), type=types.FileChangeType.Changed)]))
    config = from_fs_path(str(root / ".vantage-lint.yaml"))
    await _until(lambda: client.diagnostics.get(config))
    assert client.diagnostics[config][0].severity == types.DiagnosticSeverity.Error


def test_missing_extra_is_one_line(tmp_path):
    code = ("import sys; sys.modules['pygls'] = None\n"
            "from vantage_lint.lsp.main import main; raise SystemExit(main([]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "vantage-lint[lsp]" in done.stderr
