"""Rendering a scan: text for people, JSON for scripts, SARIF 2.1.0 for code-scanning UIs,
Markdown and one HTML page (:mod:`gonogo.secrets.document`) for tickets and reviews.

Every format shows a finding's redacted preview and fingerprint; none holds the secret.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any, assert_never

from gonogo import __version__
from gonogo.secrets.model import JSON_SCHEMA, SKIPPED, Finding, ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: how many hex digits of a fingerprint the text, Markdown and HTML show
FINGERPRINT_DIGITS = 12


class ScanFormat(StrEnum):
    """An output format of ``gonogo secrets scan``."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def scope_line(result: ScanResult) -> str:
    """What was scanned: ``120 files (482.1 kB) and 3 commits``."""
    scope = f"{result.files} files ({_size(result.bytes)})"
    if result.history:
        scope += f" and {result.commits} commits"
    return scope


def summary_line(result: ScanResult) -> str:
    """One line: how many secrets, suppressed, files, commits."""
    scope = scope_line(result)
    suppressed = (
        f" ({len(result.suppressed)} suppressed by the baseline)" if result.suppressed else ""
    )
    count = len(result.findings)
    if count == 0:
        return f"no secrets found in {scope}{suppressed}"
    noun = "secret" if count == 1 else "secrets"
    return f"{count} {noun} found in {scope}{suppressed}"


def _where(finding: Finding) -> str:
    place = f"{finding.path}:{finding.line}:{finding.column}"
    if finding.commit:
        place += f" (commit {finding.commit[:12]}, {finding.author}, {finding.date})"
    return place


def skipped_counts(result: ScanResult) -> Counter[str]:
    """Files that could not be scanned, counted by reason (``binary``, ``too large``…)."""
    return Counter(n.kind.value.replace("_", " ") for n in result.notices if n.kind in SKIPPED)


def render_text(result: ScanResult) -> str:
    """One line per finding, then warnings, skipped files and the summary."""
    lines = [
        f"{_where(f)}  {f.rule_id}  {f.preview}  fingerprint {f.fingerprint[:FINGERPRINT_DIGITS]}"
        for f in result.findings
    ]
    lines += [f"warning: {n.path}: {n.message}" for n in result.warnings]
    skipped = skipped_counts(result)
    if skipped:
        lines.append("skipped: " + ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items())))
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def render_json(result: ScanResult) -> str:
    """The ``gonogo.secrets/v1`` document."""
    body: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "root": result.root,
        "summary": {
            "findings": len(result.findings),
            "suppressed": len(result.suppressed),
            "files": result.files,
            "bytes": result.bytes,
            "commits": result.commits,
            "history": result.history,
            "seconds": round(result.seconds, 3),
        },
        "baseline": (
            {"path": result.baseline, "sha256": result.baseline_sha256} if result.baseline else None
        ),
        "findings": [f.to_json() for f in result.findings],
        "suppressed": [f.to_json() for f in result.suppressed],
        "notices": [n.to_json() for n in result.notices],
    }
    return json.dumps(body, indent=2) + "\n"


def _sarif_result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": "error",
        "message": {"text": f"{finding.description}: {finding.preview}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": "SRCROOT"},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {"gonogo/v1": finding.fingerprint},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if finding.commit:
        result["properties"] = {
            "commit": finding.commit,
            "author": finding.author,
            "date": finding.date,
        }
    return result


def render_sarif(result: ScanResult) -> str:
    """A SARIF 2.1.0 log with one run: every rule, one result per finding."""
    rules = [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.description or rule.id},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security", "secret", *rule.tags]},
        }
        for rule in result.rules
    ]
    index = {rule.id: i for i, rule in enumerate(result.rules)}
    notifications = [
        {"level": "warning", "message": {"text": f"{n.path}: {n.message}"}} for n in result.warnings
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gonogo",
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": _root_uri(result.root)}},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [_sarif_result(f, index) for f in result.findings],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _root_uri(root: str) -> str:
    return Path(root).resolve().as_uri() + "/"


def render(result: ScanResult, fmt: ScanFormat) -> str:
    """``result`` in format ``fmt``."""
    match fmt:
        case ScanFormat.TEXT:
            return render_text(result)
        case ScanFormat.JSON:
            return render_json(result)
        case ScanFormat.SARIF:
            return render_sarif(result)
        case ScanFormat.MARKDOWN | ScanFormat.HTML:
            # Imported here: the scan's worker processes import this package, and they
            # need no report templates (Jinja2) to start.
            from gonogo.secrets.document import render_page  # noqa: PLC0415

            return render_page(result, fmt)
        case _:  # pragma: no cover - exhaustive
            assert_never(fmt)
