"""``perf-baseline``: benchmarks against a stored baseline, with a test that tells noise apart.

Timings come from a pytest-benchmark or hyperfine JSON report, or gonogo times a command
itself. Each benchmark is compared with its baseline (see :mod:`gonogo.perf.baseline`) by
:mod:`gonogo.perf.stats`; it fails only when the whole confidence interval of the slowdown
lies above the tolerance.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.checks.reports import parse_all, refs, report_files
from gonogo.digest import sha256_file
from gonogo.evidence.benchmarks import Benchmark, Summary, parse_benchmarks_file
from gonogo.gates.results import EvidenceRef, Status
from gonogo.perf import PerfError
from gonogo.perf import baseline as store
from gonogo.perf.process import split
from gonogo.perf.stats import Comparison, compare_samples, compare_summaries
from gonogo.perf.timing import time_command

Source = Literal["pytest-benchmark", "hyperfine", "command"]


class PerfBaselineParams(CheckParams):
    """Parameters of the ``perf-baseline`` check."""

    source: Source
    path: str | None = None
    run: str | list[str] | None = None
    runs: int = Field(default=10, ge=2, le=1000)
    warmup: int = Field(default=1, ge=0, le=100)
    benchmarks: list[str] = Field(default_factory=list)
    baseline_dir: str = store.DEFAULT_DIR
    tolerance: float = Field(default=0.10, ge=0, le=10)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    min_samples: int = Field(default=5, ge=2)
    record_on_branch: str | None = None
    record: bool = False

    @model_validator(mode="after")
    def _source_needs(self) -> PerfBaselineParams:
        if self.source == "command":
            if not self.run or not split(self.run):
                raise ValueError('source = "command" needs `run`, the command to time')
            if self.path is not None:
                raise ValueError('source = "command" times `run`; drop `path`')
        elif self.run is not None:
            raise ValueError(f'source = "{self.source}" reads `path`; `run` is for "command"')
        return self


class PerfBaselineCheck:
    """Benchmarks compared with the default branch's baseline; measured: worst slowdown bound."""

    name: ClassVar[str] = "perf-baseline"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = PerfBaselineParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The reports and the baseline file; a timed command is never cached."""
        assert isinstance(params, PerfBaselineParams)  # noqa: S101 - the engine parsed it
        if params.source == "command":
            return CheckInputs(cacheable=False)
        files = report_files(params.path, ctx, what=f"{params.source} report")
        baseline = _baseline_path(params, ctx)
        where = _checkout(ctx.root, params.record_on_branch)
        return CheckInputs(
            files=(*files, baseline) if baseline.is_file() else tuple(files),
            values={
                "branch": where.branch,
                "recording_branch": where.recording_branch,
                "machine": store.fingerprint().to_json(),
            },
        )

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Measure, compare with the baseline, record where the rules say so."""
        assert isinstance(params, PerfBaselineParams)  # noqa: S101 - the engine parsed it
        try:
            return _collect(params, ctx)
        except PerfError as exc:
            raise CheckError(str(exc)) from None

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on a slowdown beyond the tolerance; warn when the baseline is from elsewhere."""
        assert isinstance(params, PerfBaselineParams)  # noqa: S101 - the engine parsed it
        rows: list[dict[str, Any]] = list(observation.details.get("benchmarks", []))
        expected = f"no benchmark slower than +{params.tolerance:.0%} at {params.confidence:.0%}"
        slower = [r for r in rows if r["verdict"] == "slower"]
        foreign = [r for r in rows if r.get("machine_differs")]
        few = [r for r in rows if r["verdict"] == "too-few-samples"]
        if slower:
            slower.sort(key=lambda r: -r["comparison"]["low"])
            listed = "; ".join(_slower_text(r) for r in slower[:3])
            more = f" and {len(slower) - 3} more" if len(slower) > 3 else ""
            text = f"{len(slower)} of {len(rows)} slower than the baseline: {listed}{more}"
            unsure = [r for r in slower if r.get("machine_differs")]
            if len(unsure) == len(slower):
                why = unsure[0]["machine_differs"]
                return Judgement(
                    Status.WARN,
                    f"{text}; not failed: baseline from another machine ({why})",
                    expected,
                )
            return Judgement(Status.FAIL, text, expected)
        if foreign:
            return Judgement(
                Status.WARN,
                f"baseline from another machine ({foreign[0]['machine_differs']}); "
                f"{_summary(rows, params)}; record a baseline on this machine to compare",
                expected,
            )
        if few:
            names = ", ".join(r["name"] for r in few[:3])
            return Judgement(
                Status.WARN,
                f"not compared, fewer than {params.min_samples} samples: {names}; "
                f"{_summary(rows, params)}",
                expected,
            )
        return Judgement(Status.PASS, _summary(rows, params), expected)


def _collect(params: PerfBaselineParams, ctx: CheckContext) -> Observation:
    current, evidence = _measure(params, ctx)
    if params.benchmarks:
        current = [
            b for b in current if any(fnmatch.fnmatchcase(b.name, p) for p in params.benchmarks)
        ]
        if not current:
            raise CheckError(
                f"no benchmark matches {', '.join(params.benchmarks)}", hint="fix `benchmarks`"
            )
    path = _baseline_path(params, ctx)
    entries = store.load(path)
    machine = store.fingerprint()
    where = _checkout(ctx.root, params.record_on_branch)
    rows = []
    changed = False
    for bench in current:
        row, record = _compare(bench, entries.get(bench.name), machine, where, params)
        if record:
            entries[bench.name] = store.entry_for(bench, machine, where)
            changed = True
        rows.append(row)
    if changed:
        store.save(path, entries)
    compared = [r["comparison"]["high"] for r in rows if "comparison" in r]
    unmeasured = sorted(set(entries) - {b.name for b in current})
    evidence.append(
        EvidenceRef(kind="perf-baseline", uri=_relative(path, ctx.root), sha256=_digest(path))
    )
    return Observation(
        measured=round(max(compared), 4) if compared else None,
        details={
            "source": params.source,
            "baseline": _relative(path, ctx.root),
            "commit": where.commit,
            "branch": where.branch,
            "recording_branch": where.recording_branch,
            "machine": machine.to_json(),
            "recorded": changed,
            "benchmarks": rows,
            "not_measured": unmeasured[:20],
        },
        evidence=tuple(evidence),
    )


def _measure(
    params: PerfBaselineParams, ctx: CheckContext
) -> tuple[list[Benchmark], list[EvidenceRef]]:
    if params.source == "command":
        assert params.run is not None  # noqa: S101 - the params validator requires it
        argv = split(params.run)
        samples = time_command(
            argv, cwd=ctx.root, runs=params.runs, warmup=params.warmup, timeout=ctx.timeout
        )
        name = " ".join(argv)
        return [Benchmark(name, samples, Summary.of(samples))], []
    tool: Literal["pytest-benchmark", "hyperfine"] = params.source
    files = report_files(params.path, ctx, what=f"{tool} report")
    reports = parse_all(files, lambda f: parse_benchmarks_file(f, tool=tool))
    found: dict[str, Benchmark] = {}
    for file, report in zip(files, reports, strict=True):
        for bench in report.benchmarks:
            if bench.name in found:
                raise CheckError(f"{file}: benchmark {bench.name!r} is also in another report")
            found[bench.name] = bench
    return list(found.values()), list(refs(files, kind=tool, root=ctx.root))


def _compare(
    bench: Benchmark,
    entry: store.Entry | None,
    machine: store.Machine,
    where: store.Checkout,
    params: PerfBaselineParams,
) -> tuple[dict[str, Any], bool]:
    """One benchmark's row of details, and whether to record it as the new baseline."""
    row: dict[str, Any] = {"name": bench.name, "samples": bench.summary.n}
    if entry is None:
        row["verdict"] = "recorded"
        row["reason"] = "no baseline yet: recorded this run as the baseline"
        return row, True
    row["baseline_from"] = entry.origin()
    differs = entry.machine.differences(machine)
    if differs:
        row["machine_differs"] = ", ".join(differs)
    # the recording branch moves the baseline forward, never to a regression measured on the
    # same machine; a baseline from another machine cannot be compared, so it is replaced
    keep = params.record or (where.on_recording_branch and bool(differs))
    if min(bench.summary.n, entry.summary.n) < params.min_samples:
        row["verdict"] = "too-few-samples"
        return row, keep or where.on_recording_branch
    comparison = _comparison(entry, bench, params)
    row["comparison"] = comparison.to_json()
    row["change"] = comparison.describe()
    if comparison.slower:
        row["verdict"] = "slower"
    elif comparison.faster:
        row["verdict"] = "faster"
    else:
        row["verdict"] = "unchanged"
    return row, keep or (where.on_recording_branch and row["verdict"] != "slower")


