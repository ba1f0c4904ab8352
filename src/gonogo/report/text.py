"""Terminal report, drawn with rich: one block per gate, then the overall verdict."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gonogo.gates.results import (
    CriterionResult,
    GateResult,
    RunReport,
    SignoffState,
    Status,
    Verdict,
)
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

__all__ = ["render_text"]

#: narrower terminals (or a bogus COLUMNS) still get a readable report at this width
_MIN_WIDTH = 20

#: below this many columns a table would drop columns, so criteria are listed instead
_TABLE_MIN_WIDTH = 60

_VERDICT_STYLE = {Verdict.GO: "bold green", Verdict.NO_GO: "bold red"}
_STATUS_STYLE = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.NOT_APPLICABLE: "dim",
    Status.NOT_REPORTED: "yellow",
    Status.WAIVED: "cyan",
}
_SIGNOFF_STYLE = {
    SignoffState.VALID: "green",
    SignoffState.STALE: "yellow",
    SignoffState.MISSING: "red",
    SignoffState.INVALID: "bold red",
}


def render_text(report: RunReport, *, kind: ReportKind, color: bool, width: int) -> str:
    """The report as terminal text; ANSI colours only when ``color`` is true."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=max(width, _MIN_WIDTH),
        color_system="standard" if color else None,
        force_terminal=color,
        record=False,
        # The output depends on the arguments alone, never on NO_COLOR, Jupyter or the OS:
        # the CLI has already decided about colour.
        no_color=not color,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        # Reasons are data: no markup, emoji codes or highlighting may change them.
        markup=False,
        emoji=False,
        highlight=False,
    )
    console.print(_title(report, kind))
    if report.approvals:
        console.print()
        console.print(Text("policy approval (Phase-1 exit):"))
        for approval in report.approvals:
            words = _indented(signoff_text(approval), "    ")
            console.print(Text(f"  {clean_text(approval.role)}: {words}"))
    for gate in report.gates:
        console.print()
        _print_gate(console, gate)
    console.print()
    console.print(Text(verdict_line(report), style=_VERDICT_STYLE[report.verdict]))
    console.print(Text(counts_line(report)))
    console.print(Text(audit_line(report.audit_head), style="dim"))
    return buffer.getvalue()


def _title(report: RunReport, kind: ReportKind) -> Text:
    subject = clean_text(report.project)
    if report.release:
        subject = f"{subject} {clean_text(report.release)}"
    title = Text()
    title.append(f"gonogo {kind.value} — {subject}", style="bold")
    title.append(
        f"\ngenerated {clean_text(report.generated_at)} by gonogo "
        f"{clean_text(report.tool_version)} · policy {clean_text(report.policy_digest[:12])}",
        style="dim",
    )
    return title


def _print_gate(console: Console, gate: GateResult) -> None:
    console.print(_gate_header(gate))
    if gate.criteria and console.width >= _TABLE_MIN_WIDTH:
        console.print(_criteria_table(gate))
    elif gate.criteria:
        console.print(_criteria_list(gate))
    else:
        console.print(Text("  no criteria reported", style="dim"))
    console.print(_signoffs(gate))
    if gate.reasons:
        reasons = Text("reasons:")
        for reason in gate.reasons:
            reasons.append("\n  • " + _indented(reason, "    "))
        console.print(reasons)


def _indented(text: str, prefix: str) -> str:
    """Continuation lines of a multi-line reason line up under its first line."""
    return clean_text(text).replace("\n", "\n" + prefix)


def _gate_header(gate: GateResult) -> Text:
    header = Text()
    header.append(verdict_label(gate.verdict), style=_VERDICT_STYLE[gate.verdict])
    header.append(f"  {clean_text(gate.gate)}", style="bold")
    if gate.title and gate.title != gate.gate:
        header.append(f" — {clean_text(gate.title)}")
    details = f"phase {gate.phase} · outcome {gate.outcome.value}"
    if gate.score is not None:
        details += f" · score {format_score(gate.score)}"
    header.append(f"  ({details})", style="dim")
    return header


def _notes(criterion: CriterionResult) -> str:
    notes = []
    if criterion.cached:
        notes.append("cached")
    if not criterion.blocking:
        notes.append("advisory")
    return ", ".join(notes)


def _criteria_table(gate: GateResult) -> Table:
    show_notes = any(_notes(c) for c in gate.criteria)
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold", expand=True
    )
    # ids stay whole; long titles and reasons wrap instead
    longest_id = max(len(clean_text(c.criterion)) for c in gate.criteria)
    table.add_column("status", no_wrap=True)
    table.add_column("criterion", overflow="fold", min_width=min(longest_id, 32))
    # every free-text column shares the width, so no single long value squeezes the others
    table.add_column("title", overflow="fold", ratio=2, min_width=10)
    table.add_column("measured", overflow="fold", max_width=14)
    table.add_column("expected", overflow="fold", ratio=2, min_width=10)
    table.add_column("reason", overflow="fold", ratio=3, min_width=12)
    if show_notes:
        table.add_column("notes", overflow="fold", min_width=8)
    for criterion in gate.criteria:
        cells = [
            Text(criterion.status.value, style=_STATUS_STYLE[criterion.status]),
            Text(clean_text(criterion.criterion)),
            Text(clean_text(criterion.title)),
            Text(format_measured(criterion.measured)),
            Text(clean_text(criterion.expected) if criterion.expected else "—"),
            Text(clean_text(criterion.reason)),
        ]
        if show_notes:
            cells.append(Text(_notes(criterion), style="dim"))
        table.add_row(*cells)
    return table


def _criteria_list(gate: GateResult) -> Text:
    text = Text()
    for index, criterion in enumerate(gate.criteria):
        if index:
            text.append("\n")
        text.append(criterion.status.value, style=_STATUS_STYLE[criterion.status])
        text.append(f" {clean_text(criterion.criterion)}", style="bold")
        measured = format_measured(criterion.measured)
        expected = clean_text(criterion.expected) if criterion.expected else "—"
        text.append(f" {measured} (expected {expected})")
        if notes := _notes(criterion):
            text.append(f" [{notes}]", style="dim")
        text.append("\n  " + _indented(criterion.reason, "  "))
    return text


def _signoffs(gate: GateResult) -> Text:
    if not gate.owners:
        return Text("owners: none", style="dim")
    text = Text("owners: " + ", ".join(clean_text(o) for o in gate.owners))
    for signoff in signoffs_of(gate):
        text.append(f"\n  {clean_text(signoff.role)}: ")
        # a note's later lines stay under its role, not at the start of the line
        words = _indented(signoff_text(signoff), "    ")
        if signoff.state is SignoffState.VALID:
            words = f"valid — {words}"
        text.append(words, style=_SIGNOFF_STYLE[signoff.state])
    return text
