"""``gonogo env diff`` as text and as a report document (``--format markdown|html``).

Both are built from the same :class:`~gonogo.config.parity.compare.ParityReport` the
JSON output shows: the verdict, the undeclared differences, the ones the policy allows
with their reasons, the definition files read and any warnings. Each side shows what
:meth:`Side.shown` gives: a secret by its source, never by its value.
:mod:`gonogo.report.document` renders the document as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

from gonogo.config.parity.compare import ParityDifference, ParityReport
from gonogo.report.document import MISSING, Document, Outcome, Section, Table

__all__ = ["diff_document", "diff_summary", "diff_text", "files_read"]


def files_read(report: ParityReport) -> int:
    """How many definition files the two environments were read from."""
    return len(set(report.left.files) | set(report.right.files))


def diff_summary(report: ParityReport) -> str:
    """The verdict line of ``env diff``."""
    left, right = report.left.name, report.right.name
    allowed = len(report.allowed)
    noted = f" ({allowed} allowed by the policy)" if allowed else ""
    count = len(report.undeclared)
    if not count:
        return f"{left} and {right} are in parity{noted}"
    noun = "difference" if count == 1 else "differences"
    return (
        f"{count} undeclared {noun} between {left} and {right}{noted}; "
        "allow the intended ones under [[env.parity.allow]] in the policy, each with a reason"
    )


def diff_text(report: ParityReport) -> str:
    """The text report: undeclared differences, then allowed ones with their reasons."""
    left, right = report.left.name, report.right.name
    lines = [f"{left} against {right} ({files_read(report)} definition files read)"]
    width = max((len(d.kind.value) for d in report.differences), default=0)
    if report.undeclared:
        lines += ["", "Undeclared differences:"]
        lines += [f"  {d.kind.value:<{width}}  {d.describe()}" for d in report.undeclared]
    if report.allowed:
        lines += ["", "Allowed by the policy:"]
        for difference in report.allowed:
            lines.append(f"  {difference.kind.value:<{width}}  {difference.describe()}")
            lines.append(f"  {'':<{width}}  reason: {difference.reason}")
    lines += ["", diff_summary(report)]
    return "\n".join(lines)


def _table(
    report: ParityReport, differences: Sequence[ParityDifference], *, reasons: bool, empty: str
) -> Table:
    header = ["kind", "key", report.left.name, report.right.name]
    rows = []
    for d in differences:
        key = f"{d.key} (secret; values not shown)" if d.secret else d.key
        row = [d.kind.value, key, d.left.shown(), d.right.shown()]
        rows.append([*row, d.reason or ""] if reasons else row)
    return Table.of([*header, "reason"] if reasons else header, rows, empty=empty)


def _sources(report: ParityReport) -> Table:
    rows = [
        (side.name, ", ".join(side.files) if side.files else MISSING)
        for side in (report.left, report.right)
    ]
    return Table.of(("environment", "files"), rows)


def diff_document(report: ParityReport) -> Document:
    """Two environments' parity: the verdict, then each difference and the files read."""
    left, right = report.left.name, report.right.name
    sections = [
        Section(
            "Undeclared differences",
            tables=(
                _table(
                    report, report.undeclared, reasons=False, empty="No undeclared differences."
                ),
            ),
        ),
        Section(
            "Allowed by the policy",
            tables=(_table(report, report.allowed, reasons=True, empty="No allowed differences."),),
        ),
        Section("Definition files", tables=(_sources(report),)),
    ]
    warnings = (*report.left.warnings, *report.right.warnings)
    if warnings:
        sections.append(Section("Warnings", paragraphs=warnings))
    return Document(
        title=f"Environment parity: {left} against {right}",
        outcome=Outcome("not in parity", "bad")
        if report.undeclared
        else Outcome("in parity", "good"),
        summary=diff_summary(report),
        facts=(
            ("environments", f"{left}, {right}"),
            ("definition files read", str(files_read(report))),
            ("undeclared differences", str(len(report.undeclared))),
            ("allowed by the policy", str(len(report.allowed))),
        ),
        sections=tuple(sections),
    )
