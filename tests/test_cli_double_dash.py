"""`--` ends the options: a file named ``-x.yml`` is linted, not read as an option."""

from __future__ import annotations

import subprocess
import sys


def test_double_dash_takes_a_file_named_like_an_option(tmp_path):
    (tmp_path / "-x.yml").write_text('version: "3.8"\nservices:\n  web:\n    image: nginx:1.25\n')
    run = [sys.executable, "-m", "vantage_lint", "--isolated", "--select", "VL006", "--fail-on", "info", "--format", "concise"]
    done = subprocess.run([*run, "--", "-x.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "-x.yml:1:1: VL006" in done.stdout
    without = subprocess.run([*run, "-x.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert without.returncode == 2 and "-x" in without.stderr  # an option, as documented