def _comparison(entry: store.Entry, bench: Benchmark, params: PerfBaselineParams) -> Comparison:
    if entry.samples and bench.raw:
        return compare_samples(
            entry.samples, bench.samples, confidence=params.confidence, tolerance=params.tolerance
        )
    return compare_summaries(
        entry.summary, bench.summary, confidence=params.confidence, tolerance=params.tolerance
    )


def _slower_text(row: dict[str, Any]) -> str:
    return f"{row['name']} {row['change']} vs {row['baseline_from']}"


def _summary(rows: list[dict[str, Any]], params: PerfBaselineParams) -> str:
    recorded = [r for r in rows if r["verdict"] == "recorded"]
    compared = [r for r in rows if "comparison" in r]
    parts = []
    if compared:
        worst = max(compared, key=lambda r: r["comparison"]["high"])
        parts.append(
            f"{len(compared)} benchmark(s) within +{params.tolerance:.0%} of the baseline, "
            f"largest change {worst['name']} {worst['change']}"
        )
    if recorded:
        parts.append(f"recorded the first baseline of {len(recorded)} benchmark(s)")
    return "; ".join(parts) or "nothing compared"


def _baseline_path(params: PerfBaselineParams, ctx: CheckContext) -> Path:
    return store.path_for(ctx.resolve(params.baseline_dir), f"{ctx.gate}.{ctx.criterion}")


def _checkout(root: Path, record_on_branch: str | None) -> store.Checkout:
    try:
        return store.checkout(root, record_on_branch)
    except PerfError as exc:
        raise CheckError(str(exc)) from None


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _digest(path: Path) -> str | None:
    return sha256_file(path) if path.is_file() else None
