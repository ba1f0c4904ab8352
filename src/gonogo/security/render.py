"""Render a findings :class:`~gonogo.security.findings.Report`: text, JSON, SARIF, Markdown,
or one HTML page built by :func:`findings_document` to show what the Markdown shows.

Renderers return text and never print. The JSON carries ``"schema":
"gonogo.<tool>/v1"``; SARIF is 2.1.0 with GitHub's ``security-severity`` per rule.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, assert_never

from gonogo import __version__
from gonogo.report.document import Document, Outcome, Section, Table, to_html
from gonogo.security.findings import Finding, Passed, Report, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: GitHub code scanning reads this number to rank findings
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


#: how a finding under ``--fail-on`` is marked: it is reported but does not fail
BELOW_FAIL_ON = "(below fail-on)"

#: the findings table's columns, the same in Markdown and HTML
FINDING_COLUMNS = ("severity", "where", "rule", "subject", "reason", "fix")


class FindingsFormat(StrEnum):
    """Output formats of the security commands."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


def render(report: Report, fmt: FindingsFormat, fail_on: Severity) -> str:
    """``report`` in format ``fmt``; ``fail_on`` marks which findings fail."""
    if fmt is FindingsFormat.TEXT:
        return render_text(report, fail_on)
    if fmt is FindingsFormat.JSON:
        return json.dumps(to_json(report, fail_on), indent=2) + "\n"
    if fmt is FindingsFormat.SARIF:
        return json.dumps(to_sarif(report), indent=2) + "\n"
    if fmt is FindingsFormat.MARKDOWN:
        return render_markdown(report, fail_on)
    if fmt is FindingsFormat.HTML:
        return to_html(findings_document(report, fail_on))
    assert_never(fmt)


def counts(report: Report) -> dict[str, int]:
    """Findings per severity, worst first."""
    out = {s.value: 0 for s in reversed(Severity)}
    for finding in report.findings:
        out[finding.severity.value] += 1
    return out


def summary(report: Report, fail_on: Severity) -> str:
    """One line: how many findings, of which severities, and how many fail."""
    found = ", ".join(f"{n} {sev}" for sev, n in counts(report).items() if n) or "none"
    failing = len(report.failing(fail_on))
    verdict = f"{failing} at or above {fail_on}" if failing else f"none at or above {fail_on}"
    return f"{len(report.findings)} finding(s) ({found}); {verdict}"


def to_json(report: Report, fail_on: Severity) -> dict[str, Any]:
    """The stable JSON form (``gonogo.<tool>/v1``)."""
    return {
        "schema": f"gonogo.{report.tool}/v1",
        "tool": report.tool,
        "target": report.target,
        "fail_on": fail_on.value,
        "verdict": "fail" if report.failing(fail_on) else "pass",
        "counts": counts(report),
        "findings": [f.to_json() for f in report.findings],
        "passed": [p.to_json() for p in report.passed],
        "skipped": [p.to_json() for p in report.skipped],
        "scanned": list(report.scanned),
    }


