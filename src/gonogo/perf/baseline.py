"""Stored performance baselines: one JSON file per criterion, keyed by benchmark name.

A baseline file lives in a folder of the repository (``benchmarks/baselines/`` unless the
criterion names another), named after the criterion (``perf.speed.json``), so it can be
committed and reviewed like code, or restored from a CI cache. Each benchmark's entry keeps
its raw samples (at most :data:`gonogo.perf.stats.MAX_SAMPLES`), their summary, the machine
fingerprint they were taken on, and the commit and branch they came from::

    {"schema": "gonogo.perf-baseline/v1",
     "benchmarks": {"tests/bench.py::test_parse": {
        "samples": [0.0102, ...], "summary": {"n": 30, "mean": ..., "stddev": ..., "median": ...},
        "machine": {"platform": "Linux-x86_64", "cpu": "AMD EPYC", "cores": 2, "python": "3.11.7"},
        "commit": "3f2c…", "branch": "main", "recorded_at": "2026-05-01T10:00:00.000000Z"}}}

Baselines come from the default branch: they are written when the checked-out branch is
the default branch (or the criterion's ``record_on_branch``), when the criterion asks for
it with ``record = true``, and for a benchmark that has no baseline yet (its first run).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gonogo.clock import SystemClock, iso
from gonogo.errors import one_line
from gonogo.evidence.benchmarks import Benchmark, Summary
from gonogo.files import write_atomic
from gonogo.perf import PerfError
from gonogo.perf import git as gitq
from gonogo.perf.stats import thin

SCHEMA = "gonogo.perf-baseline/v1"
DEFAULT_DIR = "benchmarks/baselines"
_CPUINFO = Path("/proc/cpuinfo")
_MAX_COUNT = 2**53  # runs counted past this lose their exactness as floats


@dataclass(frozen=True)
class Machine:
    """Where timings were taken: timings from different machines do not compare."""

    platform: str
    cpu: str
    cores: int
    python: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "platform": self.platform,
            "cpu": self.cpu,
            "cores": self.cores,
            "python": self.python,
        }

    @classmethod
    def from_json(cls, data: object) -> Machine:
        """Inverse of :meth:`to_json`; unknown fields read as empty."""
        raw = data if isinstance(data, dict) else {}
        cores = raw.get("cores")
        return cls(
            platform=str(raw.get("platform", "")),
            cpu=str(raw.get("cpu", "")),
            cores=cores if isinstance(cores, int) else 0,
            python=str(raw.get("python", "")),
        )

    def differences(self, other: Machine) -> list[str]:
        """What differs from ``other`` (Python counts by major.minor), e.g. ``cores 8 vs 2``."""
        found = []
        if self.platform != other.platform:
            found.append(f"platform {self.platform} vs {other.platform}")
        if self.cpu != other.cpu:
            found.append(f"cpu {self.cpu!r} vs {other.cpu!r}")
        if self.cores != other.cores:
            found.append(f"cores {self.cores} vs {other.cores}")
        if _minor(self.python) != _minor(other.python):
            found.append(f"python {self.python} vs {other.python}")
        return found


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def fingerprint() -> Machine:
    """This machine: OS and architecture, CPU model (from /proc/cpuinfo), cores, Python."""
    return Machine(
        platform=f"{platform.system()}-{platform.machine()}",
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        python=platform.python_version(),
    )


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in _CPUINFO.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in {"model name", "Model", "cpu model", "Hardware"} and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


@dataclass(frozen=True)
class Entry:
    """One benchmark's baseline."""

    samples: tuple[float, ...]
    summary: Summary
    machine: Machine
    commit: str | None
    branch: str | None
    recorded_at: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "samples": list(self.samples),
            "summary": self.summary.to_json(),
            "machine": self.machine.to_json(),
            "commit": self.commit,
            "branch": self.branch,
            "recorded_at": self.recorded_at,
        }

    def origin(self) -> str:
        """``3f2c1a9 on main``: where the baseline came from, for a reason."""
        commit = (self.commit or "an unknown commit")[:12]
        return f"{commit} on {self.branch}" if self.branch else commit


