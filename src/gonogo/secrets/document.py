"""A scan as a report document, rendered as Markdown or one HTML page.

Both show what the text shows: the verdict and summary line, what was scanned, the
baseline, each finding's place, rule, redacted preview and short fingerprint (with the
commit for a finding from history), the warnings and the skipped files. Like every
format, neither ever holds a secret.
"""

from __future__ import annotations

from gonogo.report.document import MISSING, Document, Outcome, Section, Table, render_document
from gonogo.secrets.model import ScanResult
from gonogo.secrets.report import FINGERPRINT_DIGITS, scope_line, skipped_counts, summary_line

__all__ = ["render_page", "scan_document"]


def _findings_table(result: ScanResult) -> Table:
    """The findings as the text shows them: place, rule, preview, short fingerprint."""
    history = any(f.commit for f in result.findings)
    header = ["location", "rule", "description", "preview", "fingerprint"]
    if history:
        header += ["commit", "author", "date"]
    rows = []
    for f in result.findings:
        row = [
            f"{f.path}:{f.line}:{f.column}",
            f.rule_id,
            f.description,
            f.preview,
            f.fingerprint[:FINGERPRINT_DIGITS],
        ]
        if history:
            row += [
                f.commit[:FINGERPRINT_DIGITS] if f.commit else MISSING,
                f.author or MISSING,
                f.date or MISSING,
            ]
        rows.append(row)
    return Table.of(header, rows, empty="No secrets found.")


def scan_document(result: ScanResult) -> Document:
    """The scan as a report document: verdict, scope, findings, warnings, skipped files."""
    facts = [("root", result.root), ("scanned", scope_line(result))]
    if result.baseline:
        facts += [
            ("baseline", result.baseline),
            ("suppressed by the baseline", str(len(result.suppressed))),
        ]
    sections = [Section("Findings", tables=(_findings_table(result),))]
    if result.warnings:
        warnings = Table.of(("path", "warning"), [(n.path, n.message) for n in result.warnings])
        sections.append(Section("Warnings", tables=(warnings,)))
    skipped = skipped_counts(result)
    if skipped:
        counts = [(kind, str(n)) for kind, n in sorted(skipped.items())]
        table = Table.of(("reason", "files"), counts, numeric=(False, True))
        sections.append(Section("Skipped files", tables=(table,)))
    return Document(
        title="Secret scan",
        outcome=Outcome("FAIL", "bad") if result.findings else Outcome("PASS", "good"),
        summary=summary_line(result),
        facts=tuple(facts),
        sections=tuple(sections),
    )


def render_page(result: ScanResult, fmt: str) -> str:
    """The scan as Markdown or as one HTML page (``fmt``)."""
    return render_document(scan_document(result), fmt)
