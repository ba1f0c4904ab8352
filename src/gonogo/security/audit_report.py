"""Render an audit report: text, JSON (``gonogo.deps-audit/v1``), Markdown, SARIF 2.1.0, or
one HTML page built by :func:`audit_document` to show what the Markdown shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from gonogo import __version__
from gonogo.report.document import Document, Outcome, Section, Table, to_html
from gonogo.report.interface import clean_text
from gonogo.security.audit import AuditReport, Finding
from gonogo.security.cvss import Severity

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SUMMARY_CHARS = 160


class AuditFormat(StrEnum):
    """Output formats of ``gonogo deps audit``."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


def render_audit(report: AuditReport, fmt: AuditFormat) -> str:
    """The report in format ``fmt``."""
    renderers: dict[AuditFormat, Callable[[AuditReport], str]] = {
        AuditFormat.TEXT: render_text,
        AuditFormat.JSON: render_json,
        AuditFormat.SARIF: render_sarif,
        AuditFormat.MARKDOWN: render_markdown,
        AuditFormat.HTML: render_html,
    }
    return renderers[AuditFormat(fmt)](report)


def render_json(report: AuditReport) -> str:
    """The versioned JSON document."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def verdict_line(report: AuditReport) -> str:
    """``PASS: …`` or ``FAIL: …`` with the counts that decided it."""
    findings = report.findings
    blocking = len(report.blocking)
    excepted = sum(1 for f in findings if f.excepted)
    threshold = report.policy.threshold
    head = "PASS" if report.passed else "FAIL"
    parts = [
        f"{len(findings)} vulnerabilities in {len(report.scanned)} packages",
        f"{blocking} at or above {threshold} without a valid exception",
    ]
    if excepted:
        parts.append(f"{excepted} excepted")
    unscored = sum(1 for f in findings if f.rating.severity is Severity.UNKNOWN)
    if unscored:
        rule = "fail" if report.policy.fail_unscored else "allowed"
        parts.append(f"{unscored} unscored ({rule})")
    return f"{head}: " + ", ".join(parts)


def _status(finding: Finding) -> str:
    if finding.excepted and finding.exception is not None:
        return f"excepted until {finding.exception.expires} ({finding.exception.approver})"
    if finding.exception is not None:
        return f"BLOCKING: exception expired on {finding.exception.expires}"
    if finding.blocking:
        return "BLOCKING"
    return "below threshold"


def _score(finding: Finding) -> str:
    rating = finding.rating
    if rating.score is None:
        return rating.severity.value
    return f"{rating.severity.value} {rating.score:.1f}"


def _summary(finding: Finding) -> str:
    text = clean_text(finding.advisory.summary)
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


def render_text(report: AuditReport) -> str:
    """Plain text for a terminal or a CI log."""
    lines = [verdict_line(report), ""]
    current = None
    for finding in sorted(report.findings, key=lambda f: (f.dependency.name, f.advisory.id)):
        dep = finding.dependency
        if (dep.name, dep.version) != current:
            current = (dep.name, dep.version)
            lines.append(f"{clean_text(dep.name)} {clean_text(dep.version or '')} ({dep.location})")
        aliases = ", ".join(finding.advisory.aliases)
        fixed = f"fixed in {finding.fixed_in}" if finding.fixed_in else "no fixed release"
        lines.append(
            f"  {finding.advisory.id}"
            + (f" ({clean_text(aliases)})" if aliases else "")
            + f": {_score(finding)}, {fixed}, {_status(finding)}"
        )
        if finding.advisory.summary:
            lines.append(f"    {_summary(finding)}")
    if report.upgrades:
        lines += ["", "Upgrades:"]
        for up in report.upgrades:
            target = up.upgrade_to or "no release fixes every advisory yet"
            lines.append(f"  {up.package} {up.version} -> {target}")
    if report.unpinned:
        lines += ["", "Not audited (no pinned version):"]
        lines += [f"  {d.name} {d.spec or ''} ({d.location})".rstrip() for d in report.unpinned]
    if report.unused_exceptions:
        lines += ["", f"{UNUSED_HEADING}:"]
        lines += [f"  {rule_id} (expires {expires})" for rule_id, expires in _unused(report)]
    lines += ["", f"Database: {report.database} ({report.advisories} advisories)"]
    lines += [f"  warning: {w}" for w in _warnings(report)]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return clean_text(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport) -> str:
    """A Markdown page (for a pull-request comment or the security sign-off)."""
    lines = ["# Dependency audit", "", f"**{verdict_line(report)}**", ""]
    lines += [
        f"Threshold: **{report.policy.threshold}**; unscored advisories "
        f"{'fail' if report.policy.fail_unscored else 'are allowed'}; "
        f"{report.advisories} advisories in `{_md(report.database)}` on {report.today}.",
        "",
    ]
    if report.findings:
        lines += [
            "| package | version | advisory | aliases | severity | fixed in | status |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for f in report.findings:
            name, version, advisory, aliases, score, fixed, status = _finding_cells(f)
            lines.append(
                f"| {_md(name)} | {_md(version)} | {_md(advisory)} | {_md(aliases)} | {score} | "
                f"{_md(fixed)} | {_md(status)} |"
            )
        lines.append("")
    exceptions = _exception_rows(report)
    if exceptions:
        lines += ["## Exceptions", ""]
        for rule_id, state, approver, reason in exceptions:
            lines.append(
                f"- `{_md(rule_id)}` ({state}, approved by {_md(approver)}): {_md(reason)}"
            )
        lines.append("")
    if report.upgrades:
        lines += ["## Upgrades", ""]
        for up in report.upgrades:
            lines.append(
                f"- {_md(up.package)} {_md(up.version)} → {_md(up.upgrade_to or 'none yet')}"
            )
        lines.append("")
    if report.unpinned:
        lines += ["## Not audited (no pinned version)", ""]
        lines += [f"- {_md(d.name)} `{_md(d.spec)}` ({_md(d.location)})" for d in report.unpinned]
        lines.append("")
    if report.unused_exceptions:
        lines += [f"## {UNUSED_HEADING}", ""]
        lines += [f"- `{_md(rule_id)}` (expires {expires})" for rule_id, expires in _unused(report)]
        lines.append("")
    if report.warnings:
        lines += [f"## {WARNINGS_HEADING}", ""]
        lines += [f"- {_md(w)}" for w in _warnings(report)]
        lines.append("")
    return "\n".join(lines)


#: the heading of the exceptions no finding used, in every format
UNUSED_HEADING = "Exceptions that match nothing (remove them)"
#: the heading of the advisory files the database skipped
WARNINGS_HEADING = "Advisory database warnings"
#: most database warnings a report lists (the text shows as many)
MAX_WARNINGS = 20


def _unused(report: AuditReport) -> list[tuple[str, str]]:
    """Each exception that matched no finding: its id and expiry date."""
    return [(e.id, str(e.expires)) for e in report.unused_exceptions]


def _warnings(report: AuditReport) -> list[str]:
    """The database's warnings as the text shows them: the first few, then how many more."""
    shown = list(report.warnings[:MAX_WARNINGS])
    if len(report.warnings) > MAX_WARNINGS:
        shown.append(f"… and {len(report.warnings) - MAX_WARNINGS} more")
    return shown


