#!/usr/bin/env python3
"""Benchmark vantage-lint against its peers on the same files, in the same run.

    python bench/run.py                 # everything (installs the peers on first use)
    python bench/run.py --quick         # fewer rounds, no 5000-project workload
    python bench/run.py --no-peers      # vantage-lint and the floors only
    python bench/run.py --corpus        # also the shared corpus (../shared/corpus)

Every tool runs from its own virtualenv under bench/.peers/ (vantage-lint is installed there
from this checkout, not editable), with bytecode caching on, after one untimed warm-up run:
compose-lint from PyPI, dclint from npm (bench/.peers/node/). Workloads: one compose file in a
fresh process; N copies of the fixtures/vantage project (N = 100, 300, 5000) in one process.
Tools run alternately, several rounds; the table shows the median wall time, the ratio against
each peer and the peak RSS (largest single process: GNU time reports the maximum over the
process and its workers). vantage-lint runs twice per workload: with --no-cache (all the work,
as CI on a fresh checkout) and with a warm result cache (a re-run where nothing changed, as a
pre-commit hook or an editor). Then: the floors (interpreter start-up with click and
ruamel.yaml imported; reading and C-composing the same files), the issue's targets met or not,
the load of the machine, and a profile summary (top 10 by cumulative time) of one file and of
300 projects. Output identity (warm cache vs --no-cache, --jobs 1 vs automatic) is checked on
300 projects.
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


# The tools under test run as installed: no bytecode switch-off, no PYTHONPATH pointing elsewhere.
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PRE_COMMIT")}
ENV["VANTAGE_LINT_CACHE_DIR"] = str(WORK / "cache")


GNU_TIME = Path("/usr/bin/time").exists()


def run_timed(argv: list[str], cwd: Path = ROOT) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB (the largest of the process and its workers), exit status.

    Linux carries a process's pre-exec high-water mark into ru_maxrss, so a tool started
    straight from this (larger) Python process would inherit its size: GNU time, a small
    process, starts the tool and reports the tool's own peak. Without it, wait4 is used.
    Every tool starts in ``cwd``, the checkout (as the profiles do) wherever the bench was
    started: the result cache's key holds the working directory, so a warm-cache profile run
    elsewhere than the timed runs would be a miss."""
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



TARGETS = {  # workload, tool -> the largest ratio to compose-lint the issue accepts
    ("one file", "vantage-lint (warm cache)"): 0.70,
    ("one file", "vantage-lint --no-cache"): 0.90,
    ("300 projects", "vantage-lint (warm cache)"): 0.15,
    ("300 projects", "vantage-lint --no-cache"): 0.40,
}
RSS_TARGET_MIB = 60
FLAT_TARGET = 1.2  # per-project time at 5000 projects at most this times the time at 100

STARTUP_FLOOR = "import click, ruamel.yaml"
FLOOR_NAME = f"start-up floor (fresh Python: `{STARTUP_FLOOR}`)"


PROFILE_SCRIPT = """
import cProfile, io, os, pstats, sys
from vantage_lint.cli import main
profile = cProfile.Profile()
devnull = open(os.devnull, "w")
sys.stdout = devnull
profile.enable()
try:
    main(sys.argv[1:])
finally:
    profile.disable()
    sys.stdout = sys.__stdout__
stats = pstats.Stats(profile)
total = max(ct for (_, _, _), (_, _, _, ct, _) in stats.stats.items())
rows = []
for (path, line, name), (cc, nc, tt, ct, callers) in stats.stats.items():
    rows.append((ct, nc, tt, f"{os.path.basename(path)}:{line}({name})" if line else name))
rows.sort(reverse=True)
# Leave out the chain of wrappers every run goes through (the CLI, click, lint(): nearly all of
# the time) and calls that only pass their caller's time on (same cumulative time).
# The import machinery is one row (all imports made during the run, nested ones included).
imports = max((ct for ct, _, _, where in rows if where.endswith("(_find_and_load)")), default=0.0)
shown, previous = 0, None
for ct, nc, tt, where in rows:
    if where.startswith("<frozen importlib") or where in ("<built-in method builtins.exec>", "exec"):
        if where.endswith("(_find_and_load)"):
            print(f"| imports (importlib, all nested) | {nc} | {imports * 1000:.1f} ms | |")
            shown += 1
        continue
    if ct > 0.9 * total or (previous is not None and previous - ct <= 0.03 * previous):
        previous = ct
        continue
    previous = ct
    print(f"| {where} | {nc} | {ct * 1000:.1f} ms | {tt * 1000:.1f} ms |")
    shown += 1
    if shown == 10:
        break
print(f"| (whole run) | | {total * 1000:.1f} ms | |")
# A warm-cache profile must lint nothing: a miss there means the cache key differs from the
# timed runs' (another working directory or environment).
linted = sum(nc for (path, _, name), (_, nc, _, _, _) in stats.stats.items()
             if name == "_lint_target" and path.endswith("engine.py"))
misses = sum(nc for (path, _, name), (_, nc, _, _, _) in stats.stats.items()
             if name == "run" and path.endswith("engine.py"))
print(f"| (targets: {linted}; linted, not answered by the cache: {misses}) | | | |")
"""


