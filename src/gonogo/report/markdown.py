"""The release readiness checklist in GitHub-flavoured Markdown (the Phase-1 deliverable)."""

from __future__ import annotations

import re

from gonogo.gates.results import GateResult, RoleSignoff, RunReport, SignoffState, Status, Verdict
from gonogo.report.interface import (
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

__all__ = [
    "STATUS_MARKERS",
    "VERDICT_MARKERS",
    "code_cell",
    "escape_block",
    "escape_heading",
    "escape_inline",
    "render_markdown",
]

#: the marker beside each status word, so a table reads at a glance
STATUS_MARKERS: dict[Status, str] = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.ERROR: "💥",
    Status.NOT_APPLICABLE: "\N{HEAVY MINUS SIGN}",
    Status.NOT_REPORTED: "❓",
    Status.WAIVED: "🔕",
}
VERDICT_MARKERS: dict[Verdict, str] = {Verdict.GO: "✅", Verdict.NO_GO: "❌"}

# Backslash-escaping ASCII punctuation is always literal in CommonMark; these are the
# characters that could start emphasis, code, links, raw HTML, entities, strikethrough
# or end a table cell.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


# What makes a line start a block other than a paragraph: a list item (``-``, ``+``, ``1.``,
# ``1)``), an ATX heading (``#``), a thematic break (``---``, ``___``; ``*`` is escaped
# anyway). Its first character is escaped where the text starts a block or list item.
_BLOCK_START = re.compile(r"^(?:[-+#]|\d{1,9}(?=[.)]))")
# ``## Title #`` loses its trailing ``#``: a closing sequence of the heading
_HEADING_CLOSE = re.compile(r"(?<=\s)#+$")


def escape_inline(text: str) -> str:
    """``text`` as literal inline Markdown on one line: specials escaped, newlines ``<br>``."""
    escaped = _SPECIAL.sub(r"\\\1", clean_text(text))
    return escaped.replace("\n", "<br>")


def escape_block(text: str) -> str:
    """``text`` as literal Markdown where it starts a paragraph or a list item.

    Leading whitespace (four spaces make a code block), a leading line break (``<br>``
    alone opens an HTML block) and a leading block marker (``# ``, ``- ``, ``1. ``) would
    turn the text into other Markdown, so the first two are dropped and the marker escaped.
    """
    escaped = escape_inline(clean_text(text).strip())
    match = _BLOCK_START.match(escaped)
    if match is None:
        return escaped
    if match.group()[0].isdigit():  # escape the ``.`` or ``)`` after the number
        end = match.end()
        return f"{escaped[:end]}\\{escaped[end:]}"
    return "\\" + escaped


def escape_heading(text: str) -> str:
    """``text`` as the literal end of a heading: one line, and a trailing `` #`` kept."""
    escaped = _one_line(text).rstrip()
    return _HEADING_CLOSE.sub(lambda match: "\\" + match.group(), escaped)


def _one_line(text: str) -> str:
    """For headings, where a line break cannot go: newlines become spaces."""
    return escape_inline(clean_text(text).replace("\n", " "))


def render_markdown(report: RunReport, *, kind: ReportKind, color: bool, width: int) -> str:
    """The checklist as Markdown; ``color`` and ``width`` do not apply."""
    del color, width  # part of the renderer protocol; Markdown has neither
    lines = [*_head(report, kind)]
    if not report.gates:
        lines += ["", "_No gates were evaluated._"]
    if report.approvals:
        lines += ["", "## Policy approval (Phase-1 exit)", ""]
        lines += [_signoff_item(a) for a in report.approvals]
    for gate in report.gates:
        lines += ["", *_gate(gate)]
    lines += ["", "---", "", _one_line(audit_line(report.audit_head))]
    return "\n".join(lines) + "\n"


def _head(report: RunReport, kind: ReportKind) -> list[str]:
    subject = escape_heading(report.project)
    if report.release:
        subject = f"{_one_line(report.project)} {escape_heading(report.release)}"
    verdict = f"{VERDICT_MARKERS[report.verdict]} {verdict_line(report)}"
    snapshot = "status of the recorded evaluation" if kind is ReportKind.STATUS else "fresh check"
    return [
        f"# Release readiness checklist — {subject}",
        "",
        f"**{_one_line(verdict)}**",
        "",
        f"{_one_line(counts_line(report))}  ",
        f"{snapshot}, generated {_one_line(report.generated_at)} by gonogo "
        f"{_one_line(report.tool_version)} · policy `{_code(report.policy_digest[:12])}`",
    ]


def _code(text: str) -> str:
    """Text for a code span: no backticks or line breaks can end it early."""
    return clean_text(text).replace("`", "'").replace("\n", " ")


def code_cell(text: str) -> str:
    """A code span inside a table cell, where GFM needs ``|`` escaped even in code."""
    escaped = _code(text).replace("|", "\\|")
    return f"`{escaped}`"


def _gate(gate: GateResult) -> list[str]:
    heading = f"## Phase {gate.phase} · {_one_line(gate.gate)}"
    if gate.title and gate.title != gate.gate:
        heading += f" — {_one_line(gate.title)}"
    heading += f": {VERDICT_MARKERS[gate.verdict]} {verdict_label(gate.verdict)}"
    owners = ", ".join(_one_line(o) for o in gate.owners) if gate.owners else "none"
    outcome = f"Outcome: {gate.outcome.value}"
    if gate.score is not None:
        outcome += f" · score {format_score(gate.score)}"
    lines = [heading, "", f"Owners: {owners}  ", outcome, "", *_criteria_table(gate)]
    lines += ["", "**Sign-offs**", ""]
    signoffs = signoffs_of(gate)
    lines += [_signoff_item(s) for s in signoffs] if signoffs else ["_No owners to sign._"]
    if gate.reasons:
        lines += ["", "**Reasons**", ""]
        lines += [f"- {escape_block(reason)}" for reason in gate.reasons]
    return lines


def _criteria_table(gate: GateResult) -> list[str]:
    if not gate.criteria:
        return ["_No criteria reported._"]
    rows = [
        "| status | criterion | measured | expected | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for criterion in gate.criteria:
        status = f"{STATUS_MARKERS[criterion.status]} {criterion.status.value}"
        name = code_cell(criterion.criterion)
        if criterion.title and criterion.title != criterion.criterion:
            name += f" {escape_inline(criterion.title)}"
        if criterion.cached:
            name += " _(cached)_"
        if not criterion.blocking:
            name += " _(advisory)_"
        expected = escape_inline(criterion.expected) if criterion.expected else "—"
        cells = [
            status,
            name,
            escape_inline(format_measured(criterion.measured)),
            expected,
            escape_inline(criterion.reason),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _signoff_item(signoff: RoleSignoff) -> str:
    box = "x" if signoff.state is SignoffState.VALID else " "
    return f"- [{box}] {escape_inline(signoff.role)} — {escape_inline(signoff_text(signoff))}"
