#!/usr/bin/env python3
"""Benchmark vantage-lint against its peers on the same files, in the same run.

    python bench/run.py                 # everything (installs the peers on first use)
    python bench/run.py --quick         # fewer rounds, no 5000-project workload
    python bench/run.py --no-peers      # vantage-lint and the parse floor only

Every tool runs from its own virtualenv under bench/.peers/ (vantage-lint is installed there
from this checkout, not editable), with bytecode caching on, after one untimed warm-up run:
compose-lint from PyPI, dclint from npm (bench/.peers/node/). Workloads: one compose file in a
cold process; N copies of the fixtures/vantage project (N = 100, 500, 5000) in one process; the
shared corpus when present. Tools run alternately, several rounds; the table shows the median
wall time, the ratio against each peer, the peak RSS (largest single process: wait4 reports
the maximum over the process and its workers) and the parse floor (reading and C-composing the
same compose files in this process). vantage-lint runs twice per workload: with --no-cache
(all work done) and with a warm result cache (a repeated run, as in pre-commit). On the
5000-project workload it also runs with --jobs 1 and its output is compared byte for byte
with the parallel run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / ".peers"
WORK = ROOT / "bench" / ".work"
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURE = ROOT / "fixtures" / "vantage"


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["VANTAGE_LINT_CACHE_DIR"] = str(WORK / "cache")


GNU_TIME = Path("/usr/bin/time").exists()


def run_timed(argv: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB (the largest of the process and its workers), exit status.

    Linux carries a process's pre-exec high-water mark into ru_maxrss, so a tool started
    straight from this (larger) Python process would inherit its size: GNU time, a small
    process, starts the tool and reports the tool's own peak. Without it, wait4 is used."""
    report = WORK / "rss.txt"
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(report)] + argv if GNU_TIME else argv
    start = time.perf_counter()
    proc = subprocess.Popen(wrapped, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    peak = usage.ru_maxrss
    if GNU_TIME:
        try:
            peak = int(report.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    code = os.waitstatus_to_exitcode(status)
    return elapsed, peak, code


def ensure_vantage_lint() -> list[str]:
    """This checkout, installed (not editable) into its own virtualenv like the peers."""
    venv = PEERS / "vantage-lint"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], check=True)
    else:
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)],
                       check=True)
    return [str(venv / "bin" / "vantage-lint")]


def ensure_compose_lint() -> list[str] | None:
    venv = PEERS / "compose-lint"
    exe = venv / "bin" / "compose-lint"
    if not exe.exists():
        print("installing compose-lint into", venv, file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "compose-lint"])
        if result.returncode != 0:
            return None
    return [str(exe)] if exe.exists() else None


def ensure_dclint() -> list[str] | None:
    node_dir = PEERS / "node"
    exe = node_dir / "node_modules" / ".bin" / "dclint"
    if not exe.exists():
        if shutil.which("npm") is None:
            return None
        print("installing dclint into", node_dir, file=sys.stderr)
        node_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["npm", "install", "--silent", "--prefix", str(node_dir), "dclint"],
                                stdout=subprocess.DEVNULL)
        if result.returncode != 0:
            return None
    return [str(exe)] if exe.exists() else None


def tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv + ["--version"], capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except Exception:
        return "?"


def build_copies(n: int) -> tuple[Path, list[Path]]:
    target = WORK / f"projects-{n}"
    marker = target / ".complete"
    if not marker.exists():
        shutil.rmtree(target, ignore_errors=True)
        for i in range(n):
            shutil.copytree(FIXTURE, target / f"p{i:05d}")
        marker.write_text("ok")
    return target, sorted(target.glob("p*/docker-compose.yml"))


FLOOR_SCRIPT = """
import sys, time
from ruamel.yaml import YAML
yaml = YAML(typ="safe", pure=False)
paths = sys.stdin.read().splitlines()
start = time.perf_counter()
for path in paths:
    try:
        with open(path, encoding="utf-8") as handle:
            yaml.compose(handle.read())
    except Exception:
        pass
print(time.perf_counter() - start)
"""


def parse_floor(files: list[Path]) -> float:
    """Seconds to read and C-compose ``files`` in one process (the cost no linter can avoid),
    measured in a child so that this process stays small (see run_timed)."""
    done = subprocess.run([sys.executable, "-c", FLOOR_SCRIPT], input="\n".join(map(str, files)),
                          capture_output=True, text=True, env=ENV, check=True)
    return float(done.stdout.strip())


