"""The credentials ledger as text, JSON, Markdown, or one HTML page built by
:func:`ledger_document` to show what the Markdown shows (``gonogo security credentials``)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import assert_never

from gonogo.clock import iso
from gonogo.report.document import Document, Outcome, Section, Table, to_html
from gonogo.report.interface import clean_text
from gonogo.report.markdown import escape_inline
from gonogo.security.credentials import CredentialStatus, Entry, Ledger

MARKERS = {
    CredentialStatus.OK: "✅",
    CredentialStatus.OVERDUE: "❌",
    CredentialStatus.NEVER_ROTATED: "❌",
    CredentialStatus.UNKNOWN: "💥",
}


class LedgerFormat(StrEnum):
    """An output format of ``gonogo security credentials``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


def render_ledger(ledger: Ledger, fmt: LedgerFormat) -> str:
    """The ledger in ``fmt``."""
    match fmt:
        case LedgerFormat.JSON:
            return json.dumps(ledger.to_json(), indent=2)
        case LedgerFormat.MARKDOWN:
            return "\n".join([f"**{summary(ledger)}**", "", *markdown_table(ledger)]) + "\n"
        case LedgerFormat.HTML:
            return to_html(ledger_document(ledger))
        case LedgerFormat.TEXT:
            return _text(ledger)
        case _:
            assert_never(fmt)


def summary(ledger: Ledger) -> str:
    """``FAIL: 2 of 5 credentials to rotate (1 overdue, 1 never rotated), as of …``."""
    word, text = verdict(ledger)
    return f"{word}: {text}"


def verdict(ledger: Ledger) -> tuple[str, str]:
    """The verdict word (``PASS``, ``FAIL`` or ``ERROR``) and what it rests on."""
    counts = ledger.counts()
    total = len(ledger.entries)
    when = f"as of {iso(ledger.as_of)[:10]}"
    if ledger.failing:
        parts = [
            f"{counts[s.value]} {s.label}"
            for s in (CredentialStatus.OVERDUE, CredentialStatus.NEVER_ROTATED)
            if counts[s.value]
        ]
        return (
            "FAIL",
            f"{len(ledger.failing)} of {total} credential(s) to rotate "
            f"({', '.join(parts)}), {when}",
        )
    if ledger.unknown:
        return (
            "ERROR",
            f"the rotation of {len(ledger.unknown)} of {total} credential(s) could not "
            f"be read, {when}",
        )
    return "PASS", f"{total} credential(s) rotated within their maximum age, {when}"


def last_rotation(entry: Entry) -> str:
    """``2026-05-01 (vault)`` / ``2026-05-01 (recorded by sam@example.com)`` / ``never``."""
    rotation = entry.rotation
    if rotation is None:
        return "never"
    by = f" by {rotation.by}" if rotation.by else ""
    return f"{iso(rotation.at)[:10]} ({rotation.source}{by})"


def age(entry: Entry) -> str:
    """``40/90 days`` or ``—/90 days``."""
    days = "—" if entry.age_days is None else str(entry.age_days)
    return f"{days}/{entry.credential.max_age_days} days"


def markdown_table(ledger: Ledger) -> list[str]:
    """The ledger as a GitHub-flavoured Markdown table."""
    if not ledger.entries:
        return ["_No credentials to track._"]
    rows = [
        "| status | credential | owner | last rotation | age / max | due | stored in |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in ledger.entries:
        c = entry.credential
        status = f"{MARKERS[entry.status]} {entry.status.label}"
        if entry.problem:
            status += f" ({escape_inline(entry.problem)})"
        cells = [
            status,
            f"`{clean_text(c.name)}`",
            escape_inline(c.owner or "—"),
            escape_inline(last_rotation(entry)),
            age(entry),
            entry.due.isoformat() if entry.due else "—",
            escape_inline(c.stored_in),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _cells(entry: Entry) -> tuple[str, ...]:
    """An entry's cells after its status, the same in every format."""
    return (
        entry.credential.name,
        entry.credential.owner or "—",
        last_rotation(entry),
        age(entry),
        entry.due.isoformat() if entry.due else "—",
        entry.credential.stored_in,
    )


def _status_cell(entry: Entry) -> str:
    status = f"{MARKERS[entry.status]} {entry.status.label}"
    return f"{status} ({entry.problem})" if entry.problem else status


def ledger_document(ledger: Ledger) -> Document:
    """The Markdown ledger's content as a report document: the verdict, then the table."""
    word, text = verdict(ledger)
    rows = [(_status_cell(entry), *_cells(entry)) for entry in ledger.entries]
    table = Table.of(
        ("status", "credential", "owner", "last rotation", "age / max", "due", "stored in"),
        rows,
        empty="No credentials to track.",
    )
    return Document(
        title="Credentials ledger",
        outcome=Outcome(word, "good" if word == "PASS" else "bad"),
        summary=text,
        sections=(Section("Credentials", tables=(table,)),),
    )


def _text(ledger: Ledger) -> str:
    lines = [summary(ledger)]
    if not ledger.entries:
        return (
            lines[0]
            + "\nno credentials to track: no secret variable in the inventory, none declared\n"
        )
    header = ("STATUS", "CREDENTIAL", "OWNER", "LAST ROTATION", "AGE/MAX", "DUE", "STORED IN")
    rows = [(entry.status.label, *_cells(entry)) for entry in ledger.entries]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    lines.append("")
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append(clean_text("  ".join([*cells, row[-1]])).rstrip())
    for entry in ledger.entries:
        if entry.problem:
            lines.append(clean_text(f"{entry.credential.name}: {entry.problem}"))
    return "\n".join(lines) + "\n"
