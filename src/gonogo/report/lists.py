"""The release list, the audit log, audit verification and CI-file verification as documents.

Each builder reads the JSON its command prints with ``--format json``
(``gonogo.releases/v1``, ``gonogo.audit-log/v1``, ``gonogo.audit-verify/v1``,
``gonogo.ci-verify/v1``), so Markdown and HTML show the same facts as text and JSON.
:mod:`gonogo.report.document` renders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gonogo.audit.chain import payload_summary
from gonogo.report.document import MISSING, Document, Outcome, Section, Table, member

__all__ = [
    "audit_log_document",
    "audit_verify_document",
    "audit_verify_summary",
    "ci_verify_document",
    "ci_verify_summary",
    "releases_document",
]

#: how many hex digits of a hash the one-line summaries quote (as the text output does)
SHORT_HASH = 12


def _text(value: Any) -> str:
    return MISSING if value is None else str(value)


def releases_document(releases: Sequence[Mapping[str, Any]]) -> Document:
    """The releases (``release list``), newest first, as one table."""
    rows = [
        (
            _text(member(r, "version")),
            _text(member(r, "state")),
            _text(member(r, "created_at")),
            _text(member(r, "created_by")),
        )
        for r in releases
    ]
    table = Table.of(
        ("version", "state", "created at", "created by"),
        rows,
        empty="No releases yet: create one with gonogo release create VERSION.",
    )
    return Document("Releases", sections=(Section("Newest first", tables=(table,)),))


def audit_log_document(events: Sequence[Mapping[str, Any]]) -> Document:
    """The newest audit events (``audit log``), oldest first, as one table."""
    rows = []
    for event in events:
        payload = member(event, "payload")
        rows.append(
            (
                f"#{_text(member(event, 'seq'))}",
                _text(member(event, "ts")),
                _text(member(event, "actor")),
                _text(member(event, "type")),
                payload_summary(payload) if isinstance(payload, Mapping) else "",
            )
        )
    table = Table.of(
        ("event", "time", "actor", "type", "summary"), rows, empty="The audit trail is empty."
    )
    count = len(rows)
    summary = f"the newest {count} event{'' if count == 1 else 's'}, oldest first" if rows else ""
    return Document("Audit log", summary=summary, sections=(Section("Events", tables=(table,)),))


def _head(head: Any) -> str:
    if not isinstance(head, Mapping):
        return "none recorded yet"
    return f"#{_text(member(head, 'seq'))} {_text(member(head, 'hash'))}"


def audit_verify_summary(report: Mapping[str, Any]) -> str:
    """``audit verify`` in one line: what was checked up to where, or the problem."""
    if member(report, "ok") is not True:
        return _text(member(report, "problem"))
    head, checkpoint = member(report, "head"), member(report, "checkpoint")
    short = str(member(head, "hash") or "")[:SHORT_HASH]
    where = (
        f"; checkpoint #{member(checkpoint, 'seq')} matches"
        if isinstance(checkpoint, Mapping)
        else "; no checkpoint recorded yet"
    )
    return f"{member(report, 'checked')} events, head #{member(head, 'seq')} {short}{where}"


def audit_verify_document(report: Mapping[str, Any]) -> Document:
    """The verification of the audit trail (``audit verify``): ok or broken, and where."""
    ok = member(report, "ok") is True
    head, checkpoint = member(report, "head"), member(report, "checkpoint")
    summary = audit_verify_summary(report)
    last_good = _head(head) if member(head, "seq") else "none"
    facts = [
        ("events checked", _text(member(report, "checked"))),
        ("head", _head(head)) if ok else ("last good event", last_good),
        ("checkpoint", _head(checkpoint)),
    ]
    if not ok:
        facts.append(("first bad event", f"#{_text(member(report, 'bad_seq'))}"))
    return Document(
        title="Audit trail verification",
        outcome=Outcome("ok", "good") if ok else Outcome("broken", "bad"),
        summary=summary,
        facts=tuple(facts),
    )


def ci_verify_summary(report: Mapping[str, Any]) -> str:
    """``ci verify`` in one line: the job that runs the gates, or how many ways around."""
    if member(report, "ok") is True:
        jobs = ", ".join(str(j) for j in member(report, "jobs") or [])
        return f"job {jobs} runs `gonogo ci` and nothing lets it off"
    count = len(member(report, "findings") or [])
    return f"{count} way{'' if count == 1 else 's'} around the gates"


def ci_verify_document(report: Mapping[str, Any]) -> Document:
    """Whether a CI file really requires the gates (``ci verify``), and each way around them."""
    ok = member(report, "ok") is True
    jobs = [str(j) for j in member(report, "jobs") or []]
    findings = [f for f in member(report, "findings") or [] if isinstance(f, Mapping)]
    summary = ci_verify_summary(report)
    table = Table.of(
        ("where", "how a red change gets through"),
        [(_text(member(f, "where")), _text(member(f, "message"))) for f in findings],
        empty="None: the file requires the gates.",
    )
    return Document(
        title=f"CI verification: {_text(member(report, 'file'))}",
        outcome=Outcome("ok", "good") if ok else Outcome("bypassable", "bad"),
        summary=summary,
        facts=(
            ("file", _text(member(report, "file"))),
            ("CI system", _text(member(report, "kind"))),
            ("jobs running gonogo ci", ", ".join(jobs) or "none"),
        ),
        sections=(Section("Ways around the gates", tables=(table,)),),
    )
