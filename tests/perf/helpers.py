"""Real benchmark runs and deterministic benchmark reports for the perf tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

#: a benchmark whose work is a sleep scaled by BENCH_SCALE: 1.3 makes it 30% slower. A sleep
#: lasts as long on a busy machine as on an idle one (only waking up is late, by far less than
#: the sleep), so the timings stay comparable while other work competes for the CPU.
BENCH_FILE = """
import os
import time

PAUSE = 0.05 * float(os.environ.get("BENCH_SCALE", "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))


def work():
    time.sleep(PAUSE)


def test_nap(benchmark):
    benchmark.pedantic(work, rounds=ROUNDS, iterations=1, warmup_rounds=1)
"""

_PYTEST_VARIABLES = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
)


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; its stdout, stripped."""
    done = subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def init_repo(root: Path, *, branch: str = "main") -> Path:
    """A git repository at ``root`` with one commit on ``branch``; ignores .gonogo/ and reports/."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    (root / ".gitignore").write_text(".gonogo/\nreports/\n", encoding="utf-8")
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "initial")
    return root


def run_pytest_benchmarks(project: Path, reports: dict[Path, float], *, rounds: int = 20) -> None:
    """Real pytest-benchmark runs of :data:`BENCH_FILE`, one after the other: one JSON report
    (raw data kept) per entry of ``reports``, which maps each report to its BENCH_SCALE."""
    for report, scale in reports.items():
        _pytest_benchmark(project, report, scale=scale, rounds=rounds)


def _pytest_benchmark(project: Path, report: Path, *, scale: float, rounds: int) -> None:
    bench = project / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    (bench / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (bench / "test_bench.py").write_text(textwrap.dedent(BENCH_FILE), encoding="utf-8")
    report.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _PYTEST_VARIABLES}
    env["BENCH_SCALE"] = str(scale)
    env["BENCH_ROUNDS"] = str(rounds)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only pytest-benchmark: starts in a second
    argv = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "pytest_benchmark.plugin", "test_bench.py",
        f"--benchmark-json={report}",
        "--benchmark-save-data",
    ]  # fmt: skip
    done = subprocess.run(
        argv, cwd=bench, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def run_pytest_benchmark(project: Path, report: Path, *, rounds: int = 20) -> Path:
    """One real pytest-benchmark run of :data:`BENCH_FILE`, as the user would run it."""
    _pytest_benchmark(project, report, scale=1.0, rounds=rounds)
    return report


def write_pytest_benchmark(path: Path, benchmarks: dict[str, Sequence[float]]) -> Path:
    """A pytest-benchmark JSON report with these timings, as ``--benchmark-save-data`` has it."""
    entries = []
    for name, data in benchmarks.items():
        ordered = sorted(data)
        mean = sum(data) / len(data)
        entries.append(
            {
                "group": None,
                "name": name.rsplit("::", 1)[-1],
                "fullname": name,
                "params": None,
                "param": None,
                "extra_info": {},
                "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 5},
                "stats": {
                    "min": ordered[0],
                    "max": ordered[-1],
                    "mean": mean,
                    "stddev": (sum((x - mean) ** 2 for x in data) / (len(data) - 1)) ** 0.5,
                    "rounds": len(data),
                    "median": ordered[len(ordered) // 2],
                    "iterations": 1,
                    "data": list(data),
                },
            }
        )
    document = {
        "machine_info": {"node": "ci", "machine": "x86_64", "python_version": "3.11.7"},
        "commit_info": {"id": "unversioned", "dirty": False, "branch": "(unknown)"},
        "benchmarks": entries,
        "datetime": "2026-05-01T10:00:00.000000+00:00",
        "version": "5.3.1",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def spread(center: float, below: float, above: float, count: int = 41) -> list[float]:
    """``count`` (odd) timings with median exactly ``center``: half spread ``below`` it, half
    ``above`` it, in a fixed interleaved order (no randomness: the tests stay stable)."""
    half = count // 2
    low = [center - below * (i + 1) / half for i in range(half)]
    high = [center + above * (i + 1) / half for i in range(half)]
    values = [center, *(x for pair in zip(low, high, strict=True) for x in pair)]
    return [values[(i * 7) % count] for i in range(count)]
