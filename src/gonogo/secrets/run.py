"""One scan, end to end: rules, files, history, baseline → a :class:`ScanResult`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gonogo.secrets.baseline import Baseline, load_baseline, write_baseline
from gonogo.secrets.history import scan_history
from gonogo.secrets.model import FileOutcome, Finding, Notice, ScanResult, fingerprint
from gonogo.secrets.rules import resolve_rules
from gonogo.secrets.scan import DEFAULT_MAX_BYTES, default_jobs, list_targets, scan_targets


@dataclass(frozen=True)
class ScanRequest:
    """What to scan and how."""

    root: Path
    """Findings' paths are relative to this folder."""
    paths: tuple[Path, ...] = ()
    """Only these files or folders (default: all of ``root``)."""
    history: bool = False
    baseline: Path | None = None
    update_baseline: bool = False
    rules: Path | None = None
    jobs: int | None = None
    max_bytes: int = DEFAULT_MAX_BYTES


def _findings(outcomes: Iterable[FileOutcome], descriptions: Mapping[str, str]) -> list[Finding]:
    found = []
    for outcome in outcomes:
        for hit in outcome.hits:
            found.append(
                Finding(
                    path=outcome.path,
                    line=hit.line,
                    column=hit.column,
                    rule_id=hit.rule_id,
                    description=descriptions.get(hit.rule_id, hit.rule_id),
                    fingerprint=fingerprint(outcome.path, hit.rule_id, hit.secret_sha256),
                    preview=hit.preview,
                    entropy=hit.entropy,
                    secret_sha1s=hit.secret_sha1s,
                    commit=outcome.commit,
                    author=outcome.author,
                    date=outcome.date,
                )
            )
    return found


def merge_history(tree: list[Finding], history: list[Finding]) -> list[Finding]:
    """Tree findings plus history-only ones, one per fingerprint.

    A secret still in the tree keeps its tree location and gains the commit that introduced
    it; ``git log`` lists newest first, so the last occurrence seen is the oldest commit.
    """
    introduced: dict[str, Finding] = {}
    for finding in history:
        introduced[finding.fingerprint] = finding
    merged = []
    for finding in tree:
        origin = introduced.get(finding.fingerprint)
        merged.append(
            finding
            if origin is None
            else replace(finding, commit=origin.commit, author=origin.author, date=origin.date)
        )
    in_tree = {f.fingerprint for f in tree}
    merged += [f for f in introduced.values() if f.fingerprint not in in_tree]
    return merged


def run_scan(request: ScanRequest) -> ScanResult:
    """Scan, apply (or rewrite) the baseline and return what is left to report."""
    started = time.perf_counter()
    ruleset = resolve_rules(request.rules)
    baseline: Baseline | None = None
    if request.baseline is not None and not (
        request.update_baseline and not request.baseline.exists()
    ):
        baseline = load_baseline(request.baseline)
    jobs = request.jobs or default_jobs()
    targets, notices = list_targets(request.root, request.paths, max_bytes=request.max_bytes)
    outcomes = scan_targets(targets, ruleset, jobs)
    descriptions = {r.id: r.description or r.id for r in ruleset.rules}
    findings = _findings(outcomes, descriptions)
    all_notices: list[Notice] = notices + [n for o in outcomes for n in o.notices]
    commits = 0
    if request.history:
        history, commits = scan_history(
            request.root, ruleset, jobs=jobs, max_bytes=request.max_bytes
        )
        all_notices += [n for o in history for n in o.notices]
        findings = merge_history(findings, _findings(history, descriptions))
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id, f.commit or ""))
    digest = baseline.sha256 if baseline else None
    if request.update_baseline and request.baseline is not None:
        digest = write_baseline(request.baseline, findings)
        kept, suppressed = [], findings
    else:
        kept = [f for f in findings if baseline is None or not baseline.suppresses(f)]
        suppressed = [f for f in findings if baseline is not None and baseline.suppresses(f)]
    return ScanResult(
        root=str(request.root),
        findings=tuple(kept),
        suppressed=tuple(suppressed),
        notices=tuple(all_notices),
        files=len(targets),
        bytes=sum(o.size for o in outcomes),
        commits=commits,
        rules=ruleset.rules,
        baseline=str(request.baseline) if request.baseline else None,
        baseline_sha256=digest,
        seconds=time.perf_counter() - started,
        history=request.history,
        all_findings=tuple(findings),
    )
