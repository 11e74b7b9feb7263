"""A required env_file that the repository keeps out (a `.env` with its template beside it) is
the deployment's setup step, said at info; any other missing env_file is Compose's refusal."""

from pathlib import Path

from tests.helpers import run

COMPOSE = """\
services:
  web:
    image: nginx:1.27
    env_file: .env.prod
  api:
    image: nginx:1.27
    env_file: settings.txt
"""


def _vl003(folder: Path) -> list[tuple[int, str, str]]:
    report = run([folder], select=["VL003"])
    return [(f.span.line, f.severity.label, f.message) for f in report.findings]


def test_env_file_with_a_template_is_info_and_others_are_errors(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".env.prod.example").write_text("SECRET=\n")
    found = _vl003(tmp_path)
    assert [(line, level) for line, level, _ in found] == [(4, "info"), (7, "error")], found
    assert ".env.prod.example is its template" in found[0][2]


def test_env_file_without_a_template_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    assert [(line, level) for line, level, _ in _vl003(tmp_path)] == [(4, "error"), (7, "error")]
