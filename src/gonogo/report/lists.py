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
from gonogo.report.document import MISSING, Document, Outcome, Section, Table

__all__ = [
    "audit_log_document",
    "audit_verify_document",
    "ci_verify_document",
    "releases_document",
]

#: how many hex digits of a hash the one-line summaries quote (as the text output does)
SHORT_HASH = 12


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _text(value: Any) -> str:
    return MISSING if value is None else str(value)


def releases_document(releases: Sequence[Mapping[str, Any]]) -> Document:
    """The releases (``release list``), newest first, as one table."""
    rows = [
        (
            _text(_get(r, "version")),
            _text(_get(r, "state")),
            _text(_get(r, "created_at")),
            _text(_get(r, "created_by")),
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
        payload = _get(event, "payload")
        rows.append(
            (
                f"#{_text(_get(event, 'seq'))}",
                _text(_get(event, "ts")),
                _text(_get(event, "actor")),
                _text(_get(event, "type")),
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
    return f"#{_text(_get(head, 'seq'))} {_text(_get(head, 'hash'))}"


def audit_verify_document(report: Mapping[str, Any]) -> Document:
    """The verification of the audit trail (``audit verify``): ok or broken, and where."""
    ok = _get(report, "ok") is True
    head, checkpoint = _get(report, "head"), _get(report, "checkpoint")
    if ok:
        short = str(_get(head, "hash") or "")[:SHORT_HASH]
        where = (
            f"; checkpoint #{_get(checkpoint, 'seq')} matches"
            if isinstance(checkpoint, Mapping)
            else "; no checkpoint recorded yet"
        )
        summary = f"{_get(report, 'checked')} events, head #{_get(head, 'seq')} {short}{where}"
    else:
        summary = _text(_get(report, "problem"))
    last_good = _head(head) if _get(head, "seq") else "none"
    facts = [
        ("events checked", _text(_get(report, "checked"))),
        ("head", _head(head)) if ok else ("last good event", last_good),
        ("checkpoint", _head(checkpoint)),
    ]
    if not ok:
        facts.append(("first bad event", f"#{_text(_get(report, 'bad_seq'))}"))
    return Document(
        title="Audit trail verification",
        outcome=Outcome("ok", "good") if ok else Outcome("broken", "bad"),
        summary=summary,
        facts=tuple(facts),
    )


def ci_verify_document(report: Mapping[str, Any]) -> Document:
    """Whether a CI file really requires the gates (``ci verify``), and each way around them."""
    ok = _get(report, "ok") is True
    jobs = [str(j) for j in _get(report, "jobs") or []]
    findings = [f for f in _get(report, "findings") or [] if isinstance(f, Mapping)]
    if ok:
        summary = f"job {', '.join(jobs)} runs `gonogo ci` and nothing lets it off"
    else:
        count = len(findings)
        summary = f"{count} way{'' if count == 1 else 's'} around the gates"
    table = Table.of(
        ("where", "how a red change gets through"),
        [(_text(_get(f, "where")), _text(_get(f, "message"))) for f in findings],
        empty="None: the file requires the gates.",
    )
    return Document(
        title=f"CI verification: {_text(_get(report, 'file'))}",
        outcome=Outcome("ok", "good") if ok else Outcome("bypassable", "bad"),
        summary=summary,
        facts=(
            ("file", _text(_get(report, "file"))),
            ("CI system", _text(_get(report, "kind"))),
            ("jobs running gonogo ci", ", ".join(jobs) or "none"),
        ),
        sections=(Section("Ways around the gates", tables=(table,)),),
    )
