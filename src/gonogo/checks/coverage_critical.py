"""``coverage-critical``: higher minimums on critical modules, and coverage of the changed lines.

The modules part reads any report the ``coverage`` check reads. Diff coverage joins
coverage.py JSON's ``executed_lines``/``missing_lines`` with the lines ``git diff
--unified=0`` says changed since the merge base of ``diff_base`` and HEAD (that is,
``BASE...HEAD``), plus, by default, uncommitted and untracked changes in the working tree.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

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
from gonogo.checks.tool import run_tool
from gonogo.evidence.coverage import parse_coverage_file
from gonogo.gates.results import Status

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_MISSING_SHOWN = 20
_CHUNK = 1024 * 1024


class CoverageCriticalParams(CheckParams):
    """Parameters of the ``coverage-critical`` check."""

    path: str | None = None
    modules: dict[str, float] = Field(default_factory=dict)
    diff_base: str | None = None
    diff_min: float = Field(default=80.0, ge=0, le=100)
    worktree: bool = True

    @model_validator(mode="after")
    def _something_to_check(self) -> CoverageCriticalParams:
        if not self.modules and self.diff_base is None:
            raise ValueError("name critical `modules`, a `diff_base`, or both")
        for module, minimum in self.modules.items():
            if not 0 <= minimum <= 100:
                raise ValueError(f"minimum of {module!r} must be a percent (found {minimum:g})")
        if self.diff_base is not None and not self.diff_base.strip():
            raise ValueError("`diff_base` must name a git ref")
        return self


@dataclass(frozen=True)
class DiffCoverage:
    """How many changed executable lines the tests ran."""

    changed: int
    covered: int
    files: dict[str, list[int]]
    """Changed files with the changed lines the tests missed."""
    unmeasured: int
    """Changed files the report does not measure (tests, docs, other languages)."""

    @property
    def percent(self) -> float:
        """Covered share of the changed executable lines; 100 when none changed."""
        return 100.0 if self.changed == 0 else self.covered / self.changed * 100.0


class CoverageCriticalCheck:
    """Critical modules and changed lines; the measured value is the lowest of their percents."""

    name: ClassVar[str] = "coverage-critical"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = CoverageCriticalParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report; with diff coverage, never cached (the diff depends on the repository)."""
        assert isinstance(params, CoverageCriticalParams)  # noqa: S101 - the engine parsed it
        if params.diff_base is not None:
            return CheckInputs(cacheable=False)
        return CheckInputs(files=tuple(report_files(params.path, ctx, what="coverage report")))

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Measure each critical module, then the changed lines."""
        assert isinstance(params, CoverageCriticalParams)  # noqa: S101 - the engine parsed it
        files = report_files(params.path, ctx, what="coverage report")[:1]
        (report,) = parse_all(files, parse_coverage_file)
        modules = {m: report.percent_for(m) for m in params.modules}
        details: dict[str, Any] = {
            "modules": {m: round(v, 2) if v is not None else None for m, v in modules.items()}
        }
        percents = [v for v in modules.values() if v is not None]
        if params.diff_base is not None:
            diff = diff_coverage(files[0], params.diff_base, ctx, worktree=params.worktree)
            percents.append(diff.percent)
            details["diff"] = {
                "base": params.diff_base,
                "percent": round(diff.percent, 2),
                "changed_lines": diff.changed,
                "covered_lines": diff.covered,
                "missed": {f: lines[:_MISSING_SHOWN] for f, lines in diff.files.items() if lines},
                "unmeasured_files": diff.unmeasured,
            }
        return Observation(
            measured=round(min(percents), 2) if percents else None,
            details=details,
            evidence=refs(files, kind="coverage", root=ctx.root),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail when a critical module, the changed lines or the threshold fall short."""
        assert isinstance(params, CoverageCriticalParams)  # noqa: S101 - the engine parsed it
        measured: dict[str, float | None] = observation.details.get("modules", {})
        expected = [f"{m} >= {v:g}%" for m, v in params.modules.items()]
        problems: list[str] = []
        passed: list[str] = []
        for module, minimum in params.modules.items():
            value = measured.get(module)
            if value is None:
                problems.append(f"{module} is not in the report")
            elif value < minimum:
                problems.append(f"{module} {value:.2f}% < {minimum:g}%")
            else:
                passed.append(f"{module} {value:.2f}%")
        diff = observation.details.get("diff")
        if diff is not None:
            expected.append(f"changed lines >= {params.diff_min:g}%")
            text = _diff_text(diff)
            (problems if diff["percent"] < params.diff_min else passed).append(text)
        if bound is not None:
            expected.append(f"lowest {bound.describe()}")
            lowest = observation.measured
            if isinstance(lowest, int | float) and not bound.admits(lowest):
                problems.append(f"lowest {lowest:.2f}% is not {bound.describe()}")
        if problems:
            return Judgement(Status.FAIL, "; ".join(problems), "; ".join(expected))
        return Judgement(Status.PASS, "; ".join(passed), "; ".join(expected))


def _diff_text(diff: dict[str, Any]) -> str:
    if diff["changed_lines"] == 0:
        return f"no changed executable lines since {diff['base']}"
    text = (
        f"changed lines {diff['percent']:.2f}% ({diff['covered_lines']} of "
        f"{diff['changed_lines']} since {diff['base']})"
    )
    missed = diff.get("missed") or {}
    if missed and diff["percent"] < 100:
        first, lines = next(iter(missed.items()))
        text += f", missed {first}:{','.join(str(n) for n in lines[:5])}"
    return text


