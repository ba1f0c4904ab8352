"""Findings of the least-privilege analysis, the HTTP probe and the hook checks.

A :class:`Finding` is one problem with its severity, where it is (file and line, or a
URL), why it matters and how to fix it. A :class:`Report` gathers the findings of one
run with the checks that passed, so a reader sees what was verified, not only what failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gonogo.errors import EvidenceError


class SecurityInputError(EvidenceError):
    """A manifest, policy document or probe configuration is unreadable or malformed."""


class Severity(StrEnum):
    """How bad a finding is, from ``info`` to ``critical``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order: info 0 … critical 4."""
        return _RANKS[self]

    def at_least(self, other: Severity) -> bool:
        """Whether this severity is ``other`` or worse."""
        return self.rank >= other.rank

    def lowered(self) -> Severity:
        """One step less severe (a mitigating condition); ``info`` stays ``info``."""
        return _ORDER[max(0, self.rank - 1)]


_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
_RANKS = {severity: rank for rank, severity in enumerate(_ORDER)}


@dataclass(frozen=True)
class Finding:
    """One problem: what rule, how bad, where, why, and the fix."""

    rule: str
    severity: Severity
    file: str
    line: int | None
    reason: str
    fix: str
    subject: str = ""

    @property
    def where(self) -> str:
        """``file:line`` (or the file or URL alone)."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "subject": self.subject,
            "reason": self.reason,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Passed:
    """A property that was verified and holds."""

    rule: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class Report:
    """Everything one run found: the findings, what passed, what was skipped and why."""

    tool: str
    target: str
    findings: tuple[Finding, ...] = ()
    passed: tuple[Passed, ...] = ()
    skipped: tuple[Passed, ...] = ()
    scanned: tuple[str, ...] = field(default_factory=tuple)
    heading: str = ""
    """What the report is about, when ``tool: target`` does not say it well."""

    @property
    def title(self) -> str:
        """The report's heading: :attr:`heading`, else ``tool: target``."""
        return self.heading or f"{self.tool}: {self.target}"

    def failing(self, threshold: Severity) -> tuple[Finding, ...]:
        """The findings at or above ``threshold``."""
        return tuple(f for f in self.findings if f.severity.at_least(threshold))

    def worst(self) -> Severity | None:
        """The highest severity found, or None."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)


def sort_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Findings in reading order: by file, then line, then worst first."""
    return tuple(sorted(findings, key=lambda f: (f.file, f.line or 0, -f.severity.rank, f.rule)))


def parse_severity(text: str) -> Severity:
    """A severity from its name; a UsageError-like SecurityInputError names the choices."""
    try:
        return Severity(text.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise SecurityInputError(
            f"unknown severity {text!r}", hint=f"use one of {choices}"
        ) from None
