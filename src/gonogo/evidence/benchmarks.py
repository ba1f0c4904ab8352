"""Read benchmark reports: pytest-benchmark JSON and hyperfine JSON.

Both give, per benchmark, the time of one operation in seconds. pytest-benchmark keeps
every round's timing in ``benchmarks[].stats.data`` when run with
``--benchmark-save-data`` (or when ``--benchmark-json`` is combined with it); without it
only summary statistics are there, and a comparison falls back to them. hyperfine keeps
every run in ``results[].times``.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gonogo.errors import EvidenceError, one_line

BenchmarkTool = Literal["pytest-benchmark", "hyperfine"]

_PYTEST_HINT = "pass the file written by `pytest --benchmark-json=FILE --benchmark-save-data`"
_HYPERFINE_HINT = "pass the file written by `hyperfine --export-json FILE`"


@dataclass(frozen=True)
class Summary:
    """Summary statistics of one benchmark's timings, in seconds."""

    n: int
    mean: float
    stddev: float
    median: float

    def to_json(self) -> dict[str, float | int]:
        """JSON form."""
        return {"n": self.n, "mean": self.mean, "stddev": self.stddev, "median": self.median}

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        """The summary of raw samples (at least one)."""
        return cls(
            n=len(samples),
            mean=statistics.fmean(samples),
            stddev=statistics.stdev(samples) if len(samples) > 1 else 0.0,
            median=statistics.median(samples),
        )


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its raw timings when the report has them, and their summary."""

    name: str
    samples: tuple[float, ...]
    summary: Summary

    @property
    def raw(self) -> bool:
        """Whether every run's timing is known (not only a summary)."""
        return bool(self.samples)


@dataclass(frozen=True)
class BenchmarkReport:
    """The benchmarks of one report file."""

    tool: BenchmarkTool
    benchmarks: tuple[Benchmark, ...]


def parse_benchmarks(data: bytes, *, tool: BenchmarkTool, source: str) -> BenchmarkReport:
    """Parse a report of ``tool``; raises :class:`EvidenceError` naming ``source`` if malformed."""
    hint = _PYTEST_HINT if tool == "pytest-benchmark" else _HYPERFINE_HINT
    if not data.strip():
        raise EvidenceError(f"{source}: file is empty, expected a {tool} report", hint=hint)
    try:
        document: object = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise EvidenceError(
            f"{source}: not valid JSON ({one_line(str(error))})", hint=hint
        ) from None
    if tool == "pytest-benchmark":
        return BenchmarkReport(tool, _pytest_benchmark(document, source))
    return BenchmarkReport(tool, _hyperfine(document, source))


def parse_benchmarks_file(path: Path, *, tool: BenchmarkTool) -> BenchmarkReport:
    """Read and parse a report file; raises :class:`EvidenceError` if it cannot."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvidenceError(
            f"{path}: cannot read {tool} report ({error.strerror or error})"
        ) from None
    return parse_benchmarks(data, tool=tool, source=str(path))


def _pytest_benchmark(document: object, source: str) -> tuple[Benchmark, ...]:
    entries = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise EvidenceError(
            f'{source}: JSON is not a pytest-benchmark report (no "benchmarks" list)',
            hint=_PYTEST_HINT,
        )
    found: list[Benchmark] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise EvidenceError(f"{source}: benchmarks[{index}] is not an object")
        name = entry.get("fullname") or entry.get("name")
        if not isinstance(name, str) or not name:
            raise EvidenceError(f"{source}: benchmarks[{index}] has no name")
        stats = entry.get("stats")
        if not isinstance(stats, dict):
            raise EvidenceError(f'{source}: benchmark {name!r} has no "stats" object')
        data = stats.get("data")
        if data is not None:
            samples = _times(data, f"benchmark {name!r} stats.data", source)
            found.append(Benchmark(name, samples, Summary.of(samples)))
            continue
        where = f"benchmark {name!r} stats"
        summary = Summary(
            n=int(_number(stats, "rounds", where, source, minimum=1)),
            mean=_number(stats, "mean", where, source),
            stddev=_number(stats, "stddev", where, source),
            median=_number(stats, "median", where, source),
        )
        found.append(Benchmark(name, (), summary))
    return _unique(found, source)


def _hyperfine(document: object, source: str) -> tuple[Benchmark, ...]:
    entries = document.get("results") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise EvidenceError(
            f'{source}: JSON is not a hyperfine report (no "results" list)', hint=_HYPERFINE_HINT
        )
    found: list[Benchmark] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise EvidenceError(f"{source}: results[{index}] is not an object")
        name = entry.get("command")
        if not isinstance(name, str) or not name:
            raise EvidenceError(f'{source}: results[{index}] has no "command"')
        if "times" not in entry:
            raise EvidenceError(
                f'{source}: result {name!r} has no "times" list',
                hint="export it with a hyperfine that records every run (1.6 or newer)",
            )
        samples = _times(entry["times"], f"result {name!r} times", source)
        found.append(Benchmark(name, samples, Summary.of(samples)))
    return _unique(found, source)


def _times(value: object, where: str, source: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise EvidenceError(f"{source}: {where} is not a non-empty list of timings")
    samples: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise EvidenceError(f"{source}: {where} holds {item!r}, not a number of seconds")
        if not math.isfinite(item) or item < 0:
            raise EvidenceError(f"{source}: {where} holds {item!r}, not a time")
        samples.append(float(item))
    return tuple(samples)


def _number(
    stats: Mapping[str, object], key: str, where: str, source: str, *, minimum: float = 0.0
) -> float:
    value = stats.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvidenceError(f"{source}: {where} has no numeric {key!r}")
    if not math.isfinite(value) or value < minimum:
        raise EvidenceError(f"{source}: {where} has {key} = {value!r}")
    return float(value)


def _unique(found: list[Benchmark], source: str) -> tuple[Benchmark, ...]:
    names = [b.name for b in found]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise EvidenceError(f"{source}: benchmark {duplicated[0]!r} appears more than once")
    if not found:
        raise EvidenceError(f"{source}: the report holds no benchmarks")
    return tuple(found)
