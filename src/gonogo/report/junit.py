"""JUnit XML: one test suite per gate, one test case per criterion, for CI test views."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from gonogo.gates.results import CriterionResult, GateResult, RunReport, Status
from gonogo.report.interface import (
    ReportKind,
    clean_text,
    format_measured,
    open_signoffs,
    signoff_text,
    verdict_line,
)

__all__ = ["render_junit"]

#: the name of the extra test case a gate with owners gets for its sign-offs
SIGNOFF_CASE = "signoff"

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass
class _Tally:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    time: float = 0.0

    def add(self, other: _Tally) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped
        self.time += other.time

    def attributes(self) -> dict[str, str]:
        return {
            "tests": str(self.tests),
            "failures": str(self.failures),
            "errors": str(self.errors),
            "skipped": str(self.skipped),
            "time": _seconds(self.time),
        }


def render_junit(report: RunReport, *, kind: ReportKind, color: bool, width: int) -> str:
    """The report as JUnit XML; ``color`` and ``width`` do not apply."""
    del color, width  # part of the renderer protocol; XML has neither
    root = ET.Element("testsuites", {"name": "gonogo"})
    total = _Tally()
    for gate in report.gates:
        suite, tally = _suite(report, gate, kind)
        root.append(suite)
        total.add(tally)
    for key, value in total.attributes().items():
        root.set(key, value)
    ET.indent(root)
    return _XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _suite(report: RunReport, gate: GateResult, kind: ReportKind) -> tuple[ET.Element, _Tally]:
    suite = ET.Element("testsuite", {"name": _x(gate.gate)})
    tally = _Tally()
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report, gate, kind):
        ET.SubElement(properties, "property", {"name": name, "value": _x(value)})
    for criterion in gate.criteria:
        suite.append(_criterion_case(gate, criterion, tally))
    if gate.owners:
        suite.append(_signoff_case(gate, tally))
    attributes = tally.attributes()
    # keep the conventional attribute order: name, tests, failures, errors, skipped, time
    for key, value in attributes.items():
        suite.set(key, value)
    suite.set("timestamp", _x(report.generated_at))
    return suite, tally


def _properties(report: RunReport, gate: GateResult, kind: ReportKind) -> list[tuple[str, str]]:
    properties = [
        ("kind", kind.value),
        ("project", report.project),
        ("release", report.release or ""),
        ("title", gate.title),
        ("phase", str(gate.phase)),
        ("outcome", gate.outcome.value),
        ("verdict", gate.verdict.value),
        ("digest", gate.digest),
        ("owners", ", ".join(gate.owners)),
    ]
    if gate.score is not None:
        properties.append(("score", f"{gate.score:.4f}"))
    properties.append(("summary", verdict_line(report)))
    return properties


def _criterion_case(gate: GateResult, criterion: CriterionResult, tally: _Tally) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": _x(f"gonogo.{gate.gate}"),
            "name": _x(criterion.criterion),
            "time": _seconds(criterion.duration),
        },
    )
    tally.tests += 1
    tally.time += max(criterion.duration, 0.0)
    message = _x(criterion.reason)
    body = _body(criterion)
    match criterion.status:
        case Status.FAIL:
            tally.failures += 1
            _child(case, "failure", message, body, criterion.status)
        case Status.ERROR | Status.NOT_REPORTED:
            tally.errors += 1
            _child(case, "error", message, body, criterion.status)
        case Status.NOT_APPLICABLE | Status.WAIVED:
            tally.skipped += 1
            _child(case, "skipped", message, None, criterion.status)
        case Status.WARN:
            ET.SubElement(case, "system-out").text = f"warn: {body}"
        case Status.PASS:
            pass
    return case


def _child(
    case: ET.Element, tag: str, message: str, body: str | None, status: Status
) -> ET.Element:
    element = ET.SubElement(case, tag, {"message": message, "type": status.value})
    if body is not None:
        element.text = body
    return element


def _body(criterion: CriterionResult) -> str:
    lines = [
        _x(criterion.reason),
        f"status: {criterion.status.value}",
        f"measured: {format_measured(criterion.measured)}",
        f"expected: {_x(criterion.expected) if criterion.expected else '—'}",
    ]
    if not criterion.blocking:
        lines.append("advisory: does not block the gate")
    if criterion.cached:
        lines.append("cached: result reused from an earlier run with the same inputs")
    lines += [f"evidence: {_x(e.uri)} sha256={e.sha256 or '-'}" for e in criterion.evidence]
    return "\n".join(lines)


def _signoff_case(gate: GateResult, tally: _Tally) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": _x(f"gonogo.{gate.gate}"), "name": SIGNOFF_CASE, "time": "0.000"}
    )
    tally.tests += 1
    pending = open_signoffs(gate)
    if pending:
        tally.failures += 1
        summary = "; ".join(f"{_x(s.role)}: {signoff_text(s)}" for s in pending)
        element = ET.SubElement(
            case, "failure", {"message": f"sign-offs needed: {summary}", "type": "signoff"}
        )
        element.text = "\n".join(f"{_x(s.role)}: {signoff_text(s)}" for s in pending)
    return case


def _x(text: str) -> str:
    """Text XML 1.0 can hold: controls made visible, newlines kept."""
    return clean_text(text)
