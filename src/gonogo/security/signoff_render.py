"""The security sign-off report as Markdown, one self-contained HTML page, or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never

import jinja2

from gonogo.gates.results import CriterionResult, EvidenceRef, GateResult, SignoffState, Verdict
from gonogo.report.html import template_environment
from gonogo.report.interface import (
    ReportError,
    audit_line,
    clean_text,
    format_measured,
    signoff_text,
    signoffs_of,
    verdict_label,
)
from gonogo.report.markdown import STATUS_MARKERS, VERDICT_MARKERS, escape_inline
from gonogo.security.signoff_report import AreaResult, GateSection, SecurityReport

TEMPLATE = "security_report.html.j2"

AREA_MARKERS = {"pass": "✅", "fail": "❌", "not_covered": "⚠️"}
AREA_LABELS = {"pass": "pass", "fail": "fail", "not_covered": "not covered"}
LEDGER_MARKERS = {"ok": "✅", "overdue": "❌", "never_rotated": "❌", "unknown": "💥"}


class ReportFormat(StrEnum):
    """An output format of ``gonogo security report``."""

    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


def render_security_report(report: SecurityReport, fmt: ReportFormat) -> str:
    """The report in ``fmt``."""
    match fmt:
        case ReportFormat.MARKDOWN:
            return render_markdown(report)
        case ReportFormat.HTML:
            return render_html(report)
        case ReportFormat.JSON:
            return json.dumps(report.to_json(), indent=2)
        case _:
            assert_never(fmt)


def verdict_line(report: SecurityReport) -> str:
    """``GO: the security gate is green and signed off`` or why it is not."""
    label = verdict_label(report.verdict)
    names = ", ".join(g.result.gate for g in report.gates)
    noun = "gate" if len(report.gates) == 1 else "gates"
    if report.verdict is Verdict.GO:
        return f"{label}: security {noun} {names} green and signed off"
    blocked = [g.result.gate for g in report.gates if g.result.verdict is Verdict.NO_GO]
    listed = ", ".join(blocked)
    return f"{label}: {len(blocked)} of {len(report.gates)} security {noun} no-go ({listed})"


def area_criteria(area: AreaResult) -> str:
    """``security.vulns, security.deps-npm`` or a dash."""
    return ", ".join(c.ref for c in area.criteria) or "—"


def evidence_text(ref: EvidenceRef) -> str:
    """``lockfile requirements.txt sha256:…`` (the full digest)."""
    digest = f"sha256:{ref.sha256}" if ref.sha256 else "no digest"
    return clean_text(f"{ref.kind} {ref.uri} {digest}")


def ledger_rows(criterion: CriterionResult) -> list[dict[str, Any]]:
    """The credentials ledger a ``credentials`` criterion recorded in its details."""
    rows = criterion.details.get("credentials")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def ledger_cells(row: dict[str, Any]) -> list[str]:
    """status, credential, owner, last rotation, age/max, due, stored in (plain text)."""
    rotation = row.get("last_rotation") or {}
    if rotation:
        by = f" by {rotation.get('by')}" if rotation.get("by") else ""
        last = f"{str(rotation.get('at', ''))[:10]} ({rotation.get('source')}{by})"
    else:
        last = "never"
    age = "—" if row.get("age_days") is None else str(row.get("age_days"))
    status = str(row.get("status", "")).replace("_", " ")
    if row.get("problem"):
        status += f" ({row['problem']})"
    return [
        status,
        str(row.get("name", "")),
        str(row.get("owner") or "—"),
        last,
        f"{age}/{row.get('max_age_days')} days",
        str(row.get("due") or "—"),
        str(row.get("stored_in", "")),
    ]


# -- Markdown ---------------------------------------------------------------------------------


def render_markdown(report: SecurityReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    subject = report.project + (f" {report.release}" if report.release else "")
    lines = [
        f"# Security sign-off report — {escape_inline(subject)}",
        "",
        f"**{VERDICT_MARKERS[report.verdict]} {escape_inline(verdict_line(report))}**",
        "",
        f"Phase 5 (security) · generated {escape_inline(report.generated_at)} by gonogo "
        f"{escape_inline(report.tool_version)} · policy `{report.policy_digest[:12]}` · "
        f"{escape_inline(audit_line(report.audit_head))}",
        "",
        "The security gate needs its criteria green plus the security owner's sign-off on "
        "the evaluation shown here.",
        "",
        "## Gates",
        "",
        "| gate | evaluated | outcome | sign-offs | verdict |",
        "| --- | --- | --- | --- | --- |",
        *(_gate_row(g) for g in report.gates),
    ]
    if report.reasons:
        lines += ["", "**Why not go**", "", *(f"- {escape_inline(r)}" for r in report.reasons)]
    lines += [
        "",
        "## Phase 5 coverage",
        "",
        "| area | criteria | status |",
        "| --- | --- | --- |",
    ]
    for area in report.areas:
        status = f"{AREA_MARKERS[area.status]} {AREA_LABELS[area.status]}"
        if area.status == "not_covered":
            checks = ", ".join(f"`{c}`" for c in area.area.checks)
            status += f": no {checks} criterion in the security gates"
        lines.append(
            f"| {escape_inline(area.area.title)} | {escape_inline(area_criteria(area))} | "
            f"{status} |"
        )
    for area in report.areas:
        if area.criteria:
            lines += ["", f"## {escape_inline(area.area.title)}", "", *_criteria(area.criteria)]
    if report.others:
        lines += ["", "## Other security criteria", "", *_criteria(report.others)]
    lines += ["", "## Sign-off", ""]
    for section in report.gates:
        lines += _signoffs(section.result)
    lines += ["---", "", escape_inline(audit_line(report.audit_head))]
    return "\n".join(lines) + "\n"


def _gate_row(section: GateSection) -> str:
    gate = section.result
    signoffs = (
        "; ".join(f"{s.role}: {signoff_text(s)}" for s in signoffs_of(gate))
        or "no owner signs this gate"
    )
    cells = [
        f"`{gate.gate}` {escape_inline(gate.title)}",
        escape_inline(section.evaluated_at or "never"),
        gate.outcome.value if section.evaluated_at else "—",
        escape_inline(signoffs),
        f"{VERDICT_MARKERS[gate.verdict]} {verdict_label(gate.verdict)}",
    ]
    return "| " + " | ".join(cells) + " |"


def _criteria(criteria: tuple[CriterionResult, ...]) -> list[str]:
    lines = [
        "| status | criterion | measured | expected | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in criteria:
        title = escape_inline(c.title) if c.title != c.criterion else ""
        cells = [
            f"{STATUS_MARKERS[c.status]} {c.status.value}",
            f"`{c.ref}` {title}".rstrip(),
            escape_inline(format_measured(c.measured)),
            escape_inline(c.expected or "—"),
            escape_inline(c.reason),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for c in criteria:
        if c.evidence:
            lines += ["", f"Evidence of `{c.ref}`:", ""]
            lines += [f"- {escape_inline(evidence_text(e))}" for e in c.evidence]
        rows = ledger_rows(c) if c.check == "credentials" else []
        if rows:
            lines += [
                "",
                f"Credentials ledger of `{c.ref}`:",
                "",
                "| status | credential | owner | last rotation | age / max | due | stored in |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            for row in rows:
                cells = [escape_inline(cell) for cell in ledger_cells(row)]
                cells[0] = f"{LEDGER_MARKERS.get(str(row.get('status')), '')} {cells[0]}"
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def _signoffs(gate: GateResult) -> list[str]:
    digest = f"evaluation `{gate.digest[:12]}`" if gate.digest else "not evaluated"
    lines = [f"Gate `{gate.gate}` ({digest}):", ""]
    signoffs = signoffs_of(gate)
    if not signoffs:
        lines.append("- no owner role signs this gate: name the security owner in its `owners`")
    for s in signoffs:
        box = "x" if s.state is SignoffState.VALID else " "
        lines.append(f"- [{box}] {escape_inline(s.role)} — {escape_inline(signoff_text(s))}")
    return [*lines, ""]


# -- HTML -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    status: str
    marker: str
    ref: str
    title: str
    measured: str
    expected: str
    reason: str


@dataclass(frozen=True)
class _Block:
    title: str
    rows: tuple[_Row, ...]
    evidence: tuple[tuple[str, tuple[str, ...]], ...]
    ledgers: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]


def render_html(report: SecurityReport) -> str:
    """The report as one standalone HTML page (no scripts, no external references)."""
    try:
        template = _environment().get_template(TEMPLATE)
    except jinja2.TemplateError as error:  # a broken install, not the user's input
        raise ReportError(f"cannot load the security report template: {error}") from error
    blocks = [_block(a.area.title, a.criteria) for a in report.areas if a.criteria]
    if report.others:
        blocks.append(_block("Other security criteria", report.others))
    return template.render(
        project=report.project,
        release=report.release,
        generated_at=report.generated_at,
        tool_version=report.tool_version,
        policy_digest=report.policy_digest[:12],
        audit_line=audit_line(report.audit_head),
        verdict=report.verdict.value,
        verdict_label=verdict_label(report.verdict),
        verdict_line=verdict_line(report),
        reasons=report.reasons,
        gates=[
            {
                "id": g.result.gate,
                "title": g.result.title,
                "evaluated_at": g.evaluated_at or "never",
                "outcome": g.result.outcome.value if g.evaluated_at else "—",
                "verdict": g.result.verdict.value,
                "verdict_label": verdict_label(g.result.verdict),
                "digest": g.result.digest[:12],
                "signoffs": [
                    {
                        "role": s.role,
                        "state": s.state.value,
                        "ticked": s.state is SignoffState.VALID,
                        "text": signoff_text(s),
                    }
                    for s in signoffs_of(g.result)
                ],
            }
            for g in report.gates
        ],
        areas=[
            {
                "title": a.area.title,
                "criteria": area_criteria(a),
                "status": a.status,
                "label": AREA_LABELS[a.status],
                "marker": AREA_MARKERS[a.status],
                "checks": ", ".join(a.area.checks),
            }
            for a in report.areas
        ],
        blocks=blocks,
    )


def _block(title: str, criteria: tuple[CriterionResult, ...]) -> _Block:
    return _Block(
        title=title,
        rows=tuple(
            _Row(
                status=c.status.value,
                marker=STATUS_MARKERS[c.status],
                ref=c.ref,
                title=c.title if c.title != c.criterion else "",
                measured=format_measured(c.measured),
                expected=c.expected or "—",
                reason=c.reason,
            )
            for c in criteria
        ),
        evidence=tuple(
            (c.ref, tuple(evidence_text(e) for e in c.evidence)) for c in criteria if c.evidence
        ),
        ledgers=tuple(
            (c.ref, tuple(tuple(ledger_cells(r)) for r in ledger_rows(c)))
            for c in criteria
            if c.check == "credentials" and ledger_rows(c)
        ),
    )


def _environment() -> jinja2.Environment:
    return template_environment("gonogo.security")
