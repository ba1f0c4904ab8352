"""The report-format interface: formats, the renderer protocol, its error, shared wording.

A renderer turns a :class:`~gonogo.gates.results.RunReport` into the text of one
format and returns it; it never prints. The helpers below keep the words every
format uses (verdict line, counts, sign-off states, measured values) the same.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Protocol, assert_never

from gonogo.errors import GonogoError
from gonogo.gates.results import (
    AuditHead,
    GateResult,
    RoleSignoff,
    RunReport,
    Scalar,
    SignoffState,
    Status,
    Verdict,
)

__all__ = [
    "JSON_SCHEMA",
    "NOT_MEASURED",
    "Format",
    "Renderer",
    "ReportError",
    "ReportKind",
    "audit_line",
    "clean_text",
    "counts_line",
    "format_measured",
    "format_score",
    "no_go_gates",
    "open_signoffs",
    "signoff_text",
    "signoffs_of",
    "verdict_label",
    "verdict_line",
]

#: the ``"schema"`` key of the JSON report; bump the version only on a breaking change
JSON_SCHEMA = "gonogo.report/v1"

#: how every human-readable format shows a value that was not measured
NOT_MEASURED = "—"

#: how many hex digits of the audit head's hash the reports quote
AUDIT_HASH_DIGITS = 12


class Format(StrEnum):
    """An output format of ``--format``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"
    JUNIT = "junit"


class ReportKind(StrEnum):
    """Which command the report answers: a fresh ``check`` or the stored ``status``."""

    CHECK = "check"
    STATUS = "status"


class Renderer(Protocol):
    """Turns a run report into the text of one format; pure, never prints."""

    def __call__(self, report: RunReport, *, kind: ReportKind, color: bool, width: int) -> str:
        """Return the rendered report."""
        ...


class ReportError(GonogoError):
    """A report cannot be rendered (unknown format, a value the format cannot hold)."""


# C0 controls other than tab and newline, and DEL, show as their Unicode "control
# pictures" (U+2400 + code), so an escape sequence in a reason cannot drive the
# terminal and XML/HTML stay well-formed. The Unicode line separators become
# newlines; the other C1 controls (0x9B is an 8-bit CSI to some terminals), the
# bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: they
# can make a line read other than it is, "Trojan Source"), lone surrogates and the two
# non-characters XML forbids become U+FFFD.
_LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_UNSAFE = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def clean_text(text: str) -> str:
    """``text`` safe for a terminal and for XML: newlines normalised, controls made visible."""
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub(_control_picture, text)
    return _UNSAFE.sub("\ufffd", text)


def clean_line(text: str) -> str:
    """:func:`clean_text` on one line of a terminal: line breaks become spaces."""
    return clean_text(text).replace("\n", " ")


def format_measured(value: Scalar) -> str:
    """A measured value as people read it: ``0.912346``, ``42``, ``true``, ``—`` for none."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return clean_text(str(value))


def format_score(score: float) -> str:
    """A weighted gate score (0 to 1) with two decimals."""
    return f"{score:.2f}"


def verdict_label(verdict: Verdict) -> str:
    """``GO`` or ``NO-GO``."""
    return verdict.value.upper()


def no_go_gates(report: RunReport) -> list[GateResult]:
    """The gates whose verdict is no-go, in report order."""
    return [gate for gate in report.gates if gate.verdict is Verdict.NO_GO]


def verdict_line(report: RunReport) -> str:
    """``GO: 4 of 4 gates go`` or ``NO-GO: 2 of 4 gates no-go (quality, security)``."""
    total = len(report.gates)
    label = verdict_label(report.verdict)
    if total == 0:
        return f"{label}: no gates evaluated"
    noun = "gate" if total == 1 else "gates"
    blocked = no_go_gates(report)
    if not blocked:
        return f"{label}: {total} of {total} {noun} go"
    names = ", ".join(clean_text(gate.gate) for gate in blocked)
    return f"{label}: {len(blocked)} of {total} {noun} no-go ({names})"


def counts_line(report: RunReport) -> str:
    """Criteria per status, nonzero only: ``criteria: 5 pass · 1 fail``."""
    counts = report.counts()
    parts = [f"{counts[status.value]} {status.value}" for status in Status if counts[status.value]]
    if not parts:
        return "criteria: none"
    return "criteria: " + " · ".join(parts)


def audit_line(head: AuditHead | None) -> str:
    """``audit head #12 3fa9c1d2e4b5`` (first 12 hex digits), or that there is none."""
    if head is None:
        return "audit head: none recorded"
    return f"audit head #{head.seq} {clean_text(head.hash[:AUDIT_HASH_DIGITS])}"


def signoffs_of(gate: GateResult) -> list[RoleSignoff]:
    """A gate's sign-offs, with an owner role that has no entry shown as missing."""
    listed = {signoff.role for signoff in gate.signoffs}
    missing = [
        RoleSignoff(role=role, state=SignoffState.MISSING)
        for role in gate.owners
        if role not in listed
    ]
    return [*gate.signoffs, *missing]


def open_signoffs(gate: GateResult) -> list[RoleSignoff]:
    """The sign-offs that keep a gate from go: missing, stale or invalid."""
    return [s for s in signoffs_of(gate) if s.state is not SignoffState.VALID]


def signoff_text(signoff: RoleSignoff) -> str:
    """What to say about one role's sign-off, without the role.

    ``quinn@example.com, 2026-11-27T10:00:00Z`` / ``missing`` /
    ``stale (evidence changed since quinn signed)`` / ``invalid (bad signature)``.
    """
    who = clean_text(signoff.identity) if signoff.identity else None
    note = clean_text(signoff.note) if signoff.note else None
    match signoff.state:
        case SignoffState.VALID:
            parts = [who or "signed"]
            if signoff.signed_at:
                parts.append(clean_text(signoff.signed_at))
            if signoff.signed:
                parts.append("signature verified")
            text = ", ".join(parts)
        case SignoffState.STALE:
            since = f"since {who} signed" if who else "since it was signed"
            text = f"stale (evidence changed {since})"
        case SignoffState.MISSING:
            text = "missing"
        case SignoffState.INVALID:
            text = f"invalid ({note})" if note else "invalid"
            note = None
        case _:
            assert_never(signoff.state)
    if note:
        text = f"{text} — {note}"
    return text
