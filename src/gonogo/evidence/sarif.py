"""Read lint findings: SARIF 2.1.0 (any linter that writes it) and ruff's JSON.

Both become one :class:`LintReport`: the findings with rule, level, message and location.
SARIF results that carry a ``suppressions`` entry (an in-source ``noqa`` or a reviewed
dismissal) are kept apart and not counted; SARIF's default level is ``warning``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gonogo.errors import EvidenceError, one_line

LintFormat = Literal["auto", "ruff", "sarif"]
Level = Literal["error", "warning", "note", "none"]

LEVELS: tuple[Level, ...] = ("none", "note", "warning", "error")
_HINT = "pass the output of `ruff check --output-format json` or a SARIF 2.1.0 file"
_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class Finding:
    """One lint finding."""

    rule: str
    level: Level
    message: str
    path: str | None
    line: int | None

    def to_json(self) -> dict[str, Any]:
        """JSON form, as checks keep it in their details."""
        return {
            "rule": self.rule,
            "level": self.level,
            "message": self.message,
            "path": self.path,
            "line": self.line,
        }


@dataclass(frozen=True)
class LintReport:
    """The findings of one or more linters, and those suppressed in the source."""

    tools: tuple[str, ...]
    findings: tuple[Finding, ...]
    suppressed: int = 0

    def at_least(self, level: Level) -> tuple[Finding, ...]:
        """Findings at ``level`` or more severe."""
        floor = LEVELS.index(level)
        return tuple(f for f in self.findings if LEVELS.index(f.level) >= floor)

    @staticmethod
    def by_rule(findings: tuple[Finding, ...]) -> dict[str, int]:
        """Number of findings per rule, most frequent first."""
        return dict(Counter(f.rule for f in findings).most_common())


def parse_lint(data: bytes, *, source: str, fmt: LintFormat = "auto") -> LintReport:
    """Parse ruff JSON or SARIF (told apart by shape when ``fmt`` is ``auto``)."""
    text = data.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise EvidenceError(f"{source}: is empty, expected lint findings", hint=_HINT)
    try:
        document: object = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise EvidenceError(
            f"{source}: not valid JSON ({one_line(str(error))})", hint=_HINT
        ) from None
    if fmt == "ruff" or (fmt == "auto" and isinstance(document, list)):
        return _ruff(document, source)
    if fmt == "sarif" or (fmt == "auto" and isinstance(document, dict) and "runs" in document):
        return _sarif(document, source)
    raise EvidenceError(f"{source}: neither ruff JSON nor SARIF", hint=_HINT)


def parse_lint_file(path: Path, fmt: LintFormat = "auto") -> LintReport:
    """Read and parse a lint report file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvidenceError(
            f"{path}: cannot read lint report ({error.strerror or error})", hint=_HINT
        ) from None
    return parse_lint(data, source=str(path), fmt=fmt)


def _ruff(document: object, source: str) -> LintReport:
    if not isinstance(document, list):
        raise EvidenceError(f"{source}: ruff JSON is a list of findings", hint=_HINT)
    findings = []
    for index, item in enumerate(document):
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise EvidenceError(f"{source}: finding #{index + 1} has no message", hint=_HINT)
        location = item.get("location")
        row = location.get("row") if isinstance(location, dict) else None
        code = item.get("code")
        findings.append(
            Finding(
                rule=str(code) if code else "syntax-error",
                level="error",
                message=_short(item["message"]),
                path=_text(item.get("filename")),
                line=row if isinstance(row, int) and not isinstance(row, bool) else None,
            )
        )
    return LintReport(tools=("ruff",), findings=tuple(findings))


def _sarif(document: object, source: str) -> LintReport:
    if not isinstance(document, dict) or not isinstance(document.get("runs"), list):
        raise EvidenceError(f'{source}: SARIF has no "runs" list', hint=_HINT)
    if not document["runs"]:
        raise EvidenceError(
            f"{source}: SARIF holds no runs (the linter did not run)",
            hint="pass the SARIF of a linter run that finished",
        )
    tools: list[str] = []
    findings: list[Finding] = []
    suppressed = 0
    for run_index, run in enumerate(document["runs"]):
        if not isinstance(run, dict):
            raise EvidenceError(f"{source}: runs[{run_index}] is not an object", hint=_HINT)
        tools.append(_tool_name(run))
        results = run.get("results")
        if results is None:
            # SARIF 2.1.0 §3.14.23: absent or null results mean they were not computed
            # (the tool failed); only an empty list means "nothing found"
            raise EvidenceError(
                f"{source}: runs[{run_index}] ({tools[-1]}) has no results list: "
                "the tool did not finish",
                hint='fix the linter run; a clean run writes "results": []',
            )
        if not isinstance(results, list):
            raise EvidenceError(f"{source}: runs[{run_index}].results is not a list", hint=_HINT)
        for result in results:
            if not isinstance(result, dict):
                raise EvidenceError(
                    f"{source}: runs[{run_index}] has a result that is not an object", hint=_HINT
                )
            if _is_suppressed(result):
                suppressed += 1
                continue
            findings.append(_sarif_finding(result, source))
    return LintReport(tools=tuple(tools), findings=tuple(findings), suppressed=suppressed)


def _is_suppressed(result: dict[str, Any]) -> bool:
    """Whether a suppression hides the result: SARIF 2.1.0 §3.27.23.

    Only accepted suppressions (no ``status`` means accepted) do: one under review or
    rejected, or an empty or malformed ``suppressions`` entry, leaves the finding counted.
    """
    suppressions = result.get("suppressions")
    if not isinstance(suppressions, list) or not suppressions:
        return False
    return all(isinstance(s, dict) and s.get("status") in (None, "accepted") for s in suppressions)


def _tool_name(run: dict[str, Any]) -> str:
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    name = driver.get("name") if isinstance(driver, dict) else None
    return str(name) if name else "unknown"


def _sarif_finding(result: dict[str, Any], source: str) -> Finding:
    message = result.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        text = message.get("id") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise EvidenceError(f"{source}: a SARIF result has no message text", hint=_HINT)
    level = result.get("level", "warning")
    if level not in LEVELS:
        raise EvidenceError(
            f"{source}: SARIF level {one_line(str(level))[:40]!r} is not one of "
            "error, warning, note, none"
        )
    path, line = _location(result)
    rule = result.get("ruleId") or _rule_from_descriptor(result) or "unknown"
    return Finding(rule=str(rule), level=level, message=_short(text), path=path, line=line)


def _location(result: dict[str, Any]) -> tuple[str | None, int | None]:
    locations = result.get("locations")
    if not isinstance(locations, list) or not locations:
        return None, None
    physical = locations[0].get("physicalLocation") if isinstance(locations[0], dict) else None
    if not isinstance(physical, dict):
        return None, None
    artifact = physical.get("artifactLocation")
    uri = _text(artifact.get("uri")) if isinstance(artifact, dict) else None
    region = physical.get("region")
    line = region.get("startLine") if isinstance(region, dict) else None
    return uri, line if isinstance(line, int) and not isinstance(line, bool) else None


def _rule_from_descriptor(result: dict[str, Any]) -> str | None:
    rule = result.get("rule")
    return _text(rule.get("id")) if isinstance(rule, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _short(text: str) -> str:
    return one_line(text)[:_MESSAGE_LIMIT]