def profile_summary(python: str, argv: list[str], cwd: Path) -> str:
    # -P: the installed vantage-lint, not the checkout the working directory may hold
    done = subprocess.run([python, "-P", "-c", PROFILE_SCRIPT, *argv], capture_output=True, text=True, env=ENV, cwd=cwd)
    return done.stdout.strip() or f"(profile failed: {done.stderr.strip()[-300:]})"


def _output(argv: list[str], cwd: Path = ROOT) -> bytes:
    return subprocess.run(argv, capture_output=True, env=ENV, cwd=cwd).stdout


def _load() -> str:
    try:
        return ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; skip the 5000-project workload")
    parser.add_argument("--no-peers", action="store_true", help="do not install or run the peers")
    parser.add_argument("--corpus", action="store_true", help="also lint the shared corpus")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)

    vl_exe = ensure_vantage_lint()
    vl_python = str(Path(vl_exe[0]).parent / "python")
    vl = vl_exe + ["--isolated", "--format", "json"]
    shutil.rmtree(WORK / "cache", ignore_errors=True)
    peers: dict[str, list[str]] = {}
    if not args.no_peers:
        for peer, ensure in (("compose-lint", ensure_compose_lint), ("dclint", ensure_dclint)):
            found = ensure()
            if found:
                peers[peer] = found
            else:
                print(f"note: {peer} could not be installed; skipped", file=sys.stderr)

    load_before = _load()
    print(f"# vantage-lint benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average (1, 5, 15 min) at start {load_before}")
    print("versions: " + tool_version(vl[:1]) + "".join(
        f"; {name} {tool_version(argv)}" for name, argv in peers.items()))
    print()
    print("| workload | tool | median wall | per project | peak RSS | vs compose-lint | vs dclint | exit |")
    print("|---|---|---|---|---|---|---|---|")

    one_file = FIXTURE / "docker-compose.yml"
    workloads: list[tuple[str, list[str], list[Path], Path]] = [("one file", [str(one_file)], [one_file], ROOT)]
    sizes = [100, 300] if args.quick else [100, 300, 5000]
    for n in sizes:
        folder, files = build_copies(n)
        workloads.append((f"{n} projects", [str(folder)], files, folder))
    if args.corpus and CORPUS.is_dir():
        corpus_files = sorted(p for p in (CORPUS / "realworld").rglob("*compose*.y*ml"))
        workloads.append(("shared corpus", [str(CORPUS / "realworld"), str(CORPUS / "redisconf")], corpus_files, ROOT))

    medians: dict[tuple[str, str], dict] = {}
    floors: dict[str, float] = {}
    for label, vl_args, files, _cwd in workloads:
        n_rounds = 1 if len(files) >= 5000 else (rounds * 2 if len(files) == 1 else rounds)
        # The peers get the same compose files by name (they do not walk for redis.conf).
        file_args = [str(f) for f in files]
        tools = {"vantage-lint --no-cache": vl + ["--no-cache"] + vl_args, "vantage-lint (warm cache)": vl + vl_args}
        if len(files) == 1:
            # The floor of any Python linter built on click and ruamel.yaml, timed in turn with
            # the tools (a fresh interpreter that imports both and does nothing).
            tools[FLOOR_NAME] = [vl_python, "-c", STARTUP_FLOOR]
        counts = {name: n_rounds for name in tools}
        if "compose-lint" in peers and len(files) <= 300:
            tools["compose-lint"] = peers["compose-lint"] + file_args
            counts["compose-lint"] = n_rounds
        if "dclint" in peers and len(files) <= 300:
            tools["dclint"] = peers["dclint"] + file_args
            counts["dclint"] = 1 if len(files) >= 300 else max(1, n_rounds // 2)
        results = measure_alternating(tools, counts)
        by_name = {r["name"]: r for r in results}
        floors[label] = parse_floor(files)
        for r in results:
            medians[(label, r["name"])] = r
            ratios = []
            for peer in ("compose-lint", "dclint"):
                other = by_name.get(peer)
                ratios.append(f"{r['median'] / other['median']:.2f}x" if other and r["name"] != peer else "")
            print(f"| {label} ({len(files)} files) | {r['name']} | {r['median'] * 1000:.0f} ms | "
                  f"{r['median'] * 1000 / len(files):.2f} ms | {r['peak_kib'] / 1024:.0f} MiB | {ratios[0]} | "
                  f"{ratios[1]} | {','.join(map(str, r['codes']))} |")
        print(f"| {label} | parse floor (read + C compose, 1 core) | {floors[label] * 1000:.0f} ms | "
              f"{floors[label] * 1000 / len(files):.2f} ms | | | | |")

    folder_300 = WORK / "projects-300"
    same_cache = _output(vl + [str(folder_300)]) == _output(vl + ["--no-cache", str(folder_300)])
    same_jobs = _output(vl + ["--no-cache", "--jobs", "1", str(folder_300)]) == _output(vl + ["--no-cache", str(folder_300)])
    print()
    print(f"Output on 300 projects, warm cache vs --no-cache: {'identical' if same_cache else 'DIFFERENT'}; "
          f"--jobs 1 vs automatic: {'identical' if same_jobs else 'DIFFERENT'}.")
    print(f"Load average at the end: {_load()}.")

    print()
    print("| target | measured | met |")
    print("|---|---|---|")
    for (label, tool), limit in TARGETS.items():
        mine, peer = medians.get((label, tool)), medians.get((label, "compose-lint"))
        if mine and peer:
            ratio = mine["median"] / peer["median"]
            print(f"| {label}, {tool}: <= {limit:.2f}x compose-lint | {ratio:.2f}x | {'yes' if ratio <= limit else 'no'} |")
    for label in ("300 projects",):  # the memory target is for 300 projects in one run
        peak = max((r["peak_kib"] for (lab, name), r in medians.items() if lab == label and name.startswith("vantage")),
                   default=None)
        if peak is not None:
            print(f"| {label}: peak RSS <= {RSS_TARGET_MIB} MiB | {peak / 1024:.0f} MiB | "
                  f"{'yes' if peak / 1024 <= RSS_TARGET_MIB else 'no'} |")
    for tool in ("vantage-lint --no-cache", "vantage-lint (warm cache)"):
        small, large = medians.get(("100 projects", tool)), medians.get(("5000 projects", tool))
        if small and large:
            ratio = (large["median"] / 5000) / (small["median"] / 100)
            print(f"| per project, {tool}: 5000 vs 100 projects <= {FLAT_TARGET}x | "
                  f"{large['median'] * 1000 / 5000:.2f} vs {small['median'] * 1000 / 100:.2f} ms ({ratio:.2f}x) | "
                  f"{'yes' if ratio <= FLAT_TARGET else 'no'} |")

    print()
    for title, argv, cwd in (
        ("one file, warm cache", ["--isolated", "--format", "json", str(one_file)], ROOT),
        ("one file, --no-cache", ["--isolated", "--format", "json", "--no-cache", str(one_file)], ROOT),
        ("300 projects, --no-cache, --jobs 1 (in one process, so the profile sees the work)",
         ["--isolated", "--format", "json", "--no-cache", "--jobs", "1", str(folder_300)], ROOT),
        ("300 projects, warm cache, --jobs 1",
         ["--isolated", "--format", "json", "--jobs", "1", str(folder_300)], ROOT),
    ):
        print(f"Profile, {title}: top 10 by cumulative time below the CLI's own call chain "
              "(cProfile adds overhead)")
        print()
        print("| function | calls | cumulative | own |")
        print("|---|---|---|---|")
        print(profile_summary(vl_python, argv, cwd))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
