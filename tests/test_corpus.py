"""The real-world corpus: every compose file and redis.conf loads with no traceback.

Skipped only when ``../shared/corpus`` is absent. The findings-per-code summary is printed
(``pytest -s`` or on failure) so that a sudden jump in one rule is visible.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys

import pytest

from tests.conftest import CORPUS

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")


def test_corpus_lints_without_error(capsys):
    result = subprocess.run(
        [sys.executable, "-m", "vantage_lint", "--format", "json", "--isolated",
         str(CORPUS / "realworld"), str(CORPUS / "redisconf")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    counts = collections.Counter(f["code"] for f in report["findings"])
    with capsys.disabled():
        print(f"\ncorpus: {report['summary']['files']} files, {len(report['findings'])} findings")
        print("  " + ", ".join(f"{code}={n}" for code, n in sorted(counts.items())))
    assert report["summary"]["files"] > 100
    for finding in report["findings"]:
        assert finding["line"] >= 1 and finding["column"] >= 1
        assert finding["hint"].endswith(".")


def test_templates_and_foreign_files_get_a_finding():
    """Files that are not what their name claims (Jinja templates, rspamd's redis.conf) are reported."""
    mailu = CORPUS / "realworld" / "Mailu__Mailu"
    confs = [p for p in mailu.rglob("redis.conf")] if mailu.is_dir() else []
    if not confs:
        pytest.skip("Mailu's redis.conf is not in the corpus")
    result = subprocess.run(
        [sys.executable, "-m", "vantage_lint", "--format", "json", "--isolated", str(confs[0])],
        capture_output=True, text=True, timeout=60,
    )
    report = json.loads(result.stdout)
    assert any(f["code"] == "VL005" for f in report["findings"])