def measure_alternating(tools: dict[str, list[str]], rounds: dict[str, int]) -> list[dict]:
    """Run the tools in turn, round after round, so that machine noise hits all of them alike.
    One untimed run each first: bytecode written, files in the page cache, the result cache
    filled for the cached variant."""
    for name, argv in tools.items():
        if name.startswith("vantage-lint") or rounds[name] > 1:
            run_timed(argv)
    samples: dict[str, list[tuple[float, int, int]]] = {name: [] for name in tools}
    for index in range(max(rounds.values())):
        for name, argv in tools.items():
            if index < rounds[name]:
                samples[name].append(run_timed(argv))
    return [
        {
            "name": name,
            "median": statistics.median(t for t, _, _ in runs),
            "peak_kib": max(p for _, p, _ in runs),
            "codes": sorted({c for _, _, c in runs}),
        }
        for name, runs in samples.items()
    ]


def _output(argv: list[str]) -> bytes:
    return subprocess.run(argv, capture_output=True, env=ENV).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; skip the 5000-project workload")
    parser.add_argument("--no-peers", action="store_true", help="do not install or run the peers")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)

    vl = ensure_vantage_lint() + ["--isolated", "--format", "json"]
    shutil.rmtree(WORK / "cache", ignore_errors=True)
    peers: dict[str, list[str]] = {}
    if not args.no_peers:
        for peer, ensure in (("compose-lint", ensure_compose_lint), ("dclint", ensure_dclint)):
            found = ensure()
            if found:
                peers[peer] = found
            else:
                print(f"note: {peer} could not be installed; skipped", file=sys.stderr)

    print(f"# vantage-lint benchmark, {time.strftime('%Y-%m-%d')}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print("versions: " + tool_version(vl[:1]) + "".join(
        f"; {name} {tool_version(argv)}" for name, argv in peers.items()))
    print()
    print("| workload | tool | median wall | per file | peak RSS | vs compose-lint | vs dclint | exit |")
    print("|---|---|---|---|---|---|---|---|")

    one_file = FIXTURE / "docker-compose.yml"
    workloads: list[tuple[str, list[str], list[Path], Path]] = [("one file, cold process", [str(one_file)], [one_file], ROOT)]
    sizes = [100, 500] if args.quick else [100, 500, 5000]
    for n in sizes:
        folder, files = build_copies(n)
        workloads.append((f"{n} projects, one process", [str(folder)], files, folder))
    if CORPUS.is_dir():
        corpus_files = sorted(p for p in (CORPUS / "realworld").rglob("*compose*.y*ml"))
        workloads.append(("shared corpus", [str(CORPUS / "realworld"), str(CORPUS / "redisconf")], corpus_files, ROOT))

    for label, vl_args, files, _cwd in workloads:
        n_rounds = 1 if len(files) >= 5000 else rounds
        # The peers get the same compose files by name (they do not walk for redis.conf).
        file_args = [str(f) for f in files]
        tools = {"vantage-lint --no-cache": vl + ["--no-cache"] + vl_args, "vantage-lint (warm cache)": vl + vl_args}
        counts = {name: n_rounds for name in tools}
        if len(files) >= 5000:
            tools["vantage-lint --no-cache --jobs 1"] = vl + ["--no-cache", "--jobs", "1"] + vl_args
            counts["vantage-lint --no-cache --jobs 1"] = n_rounds
        if "compose-lint" in peers:
            tools["compose-lint"] = peers["compose-lint"] + file_args
            counts["compose-lint"] = n_rounds
        if "dclint" in peers and len(files) <= 500:
            tools["dclint"] = peers["dclint"] + file_args
            counts["dclint"] = 1 if len(files) >= 500 else max(1, n_rounds // 2)
        results = measure_alternating(tools, counts)
        by_name = {r["name"]: r for r in results}
        floor = parse_floor(files)
        for r in results:
            ratios = []
            for peer in ("compose-lint", "dclint"):
                other = by_name.get(peer)
                ratios.append(f"{r['median'] / other['median']:.2f}x" if other and r["name"] != peer else "")
            print(f"| {label} ({len(files)} files) | {r['name']} | {r['median'] * 1000:.0f} ms | "
                  f"{r['median'] * 1000 / len(files):.2f} ms | {r['peak_kib'] / 1024:.0f} MiB | {ratios[0]} | "
                  f"{ratios[1]} | {','.join(map(str, r['codes']))} |")
        print(f"| {label} | parse floor (read + C compose, 1 core) | {floor * 1000:.0f} ms | "
              f"{floor * 1000 / len(files):.2f} ms | | | | |")
        serial = by_name.get("vantage-lint --no-cache --jobs 1")
        if serial is not None:
            parallel = by_name["vantage-lint --no-cache"]
            same = _output(vl + ["--no-cache", "--jobs", "1"] + vl_args) == _output(vl + ["--no-cache"] + vl_args)
            print(f"| {label} | --jobs speed-up (automatic vs 1) | {serial['median'] / parallel['median']:.2f}x | | | | | "
                  f"output identical: {'yes' if same else 'NO'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