def _finding_cells(f: Finding) -> tuple[str, str, str, str, str, str, str]:
    """A finding's row: package, version, advisory, aliases, severity, fixed in, status."""
    return (
        f.dependency.name,
        f.dependency.version or "",
        f.advisory.id,
        ", ".join(f.advisory.aliases),
        _score(f),
        f.fixed_in or "—",
        _status(f),
    )


def _exception_rows(report: AuditReport) -> list[tuple[str, str, str, str]]:
    """Each exception that matched a finding: id, in force or expired, approver, reason."""
    rows = []
    for f in report.findings:
        if f.exception is not None:
            state = "in force until" if f.excepted else "EXPIRED on"
            rule = f.exception
            rows.append((rule.id, f"{state} {rule.expires}", rule.approver, rule.reason))
    return rows


def audit_document(report: AuditReport) -> Document:
    """The Markdown page's content as a report document: the same verdict, facts and tables."""
    head, _, rest = verdict_line(report).partition(": ")
    findings = Table.of(
        ("package", "version", "advisory", "aliases", "severity", "fixed in", "status"),
        [_finding_cells(f) for f in report.findings],
        empty="No vulnerabilities found.",
    )
    sections = [Section("Vulnerabilities", tables=(findings,))]
    exceptions = _exception_rows(report)
    if exceptions:
        table = Table.of(("exception", "state", "approved by", "reason"), exceptions)
        sections.append(Section("Exceptions", tables=(table,)))
    if report.upgrades:
        rows = [(u.package, u.version, u.upgrade_to or "none yet") for u in report.upgrades]
        table = Table.of(("package", "version", "upgrade to"), rows)
        sections.append(Section("Upgrades", tables=(table,)))
    if report.unpinned:
        rows = [(d.name, d.spec, d.location) for d in report.unpinned]
        table = Table.of(("package", "requirement", "where"), rows)
        sections.append(Section("Not audited (no pinned version)", tables=(table,)))
    if report.unused_exceptions:
        table = Table.of(("exception", "expires"), _unused(report))
        sections.append(Section(UNUSED_HEADING, tables=(table,)))
    if report.warnings:
        table = Table.of(("warning",), [(w,) for w in _warnings(report)])
        sections.append(Section(WARNINGS_HEADING, tables=(table,)))
    return Document(
        title="Dependency audit",
        outcome=Outcome(head, "good" if report.passed else "bad"),
        summary=rest,
        facts=(
            ("threshold", str(report.policy.threshold)),
            ("unscored advisories", "fail" if report.policy.fail_unscored else "allowed"),
            ("advisories", str(report.advisories)),
            ("database", report.database),
            ("date", report.today.isoformat()),
        ),
        sections=tuple(sections),
    )


