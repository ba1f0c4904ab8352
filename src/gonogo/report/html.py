"""The release readiness checklist as one self-contained HTML page (Jinja2, autoescaped)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
import markupsafe

from gonogo.gates.results import CriterionResult, GateResult, RoleSignoff, RunReport, SignoffState
from gonogo.report.interface import (
    ReportError,
    ReportKind,
    audit_line,
    clean_text,
    counts_line,
    format_measured,
    format_score,
    signoff_text,
    signoffs_of,
    verdict_label,
    verdict_line,
)
from gonogo.report.markdown import STATUS_MARKERS, VERDICT_MARKERS

__all__ = ["render_html"]

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class _Row:
    status: str
    marker: str
    criterion: str
    title: str
    measured: str
    expected: str
    reason: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Signoff:
    role: str
    state: str
    ticked: bool
    text: str


@dataclass(frozen=True)
class _Gate:
    id: str
    title: str
    phase: int
    verdict: str
    verdict_label: str
    verdict_marker: str
    outcome: str
    score: str | None
    owners: str
    rows: tuple[_Row, ...]
    signoffs: tuple[_Signoff, ...]
    reasons: tuple[str, ...]


def render_html(report: RunReport, *, kind: ReportKind, color: bool, width: int) -> str:
    """The checklist as a standalone HTML page; ``color`` and ``width`` do not apply."""
    del color, width  # part of the renderer protocol; the page has its own styles
    try:
        template = _environment().get_template(TEMPLATE)
    except jinja2.TemplateError as error:  # a broken install, not the user's input
        raise ReportError(f"cannot load the HTML report template: {error}") from error
    return template.render(
        kind=kind.value,
        project=report.project,
        release=report.release,
        generated_at=report.generated_at,
        tool_version=report.tool_version,
        policy_digest=report.policy_digest[:12],
        verdict=report.verdict.value,
        verdict_label=verdict_label(report.verdict),
        verdict_marker=VERDICT_MARKERS[report.verdict],
        verdict_line=verdict_line(report),
        counts_line=counts_line(report),
        audit_line=audit_line(report.audit_head),
        gates=[_gate(gate) for gate in report.gates],
        approvals=[_signoff(approval) for approval in report.approvals],
    )


def _signoff(signoff: RoleSignoff) -> _Signoff:
    return _Signoff(
        role=signoff.role,
        state=signoff.state.value,
        ticked=signoff.state is SignoffState.VALID,
        text=signoff_text(signoff),
    )


def _environment() -> jinja2.Environment:
    return template_environment("gonogo.report")


@cache
def template_environment(package: str) -> jinja2.Environment:
    """Autoescaping, strict Jinja2 for the ``templates`` folder of ``package``.

    Every interpolated string is cleaned of control characters before it is escaped, so
    evidence text cannot smuggle terminal escapes or markup into a page.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _finalize(value: Any) -> Any:
    """Every interpolated string is cleaned of controls before it is escaped.

    Markup is already escaped by the template itself and passes through untouched.
    """
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return clean_text(value)
    return value


def _gate(gate: GateResult) -> _Gate:
    return _Gate(
        id=gate.gate,
        title=gate.title if gate.title != gate.gate else "",
        phase=gate.phase,
        verdict=gate.verdict.value,
        verdict_label=verdict_label(gate.verdict),
        verdict_marker=VERDICT_MARKERS[gate.verdict],
        outcome=gate.outcome.value,
        score=format_score(gate.score) if gate.score is not None else None,
        owners=", ".join(gate.owners) if gate.owners else "none",
        rows=tuple(_row(criterion) for criterion in gate.criteria),
        signoffs=tuple(_signoff(signoff) for signoff in signoffs_of(gate)),
        reasons=gate.reasons,
    )


def _row(criterion: CriterionResult) -> _Row:
    notes = []
    if criterion.cached:
        notes.append("cached")
    if not criterion.blocking:
        notes.append("advisory")
    return _Row(
        status=criterion.status.value,
        marker=STATUS_MARKERS[criterion.status],
        criterion=criterion.criterion,
        title=criterion.title if criterion.title != criterion.criterion else "",
        measured=format_measured(criterion.measured),
        expected=criterion.expected or "—",
        reason=criterion.reason,
        notes=tuple(notes),
    )