@dataclass(frozen=True)
class Checkout:
    """The commit and branch being measured, and which branch records baselines."""

    commit: str | None
    branch: str | None
    recording_branch: str | None

    @property
    def on_recording_branch(self) -> bool:
        """Whether the checked-out branch is the one baselines come from."""
        return self.branch is not None and self.branch == self.recording_branch


def checkout(root: Path, record_on_branch: str | None) -> Checkout:
    """Read commit and branch with git; the recording branch defaults to the default branch."""
    if not gitq.is_repository(root):
        return Checkout(None, None, record_on_branch)
    return Checkout(
        commit=gitq.head_commit(root),
        branch=gitq.current_branch(root),
        recording_branch=record_on_branch or gitq.default_branch(root),
    )


def entry_for(benchmark: Benchmark, machine: Machine, where: Checkout) -> Entry:
    """A baseline entry from the current measurement."""
    return Entry(
        samples=thin(benchmark.samples),
        summary=benchmark.summary,
        machine=machine,
        commit=where.commit,
        branch=where.branch,
        recorded_at=iso(SystemClock().now()),
    )


def path_for(directory: Path, key: str) -> Path:
    """The baseline file of criterion ``key`` (``gate.criterion``) in ``directory``."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in key)
    return directory / f"{safe}.json"


def load(path: Path) -> dict[str, Entry]:
    """The entries of a baseline file; empty when there is none yet.

    Raises :class:`PerfError` naming the file when it is not a baseline gonogo wrote.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise PerfError(
            f"{path}: cannot read the baseline ({one_line(str(exc))})",
            hint="make it readable, or delete it to record a new baseline on the next run",
        ) from None
    hint = "delete it to record a new baseline on the next run"
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PerfError(
            f"{path}: the baseline is not valid JSON ({one_line(str(exc))})", hint=hint
        ) from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise PerfError(f"{path}: not a gonogo baseline (schema is not {SCHEMA!r})", hint=hint)
    benchmarks = document.get("benchmarks")
    if not isinstance(benchmarks, dict):
        raise PerfError(f'{path}: the baseline has no "benchmarks" object', hint=hint)
    try:
        return {str(name): _entry(raw) for name, raw in benchmarks.items()}
    except _Malformed as exc:
        raise PerfError(f"{path}: a baseline entry is malformed ({exc})", hint=hint) from None


class _Malformed(Exception):
    """A baseline entry that gonogo did not write: its text says what is wrong."""


def _entry(raw: object) -> Entry:
    # every number is checked: a NaN, an infinity or a negative time compares as "not
    # slower" and would pass a real regression
    if not isinstance(raw, dict):
        raise _Malformed(f"an entry is {type(raw).__name__}, expected an object")
    summary = raw.get("summary")
    if not isinstance(summary, dict):
        raise _Malformed('an entry has no "summary" object')
    samples = raw.get("samples") or []
    if not isinstance(samples, list):
        raise _Malformed('"samples" is not a list of times')
    count = summary.get("n")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= _MAX_COUNT:
        raise _Malformed(f"summary n = {one_line(repr(count))[:40]} is not a count of runs")
    return Entry(
        samples=tuple(_seconds(s, "a sample") for s in samples),
        summary=Summary(
            n=count,
            mean=_seconds(summary.get("mean"), "summary mean"),
            stddev=_seconds(summary.get("stddev"), "summary stddev"),
            median=_seconds(summary.get("median"), "summary median"),
        ),
        machine=Machine.from_json(raw.get("machine")),
        commit=_text_or_none(raw.get("commit"), "commit"),
        branch=_text_or_none(raw.get("branch"), "branch"),
        recorded_at=str(raw.get("recorded_at", "")),
    )


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed(f"{what} is {one_line(repr(value))[:40]}, not a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise _Malformed(f"{what} is {value!r}, not a time")
    return float(value)


def _text_or_none(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _Malformed(f"{what} is {one_line(repr(value))[:40]}, not text")
    return value


def save(path: Path, entries: Mapping[str, Entry]) -> None:
    """Write the baseline file atomically (a reader never sees half of it)."""
    document = {
        "schema": SCHEMA,
        "benchmarks": {name: entries[name].to_json() for name in sorted(entries)},
    }
    try:
        write_atomic(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        raise PerfError(
            f"cannot write the baseline {path}: {exc.strerror or exc}",
            hint="check that `baseline_dir` is writable",
        ) from None
