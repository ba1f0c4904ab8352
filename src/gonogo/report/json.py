"""Machine-readable report: the stable ``gonogo.report/v1`` JSON document (docs/json.md)."""

from __future__ import annotations

import json
import math
from typing import Any

from gonogo.gates.results import RunReport
from gonogo.report.interface import JSON_SCHEMA, ReportError, ReportKind

__all__ = ["render_json", "report_document"]


def report_document(report: RunReport, *, kind: ReportKind) -> dict[str, Any]:
    """The report as the JSON object of schema ``gonogo.report/v1``."""
    return {
        "schema": JSON_SCHEMA,
        "kind": kind.value,
        "tool_version": report.tool_version,
        "project": report.project,
        "release": report.release,
        "generated_at": report.generated_at,
        "policy_digest": report.policy_digest,
        "verdict": report.verdict.value,
        "counts": report.counts(),
        "audit_head": report.audit_head.to_json() if report.audit_head else None,
        "gates": [gate.to_json() for gate in report.gates],
        "approvals": [approval.to_json() for approval in report.approvals],
    }


def render_json(report: RunReport, *, kind: ReportKind, color: bool, width: int) -> str:
    """The report as indented JSON; ``color`` and ``width`` do not apply."""
    del color, width  # part of the renderer protocol; JSON is the same everywhere
    document = _finite(report_document(report, kind=kind))
    try:
        return json.dumps(document, indent=2, sort_keys=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ReportError(
            f"cannot write the report as JSON: {error}",
            hint="a check put a value that is not JSON into its result details",
        ) from error


def _finite(value: Any) -> Any:
    """Replace NaN and infinities, which JSON cannot hold, by ``"NaN"``/``"Infinity"``."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