def render_text(report: Report, fail_on: Severity) -> str:
    """A human report: each finding with where, why and the fix; then what passed."""
    lines = [report.title]
    if report.scanned:
        lines.append(f"scanned {len(report.scanned)} file(s)")
    for f in report.findings:
        mark = "" if f.severity.at_least(fail_on) else f" {BELOW_FAIL_ON}"
        subject = f"  {f.subject}" if f.subject else ""
        lines.append(f"{f.severity.value.upper():<8}  {f.where}  {f.rule}{subject}{mark}")
        lines.append(f"          {f.reason}")
        lines.append(f"          fix: {f.fix}")
    lines += [f"ok        {p.rule}: {p.detail}" for p in report.passed]
    lines += [f"skipped   {p.rule}: {p.detail}" for p in report.skipped]
    verdict = "FAIL" if report.failing(fail_on) else "PASS"
    lines.append(f"{verdict}: {summary(report, fail_on)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, fail_on: Severity) -> str:
    """A Markdown section with a findings table, for a ticket or a sign-off report."""
    verdict = "FAIL" if report.failing(fail_on) else "PASS"
    lines = [
        f"## {_cell(report.title)}",
        "",
        f"**{verdict}**: {summary(report, fail_on)}.",
        "",
    ]
    if report.findings:
        lines += [
            "| " + " | ".join(FINDING_COLUMNS) + " |",
            "| " + " | ".join("---" for _ in FINDING_COLUMNS) + " |",
        ]
        for f in report.findings:
            severity, where, rule, subject, reason, fix = finding_cells(f, fail_on)
            subject = f"`{_cell(subject)}`" if subject else ""
            lines.append(
                f"| {severity} | `{_cell(where)}` | `{_cell(rule)}` | {subject} | "
                f"{_cell(reason)} | {_cell(fix)} |"
            )
        lines.append("")
    if report.passed:
        lines += ["Passed:", ""] + [f"- `{p.rule}`: {_cell(p.detail)}" for p in report.passed]
        lines.append("")
    if report.skipped:
        lines += ["Skipped:", ""] + [f"- `{p.rule}`: {_cell(p.detail)}" for p in report.skipped]
        lines.append("")
    return "\n".join(lines)


def finding_cells(finding: Finding, fail_on: Severity) -> tuple[str, str, str, str, str, str]:
    """A finding's row (:data:`FINDING_COLUMNS`): its severity, marked when it is below
    ``fail_on`` as the text marks it, where, rule, subject, reason and fix."""
    severity = finding.severity.value
    if not finding.severity.at_least(fail_on):
        severity = f"{severity} {BELOW_FAIL_ON}"
    return (severity, finding.where, finding.rule, finding.subject, finding.reason, finding.fix)


def _checks(heading: str, checks: tuple[Passed, ...]) -> Section:
    rows = [(p.rule, p.detail) for p in checks]
    return Section(heading, tables=(Table.of(("rule", "detail"), rows),))


def findings_document(report: Report, fail_on: Severity) -> Document:
    """The Markdown section's content as a report document: verdict, findings, passed, skipped."""
    failing = bool(report.failing(fail_on))
    sections = []
    if report.findings:
        rows = [finding_cells(f, fail_on) for f in report.findings]
        table = Table.of(FINDING_COLUMNS, rows)
        sections.append(Section("Findings", tables=(table,)))
    if report.passed:
        sections.append(_checks("Passed", report.passed))
    if report.skipped:
        sections.append(_checks("Skipped", report.skipped))
    return Document(
        title=report.title,
        outcome=Outcome("FAIL", "bad") if failing else Outcome("PASS", "good"),
        summary=f"{summary(report, fail_on)}.",
        sections=tuple(sections),
    )


def to_sarif(report: Report) -> dict[str, Any]:
    """SARIF 2.1.0: one run, one rule per finding rule, one result per finding."""
    rules: dict[str, Finding] = {}
    for finding in report.findings:
        rules.setdefault(finding.rule, finding)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": f"gonogo {report.tool}",
                        "version": __version__,
                        "rules": [_sarif_rule(rule, f) for rule, f in rules.items()],
                    }
                },
                "results": [_sarif_result(f) for f in report.findings],
            }
        ],
    }


def _sarif_rule(rule: str, example: Finding) -> dict[str, Any]:
    return {
        "id": rule,
        "shortDescription": {"text": rule},
        "help": {"text": example.fix},
        "properties": {
            "security-severity": SECURITY_SEVERITY[example.severity],
            "tags": ["security"],
        },
    }


def _sarif_result(finding: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": finding.file}}
    if finding.line:
        location["region"] = {"startLine": finding.line}
    return {
        "ruleId": finding.rule,
        "level": SARIF_LEVEL[finding.severity],
        "message": {"text": f"{finding.reason}. Fix: {finding.fix}"},
        "locations": [{"physicalLocation": location}],
        "properties": {"severity": finding.severity.value, "subject": finding.subject},
    }
