"""The dependency-vulnerability gate: match, rate, apply exceptions, decide.

A finding **gates** when its severity is at or above the threshold, or when it
has no score and unscored advisories fail (the default). It **blocks** when it
gates and no exception in force covers it. An exception names an advisory id or
any of its aliases (CVE, GHSA, PYSEC…), a reason, the approving owner role and
the last day it is in force; once expired it covers nothing, and the finding
says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from gonogo.evidence.lockfiles import Dependency
from gonogo.security import AdvisoryDatabaseError
from gonogo.security.cvss import Rating, Severity, rate
from gonogo.security.match import is_affected, smallest_fix, upgrade_target
from gonogo.security.osv import Advisory, AdvisoryDatabase, Affected

JSON_SCHEMA = "gonogo.deps-audit/v1"
THRESHOLDS = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


class UnknownThreshold(AdvisoryDatabaseError):
    """A threshold word that is not low, medium, high or critical."""


def parse_threshold(word: str) -> Severity:
    """``low``, ``medium``, ``high`` or ``critical`` (any case); else UnknownThreshold."""
    try:
        level = Severity.parse(word)
    except ValueError:
        level = Severity.UNKNOWN
    if level not in THRESHOLDS:
        raise UnknownThreshold(
            f"unknown severity threshold {word!r}",
            hint="use one of: " + ", ".join(t.value for t in THRESHOLDS),
        )
    return level


@dataclass(frozen=True)
class ExceptionRule:
    """An approved, time-boxed exception for one advisory."""

    id: str
    reason: str
    approver: str
    expires: date

    def covers(self, advisory: Advisory) -> bool:
        """Whether this exception names the advisory's id or one of its aliases."""
        return self.id.strip().upper() in advisory.ids

    def in_force(self, today: date) -> bool:
        """In force through its expiry day."""
        return today <= self.expires

    def to_json(self) -> dict[str, str]:
        """JSON form."""
        return {
            "id": self.id,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class AuditPolicy:
    """What the gate enforces: the threshold, unscored handling and the exceptions."""

    threshold: Severity = Severity.HIGH
    fail_unscored: bool = True
    exceptions: tuple[ExceptionRule, ...] = ()


class ExceptionState(StrEnum):
    """Whether the exception naming a finding still covers it."""

    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Finding:
    """One advisory affecting one installed version of one package."""

    dependency: Dependency
    advisory: Advisory
    rating: Rating
    fixed_in: str | None
    gating: bool
    exception: ExceptionRule | None = None
    exception_state: ExceptionState | None = None

    @property
    def excepted(self) -> bool:
        """Covered by an exception in force."""
        return self.exception_state is ExceptionState.ACTIVE

    @property
    def blocking(self) -> bool:
        """Gates, and no exception in force covers it."""
        return self.gating and not self.excepted

    def to_json(self) -> dict[str, Any]:
        """One entry of the JSON ``vulnerabilities`` list."""
        dep = self.dependency
        exception = None
        if self.exception is not None:
            exception = {**self.exception.to_json(), "state": str(self.exception_state)}
        return {
            "package": dep.name,
            "ecosystem": str(dep.ecosystem),
            "version": dep.version,
            "source": dep.location,
            "id": self.advisory.id,
            "aliases": list(self.advisory.aliases),
            "summary": self.advisory.summary,
            "severity": str(self.rating.severity),
            "score": self.rating.score,
            "vector": self.rating.vector,
            "scoring": self.rating.method,
            "fixed_in": self.fixed_in,
            "at_or_above_threshold": self.gating,
            "blocking": self.blocking,
            "excepted": self.excepted,
            "exception": exception,
            "references": list(self.advisory.references[:5]),
        }


@dataclass(frozen=True)
class Upgrade:
    """The smallest release of a package that none of its findings affects."""

    ecosystem: str
    package: str
    version: str
    upgrade_to: str | None


@dataclass(frozen=True)
class AuditReport:
    """Everything an audit found, ready to render."""

    findings: tuple[Finding, ...]
    scanned: tuple[Dependency, ...]
    unpinned: tuple[Dependency, ...]
    upgrades: tuple[Upgrade, ...]
    policy: AuditPolicy
    today: date
    database: str
    advisories: int
    warnings: tuple[str, ...] = ()
    unused_exceptions: tuple[ExceptionRule, ...] = field(default=())

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """Findings that fail the gate."""
        return tuple(f for f in self.findings if f.blocking)

    @property
    def passed(self) -> bool:
        """No finding blocks."""
        return not self.blocking

    def counts(self) -> dict[str, int]:
        """Findings per severity, every level listed."""
        out = {str(level): 0 for level in Severity}
        for finding in self.findings:
            out[str(finding.rating.severity)] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``gonogo.deps-audit/v1`` document."""
        return {
            "schema": JSON_SCHEMA,
            "verdict": "pass" if self.passed else "fail",
            "threshold": str(self.policy.threshold),
            "fail_unscored": self.policy.fail_unscored,
            "date": self.today.isoformat(),
            "database": {
                "path": self.database,
                "advisories": self.advisories,
                "warnings": list(self.warnings),
            },
            "summary": {
                "packages": len(self.scanned),
                "unpinned": len(self.unpinned),
                "vulnerabilities": len(self.findings),
                "blocking": len(self.blocking),
                "excepted": sum(1 for f in self.findings if f.excepted),
                "by_severity": self.counts(),
            },
            "vulnerabilities": [f.to_json() for f in self.findings],
            "upgrades": [
                {
                    "package": u.package,
                    "ecosystem": u.ecosystem,
                    "version": u.version,
                    "upgrade_to": u.upgrade_to,
                }
                for u in self.upgrades
            ],
            "unpinned": [
                {
                    "package": d.name,
                    "ecosystem": str(d.ecosystem),
                    "spec": d.spec,
                    "source": d.location,
                }
                for d in self.unpinned
            ],
            "unused_exceptions": [e.to_json() for e in self.unused_exceptions],
        }


def audit(
    dependencies: Iterable[Dependency],
    db: AdvisoryDatabase,
    policy: AuditPolicy,
    *,
    today: date,
) -> AuditReport:
    """Match every pinned dependency against ``db`` and judge the findings by ``policy``.

    Raises AdvisoryDatabaseError when a dependency's ecosystem has no advisory in
    ``db`` at all: that would read as "no vulnerabilities" without any check.
    """
    scanned, unpinned = _split(dependencies)
    covered = db.ecosystems()
    missing = sorted({str(d.ecosystem) for d in scanned} - covered)
    if missing:
        count = sum(1 for d in scanned if str(d.ecosystem) in missing)
        raise AdvisoryDatabaseError(
            f"the advisory database {db.root} has no {', '.join(missing)} advisories, "
            f"so {count} {', '.join(missing)} packages cannot be checked",
            hint="run `gonogo deps sync --ecosystem " + missing[0] + "` into that folder",
        )
    findings: list[Finding] = []
    upgrades: list[Upgrade] = []
    used: set[ExceptionRule] = set()
    for dep in scanned:
        assert dep.version is not None  # noqa: S101 - _split keeps pinned ones only
        eco = str(dep.ecosystem)
        matched: list[tuple[Advisory, Affected]] = [
            (adv, aff)
            for adv, aff in db.lookup(eco, dep.name)
            if is_affected(eco, dep.version, aff)
        ]
        seen: set[str] = set()
        for advisory, affected in matched:
            if advisory.id in seen:
                continue
            seen.add(advisory.id)
            finding = _finding(dep, advisory, affected, policy, today)
            if finding.exception is not None:
                used.add(finding.exception)
            findings.append(finding)
        if matched:
            target = upgrade_target(eco, dep.version, [aff for _, aff in matched])
            upgrades.append(Upgrade(eco, dep.name, dep.version, target))
    findings.sort(key=lambda f: (-f.rating.severity.rank, f.dependency.name, f.advisory.id))
    return AuditReport(
        findings=tuple(findings),
        scanned=tuple(scanned),
        unpinned=tuple(unpinned),
        upgrades=tuple(upgrades),
        policy=policy,
        today=today,
        database=str(db.root),
        advisories=db.files,
        warnings=tuple(db.warnings),
        unused_exceptions=tuple(e for e in policy.exceptions if e not in used),
    )


def _split(dependencies: Iterable[Dependency]) -> tuple[list[Dependency], list[Dependency]]:
    scanned: list[Dependency] = []
    unpinned: list[Dependency] = []
    seen: set[tuple[str, str, str | None]] = set()
    for dep in dependencies:
        key = (str(dep.ecosystem), dep.name, dep.version)
        if key in seen:
            continue
        seen.add(key)
        (scanned if dep.pinned else unpinned).append(dep)
    return scanned, unpinned


def _finding(
    dep: Dependency, advisory: Advisory, affected: Affected, policy: AuditPolicy, today: date
) -> Finding:
    rating = rate(
        (*affected.severity, *advisory.severity),
        affected.database_severity or advisory.database_severity,
    )
    if rating.severity is Severity.UNKNOWN:
        gating = policy.fail_unscored
    else:
        gating = rating.severity.rank >= policy.threshold.rank
    rule = next((e for e in policy.exceptions if e.covers(advisory)), None)
    state = None
    if rule is not None:
        state = ExceptionState.ACTIVE if rule.in_force(today) else ExceptionState.EXPIRED
    assert dep.version is not None  # noqa: S101 - only pinned dependencies are matched
    return Finding(
        dependency=dep,
        advisory=advisory,
        rating=rating,
        fixed_in=smallest_fix(str(dep.ecosystem), dep.version, affected),
        gating=gating,
        exception=rule,
        exception_state=state,
    )
