"""SARIF 2.1.0 for the CI system: one rule per criterion, one result per thing that is red.

A criterion that does not get through is a result located at its line in the policy
file. Lint issues and type errors behind a failing criterion become results of their
own at the file and line the tool named, and so do the changed lines that
``coverage-critical`` found untested, so code-review tools annotate the code itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gonogo import __version__
from gonogo.gates.results import PASSING, CriterionResult, RunReport, Status
from gonogo.policy.load import LoadedPolicy
from gonogo.report.interface import clean_text, format_measured

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_MAX_PER_CRITERION = 100


def render_sarif(report: RunReport, loaded: LoadedPolicy, root: Path) -> str:
    """The run as a SARIF log (JSON text)."""
    policy_file = _relative(loaded.file, root)
    lines = _criterion_lines(loaded)
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for gate in report.gates:
        for criterion in gate.criteria:
            rules.append(_rule(criterion))
            level = _level(criterion)
            if level is None:
                continue
            results.append(
                _result(
                    criterion,
                    level,
                    f"{criterion.ref} is {criterion.status.value}: {clean_text(criterion.reason)}",
                    policy_file,
                    lines.get(criterion.ref),
                )
            )
            results.extend(_located(criterion, level))
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gonogo",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"gonogo/ci/{report.release or 'unreleased'}"},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _level(criterion: CriterionResult) -> str | None:
    if criterion.status is Status.WARN:
        return "warning"
    if criterion.status in PASSING:
        return None
    return "error" if criterion.blocking else "warning"


def _rule(criterion: CriterionResult) -> dict[str, Any]:
    return {
        "id": criterion.ref,
        "name": criterion.ref,
        "shortDescription": {"text": clean_text(criterion.title)},
        "properties": {"check": criterion.check, "blocking": criterion.blocking},
    }


def _result(
    criterion: CriterionResult, level: str, text: str, uri: str | None, line: int | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": criterion.ref,
        "level": level,
        "message": {"text": text},
        "properties": {
            "status": criterion.status.value,
            "measured": format_measured(criterion.measured),
            "expected": criterion.expected,
        },
    }
    if uri:
        location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        if line:
            location["region"] = {"startLine": line}
        result["locations"] = [{"physicalLocation": location}]
    return result


def _located(criterion: CriterionResult, level: str) -> list[dict[str, Any]]:
    """Findings behind a red criterion, each at its own file and line."""
    out: list[dict[str, Any]] = []
    for finding in criterion.details.get("findings") or []:
        if not isinstance(finding, dict) or not finding.get("path"):
            continue
        text = f"{finding.get('rule')}: {clean_text(str(finding.get('message')))}"
        line = finding.get("line") if isinstance(finding.get("line"), int) else None
        out.append(_result(criterion, level, text, str(finding["path"]), line))
    diff = criterion.details.get("diff")
    if isinstance(diff, dict):
        text = f"changed line not run by the tests (since {diff.get('base')})"
        for path, numbers in (diff.get("missed") or {}).items():
            for number in numbers:
                out.append(_result(criterion, level, text, str(path), int(number)))
    return out[:_MAX_PER_CRITERION]


def _criterion_lines(loaded: LoadedPolicy) -> dict[str, int]:
    lines: dict[str, int] = {}
    for gi, gate in enumerate(loaded.policy.gates):
        for ci, criterion in enumerate(gate.criteria):
            line = loaded.locator.line(("gates", gi, "criteria", ci))
            if line is not None:
                lines[f"{gate.id}.{criterion.id}"] = line
    return lines


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name