def render_html(report: AuditReport) -> str:
    """One self-contained HTML page showing what :func:`render_markdown` shows."""
    return to_html(audit_document(report))


def _level(finding: Finding) -> str:
    if finding.blocking:
        return "error"
    if finding.gating or finding.rating.severity.rank >= Severity.MEDIUM.rank:
        return "warning"
    return "note"


def render_sarif(report: AuditReport) -> str:
    """SARIF 2.1.0: one rule per advisory, one result per affected package."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding in report.findings:
        advisory = finding.advisory
        rule: dict[str, Any] = {
            "id": advisory.id,
            "name": "VulnerableDependency",
            "shortDescription": {"text": _summary(finding) or advisory.id},
            "properties": {"tags": ["security", "dependency"], "aliases": list(advisory.aliases)},
        }
        if finding.rating.score is not None:
            rule["properties"]["security-severity"] = f"{finding.rating.score:.1f}"
        if advisory.references:
            rule["helpUri"] = advisory.references[0]
        rules.setdefault(advisory.id, rule)
        dep = finding.dependency
        fixed = f"; fixed in {finding.fixed_in}" if finding.fixed_in else "; no fixed release"
        location: dict[str, Any] = {"artifactLocation": {"uri": dep.source}}
        if dep.line:
            location["region"] = {"startLine": dep.line}
        results.append(
            {
                "ruleId": advisory.id,
                "level": _level(finding),
                "message": {
                    "text": f"{dep.name} {dep.version} is affected by {advisory.id} "
                    f"({_score(finding)}){fixed}; {_status(finding)}"
                },
                "locations": [{"physicalLocation": location}],
                "properties": {
                    "severity": str(finding.rating.severity),
                    "excepted": finding.excepted,
                },
            }
        )
    document = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gonogo-deps-audit",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