def diff_coverage(report: Path, base: str, ctx: CheckContext, *, worktree: bool) -> DiffCoverage:
    """Join the lines changed since ``base`` with a coverage.py JSON report's line lists."""
    lines = _line_data(report)
    changed = changed_lines(base, ctx, worktree=worktree)
    top = Path(_git(["rev-parse", "--show-toplevel"], ctx, what="find the repository")).resolve()
    by_path = {_repo_path(name, top, ctx.root): data for name, data in lines.items()}
    covered = total = unmeasured = 0
    files: dict[str, list[int]] = {}
    for path, numbers in sorted(changed.items()):
        data = by_path.get(path)
        if data is None:
            unmeasured += 1
            continue
        executed, missing = data
        hit = numbers & executed
        miss = numbers & missing
        covered += len(hit)
        total += len(hit) + len(miss)
        if hit or miss:
            files[path] = sorted(miss)
    return DiffCoverage(total, covered, files, unmeasured)


def changed_lines(base: str, ctx: CheckContext, *, worktree: bool) -> dict[str, set[int]]:
    """Lines added or changed since the merge base of ``base`` and HEAD, per repository path."""
    if _git_ok(["rev-parse", "--is-inside-work-tree"], ctx) is None:
        raise CheckError(
            f"{ctx.root} is not in a git repository",
            hint="diff coverage compares commits; remove `diff_base` outside a repository",
        )
    if _git_ok(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], ctx) is None:
        raise CheckError(
            f"base ref {base!r} is not in the repository",
            hint="fetch it (git fetch origin, or actions/checkout with fetch-depth: 0) "
            "or fix `diff_base`",
        )
    merge_base = _git(["merge-base", base, "HEAD"], ctx, what=f"find where HEAD left {base}")
    args = ["diff", "--unified=0", "--no-color", "--no-ext-diff", "--find-renames", merge_base]
    text = _git(args if worktree else [*args, "HEAD"], ctx, what="diff", strip=False)
    changed = parse_diff(text)
    if worktree:
        untracked = _git(
            ["ls-files", "--others", "--exclude-standard", "--full-name", "-z"],
            ctx,
            what="list untracked files",
            strip=False,
        )
        top = Path(_git(["rev-parse", "--show-toplevel"], ctx, what="find the repository"))
        for name in filter(None, untracked.split("\0")):
            count = _line_count(top / name)
            if count:
                changed.setdefault(name, set()).update(range(1, count + 1))
    return changed


def _line_count(path: Path) -> int:
    """Lines of an untracked regular file, read in chunks; 0 for anything else.

    A symlink or special file is not source the tests could cover, and reading one
    could wait on a pipe forever or never end (a link to /dev/zero).
    """
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return 0
        count, last = 0, b"\n"
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                count += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return 0
    return count + (last != b"\n")  # a last line without a newline counts too


def parse_diff(text: str) -> dict[str, set[int]]:
    """Added lines per file (new-side numbers) of ``git diff --unified=0`` output."""
    changed: dict[str, set[int]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            name = line[4:].strip()
            if len(name) > 1 and name.startswith('"') and name.endswith('"'):
                # git quotes names with a quote, backslash or control character in them
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            current = None if name == "/dev/null" else name.removeprefix("b/")
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start, count = int(match[1]), int(match[2] if match[2] is not None else 1)
            changed.setdefault(current, set()).update(range(start, start + count))
    return changed


def _line_data(report: Path) -> dict[str, tuple[set[int], set[int]]]:
    """Executed and missing lines per file of a coverage.py JSON report."""
    hint = "diff coverage needs the report of `coverage json` (it lists the lines)"
    try:
        document = json.loads(report.read_bytes())
    except (OSError, ValueError):
        raise CheckError(f"{report}: not coverage.py JSON", hint=hint) from None
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict):
        raise CheckError(f'{report}: not coverage.py JSON (no "files" object)', hint=hint)
    lines: dict[str, tuple[set[int], set[int]]] = {}
    for name, entry in files.items():
        executed = _numbers(entry, "executed_lines")
        missing = _numbers(entry, "missing_lines")
        if executed is None or missing is None:
            raise CheckError(f"{report}: {name!r} has no executed_lines/missing_lines", hint=hint)
        lines[str(name)] = (executed, missing)
    return lines


def _numbers(entry: object, key: str) -> set[int] | None:
    value = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(value, list):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        return None
    return set(value)


def _repo_path(name: str, top: Path, root: Path) -> str:
    """A coverage report's file name as a path relative to the repository's top folder."""
    path = Path(name)
    if not path.is_absolute():
        path = root / path  # coverage.py names files relative to where it ran: the project
    try:
        return path.resolve().relative_to(top).as_posix()
    except ValueError:
        return name


def _git_ok(args: list[str], ctx: CheckContext) -> str | None:
    run = run_tool(["git", *args], cwd=ctx.root, timeout=ctx.timeout)
    return run.stdout.decode("utf-8", "replace").strip() if run.returncode == 0 else None


def _git(args: list[str], ctx: CheckContext, *, what: str, strip: bool = True) -> str:
    run = run_tool(["git", "-c", "core.quotepath=off", *args], cwd=ctx.root, timeout=ctx.timeout)
    if run.returncode != 0:
        raise CheckError(f"git could not {what}: {run.last_words()}")
    text = run.stdout.decode("utf-8", "replace")
    return text.strip() if strip else text
