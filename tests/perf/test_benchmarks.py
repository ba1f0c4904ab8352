"""Benchmark reports: real pytest-benchmark and hyperfine output, and malformed files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.errors import EvidenceError
from gonogo.evidence.benchmarks import parse_benchmarks, parse_benchmarks_file
from tests.perf.helpers import run_pytest_benchmark

#: what `hyperfine --export-json` writes (hyperfine 1.15, two commands, five runs each)
HYPERFINE_SAMPLE = """{
  "results": [
    {
      "command": "gzip -k data.bin",
      "mean": 0.0121581,
      "stddev": 0.00021907,
      "median": 0.0122545,
      "user": 0.0014889,
      "system": 0.00048939,
      "min": 0.0118086,
      "max": 0.0123713,
      "times": [0.0118086, 0.0120935, 0.0122627, 0.0122545, 0.0123713],
      "exit_codes": [0, 0, 0, 0, 0]
    },
    {
      "command": "zstd -q data.bin",
      "mean": 0.00036350,
      "stddev": 0.00004605,
      "median": 0.00034727,
      "user": 0.00038329,
      "system": 0.0,
      "min": 0.00032149,
      "max": 0.00044203,
      "times": [0.00044203, 0.00034695, 0.00035978, 0.00034727, 0.00032149],
      "exit_codes": [0, 0, 0, 0, 0]
    }
  ]
}"""


@pytest.mark.slow
def test_a_real_pytest_benchmark_run_gives_every_rounds_timing_or_else_its_statistics(
    tmp_path: Path,
) -> None:
    report = run_pytest_benchmark(tmp_path, tmp_path / "reports" / "bench.json")
    [bench] = parse_benchmarks_file(report, tool="pytest-benchmark").benchmarks
    assert bench.name == "test_bench.py::test_nap"
    assert bench.raw
    assert len(bench.samples) == bench.summary.n == 20
    assert all(s > 0 for s in bench.samples)
    assert min(bench.samples) <= bench.summary.median <= max(bench.samples)

    # without --benchmark-save-data the report has only statistics: they are used instead
    document = json.loads(report.read_text(encoding="utf-8"))
    stats = document["benchmarks"][0]["stats"]
    del stats["data"]
    parsed = parse_benchmarks(json.dumps(document).encode(), tool="pytest-benchmark", source="x")
    [summary_only] = parsed.benchmarks
    assert not summary_only.raw
    assert summary_only.summary.n == stats["rounds"]
    assert (summary_only.summary.mean, summary_only.summary.median) == (
        stats["mean"],
        stats["median"],
    )


def test_hyperfine_export_gives_every_runs_time_per_command() -> None:
    parsed = parse_benchmarks(HYPERFINE_SAMPLE.encode(), tool="hyperfine", source="h.json")
    assert [b.name for b in parsed.benchmarks] == ["gzip -k data.bin", "zstd -q data.bin"]
    gzip = parsed.benchmarks[0]
    assert gzip.samples == (0.0118086, 0.0120935, 0.0122627, 0.0122545, 0.0123713)
    assert gzip.summary.median == 0.0122545


def test_a_real_hyperfine_run_is_read(tmp_path: Path) -> None:
    hyperfine = shutil.which("hyperfine")
    assert hyperfine, "hyperfine is installed by scripts/test.sh"
    report = tmp_path / "hyperfine.json"
    subprocess.run(
        [
            hyperfine,
            "-N",
            "--runs",
            "5",
            "--warmup",
            "1",
            "-n",
            "nap",
            "--export-json",
            str(report),
            "sleep 0.001",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    [bench] = parse_benchmarks_file(report, tool="hyperfine").benchmarks
    assert bench.name == "nap"
    assert len(bench.samples) == 5


@pytest.mark.parametrize(
    ("content", "tool", "message"),
    [
        (b"", "pytest-benchmark", "file is empty"),
        (b"<html>", "pytest-benchmark", "not valid JSON"),
        (b'{"results": []}', "pytest-benchmark", 'no "benchmarks" list'),
        (b'{"benchmarks": []}', "hyperfine", 'no "results" list'),
        (b'{"benchmarks": []}', "pytest-benchmark", "holds no benchmarks"),
        (
            b'{"benchmarks": [{"fullname": "t", "stats": {"data": []}}]}',
            "pytest-benchmark",
            "not a non-empty list",
        ),
        (
            b'{"benchmarks": [{"fullname": "t", "stats": {"data": [0.1, "x"]}}]}',
            "pytest-benchmark",
            "not a number",
        ),
        (
            b'{"benchmarks": [{"fullname": "t", "stats": {"mean": 1}}]}',
            "pytest-benchmark",
            "no numeric 'rounds'",
        ),
        (b'{"results": [{"command": "a", "mean": 1}]}', "hyperfine", 'no "times" list'),
        (b'{"results": [{"command": "a", "times": [-1.0]}]}', "hyperfine", "not a time"),
        (
            b'{"results": [{"command": "a", "times": [1]}, {"command": "a", "times": [1]}]}',
            "hyperfine",
            "appears more than once",
        ),
    ],
)
def test_malformed_reports_are_one_line_naming_the_file(
    content: bytes, tool: str, message: str
) -> None:
    with pytest.raises(EvidenceError) as raised:
        parse_benchmarks(content, tool=tool, source="reports/bench.json")  # type: ignore[arg-type]
    text = str(raised.value)
    assert text.startswith("reports/bench.json: ")
    assert message in text
    assert "\n" not in text


def test_an_unreadable_report_is_an_evidence_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="cannot read hyperfine report"):
        parse_benchmarks_file(tmp_path / "missing.json", tool="hyperfine")


@settings(deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50))
def test_any_list_of_times_parses_back_to_the_same_samples(times: list[float]) -> None:
    document = {"results": [{"command": "c", "times": times}]}
    [bench] = parse_benchmarks(
        json.dumps(document).encode(), tool="hyperfine", source="h"
    ).benchmarks
    assert list(bench.samples) == times
    assert bench.summary.n == len(times)
