"""Read type-checker output: mypy (``--output json`` or its text), pyright (``--outputjson``).

All three become one :class:`TypeReport` of diagnostics with path, line, severity,
message and code. mypy's ``note:`` lines explain the error before them and are kept as
notes, never counted as errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gonogo.errors import EvidenceError, one_line

TypeFormat = Literal["auto", "mypy", "mypy-json", "pyright"]
Severity = Literal["error", "warning", "note"]

_HINT = "pass the output of `mypy --output json`, mypy's text output, or `pyright --outputjson`"
_MESSAGE_LIMIT = 300
# path:line[:column][:end_line:end_column]: severity: message  [code]
_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+?):(?P<line>\d+)(?::\d+)*: (?P<severity>error|warning|note): "
    r"(?P<message>.*?)(?:\s+\[(?P<code>[a-z0-9-]+)\])?$"
)
_MYPY_SUMMARY = re.compile(
    r"^(Found \d+ errors? in \d+ files?|Success: no issues found)", re.IGNORECASE
)
_PYRIGHT_SEVERITY: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "information": "note",
}


@dataclass(frozen=True)
class Diagnostic:
    """One type-checker diagnostic."""

    path: str
    line: int | None
    severity: Severity
    message: str
    code: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON form, as checks keep it in their details."""
        return {
            "rule": self.code or "type-error",
            "level": "error" if self.severity == "error" else self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
        }


@dataclass(frozen=True)
class TypeReport:
    """What one type-checker run reported."""

    tool: Literal["mypy", "pyright"]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity ``error``."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity ``warning``."""
        return tuple(d for d in self.diagnostics if d.severity == "warning")


def parse_typecheck(data: bytes, *, source: str, fmt: TypeFormat = "auto") -> TypeReport:
    """Parse type-checker output; ``auto`` tells the three formats apart by their shape."""
    text = data.decode("utf-8-sig", errors="replace")
    stripped = text.strip()
    if fmt == "auto":
        fmt = _detect(stripped)
    if fmt == "pyright":
        return _pyright(stripped, source)
    if fmt == "mypy-json":
        return _mypy_json(stripped, source)
    return _mypy_text(text, source)


def parse_typecheck_file(path: Path, fmt: TypeFormat = "auto") -> TypeReport:
    """Read and parse a type-checker report file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvidenceError(
            f"{path}: cannot read type-checker report ({error.strerror or error})", hint=_HINT
        ) from None
    return parse_typecheck(data, source=str(path), fmt=fmt)


def _detect(text: str) -> TypeFormat:
    if text.startswith("{") and '"generalDiagnostics"' in text[:100_000]:
        return "pyright"
    if text.startswith("{"):
        return "mypy-json"
    return "mypy"


def _pyright(text: str, source: str) -> TypeReport:
    try:
        document: object = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise EvidenceError(
            f"{source}: not valid JSON ({one_line(str(error))})", hint=_HINT
        ) from None
    items = document.get("generalDiagnostics") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise EvidenceError(
            f'{source}: not pyright JSON (no "generalDiagnostics" list)', hint=_HINT
        )
    found = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise EvidenceError(f"{source}: diagnostic #{index + 1} has no message", hint=_HINT)
        severity = _PYRIGHT_SEVERITY.get(str(item.get("severity")), "error")
        span = item.get("range")
        start = span.get("start") if isinstance(span, dict) else None
        line = start.get("line") if isinstance(start, dict) else None
        found.append(
            Diagnostic(
                path=str(item.get("file") or ""),
                line=line + 1 if isinstance(line, int) and not isinstance(line, bool) else None,
                severity=severity,
                message=_short(item["message"]),
                code=str(item["rule"]) if item.get("rule") else None,
            )
        )
    return TypeReport("pyright", tuple(found))


def _mypy_json(text: str, source: str) -> TypeReport:
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            item: object = json.loads(line)
        except (ValueError, RecursionError):
            if _MYPY_SUMMARY.match(line):
                continue
            raise EvidenceError(
                f"{source}:{number}: not a mypy JSON line ({one_line(line)[:60]!r})", hint=_HINT
            ) from None
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise EvidenceError(f"{source}:{number}: mypy JSON line has no message", hint=_HINT)
        severity = item.get("severity", "error")
        found.append(
            Diagnostic(
                path=str(item.get("file") or ""),
                line=item["line"] if isinstance(item.get("line"), int) else None,
                severity=severity if severity in ("error", "warning", "note") else "error",
                message=_short(item["message"]),
                code=str(item["code"]) if item.get("code") else None,
            )
        )
    return TypeReport("mypy", tuple(found))


def _mypy_text(text: str, source: str) -> TypeReport:
    found = []
    unknown = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or _MYPY_SUMMARY.match(line.strip()):
            continue
        match = _MYPY_LINE.match(line)
        if match is None:
            if not raw.startswith((" ", "\t")):  # --pretty prints source lines indented
                unknown.append(line)
            continue
        found.append(
            Diagnostic(
                path=match["path"],
                line=int(match["line"]),
                severity=match["severity"],  # type: ignore[arg-type]  # regex alternatives
                message=_short(match["message"]),
                code=match["code"],
            )
        )
    if unknown and not found:
        raise EvidenceError(
            f"{source}: not mypy output (first line: {one_line(unknown[0])[:80]!r})", hint=_HINT
        )
    return TypeReport("mypy", tuple(found))


def _short(text: str) -> str:
    return one_line(text)[:_MESSAGE_LIMIT]
