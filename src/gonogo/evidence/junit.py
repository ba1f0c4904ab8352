"""Read JUnit XML test reports into one typed summary.

Accepts the dialects real tools write: pytest (``<testsuites><testsuite>`` or a bare
``<testsuite>``), Maven Surefire (``<flakyFailure>``/``<rerunFailure>`` are reruns, not
failures), go-junit-report and gotestsum (nested suites, ``<properties>``) and jest-junit.
Counts come from the ``<testcase>`` elements, because producers disagree on what the suite
attributes mean; a suite without cases falls back to its attributes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree.ElementTree import Element

from gonogo.errors import EvidenceError, one_line
from gonogo.evidence.xml import count_attribute, load_xml, local_name

Outcome = Literal["passed", "failed", "error", "skipped"]

_ROOTS = ("testsuites", "testsuite")
# The child elements that end a case other than "passed", strongest first. Surefire's
# <flakyFailure>/<rerunFailure> record reruns and are deliberately not among them.
_OUTCOME_ELEMENTS: tuple[tuple[Outcome, str], ...] = (
    ("failed", "failure"),
    ("error", "error"),
    ("skipped", "skipped"),
)
# GoogleTest marks disabled tests with status="notrun" and no child element.
_NOT_RUN = frozenset({"notrun", "skipped", "disabled"})
_MAX_DEPTH = 64  # suites nest a few levels deep; far more is a hostile or broken file
_MESSAGE_LIMIT = 500
_HINT = "pass the JUnit XML file your test runner wrote (e.g. pytest --junitxml=report.xml)"


@dataclass(frozen=True)
class JUnitCase:
    """One ``<testcase>`` and how it ended."""

    suite: str
    classname: str
    name: str
    outcome: Outcome
    time: float
    message: str | None

    @property
    def label(self) -> str:
        """``classname::name``, or just the name when there is no class."""
        return f"{self.classname}::{self.name}" if self.classname else self.name


@dataclass(frozen=True)
class JUnitSummary:
    """Counts and cases of one or more JUnit reports."""

    tests: int
    failures: int
    errors: int
    skipped: int
    time: float
    cases: tuple[JUnitCase, ...]

    @property
    def passed(self) -> int:
        """Tests that neither failed, errored nor were skipped."""
        return self.tests - self.failures - self.errors - self.skipped

    def failing(self, limit: int = 5) -> tuple[str, ...]:
        """``classname::name`` of the first ``limit`` failed or errored cases."""
        labels = (case.label for case in self.cases if case.outcome in ("failed", "error"))
        return tuple(label for _, label in zip(range(max(limit, 0)), labels, strict=False))


@dataclass(frozen=True)
class _Counts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(
            self.tests + other.tests,
            self.failures + other.failures,
            self.errors + other.errors,
            self.skipped + other.skipped,
        )


def parse_junit(data: bytes, *, source: str) -> JUnitSummary:
    """Parse a JUnit XML report; ``source`` names the file in error messages.

    Raises :class:`EvidenceError` for anything that is not a readable JUnit report.
    """
    root = _xml_root(data, source)
    tag = local_name(root.tag)
    if tag not in _ROOTS:
        raise EvidenceError(
            f"{source}: root element is <{one_line(tag)}>, expected <testsuites> or <testsuite>",
            hint=_HINT,
        )
    cases: list[JUnitCase] = []
    counts = _walk(root, source, cases, depth=0)
    time = _time_of(root, source, cases)
    return JUnitSummary(
        counts.tests, counts.failures, counts.errors, counts.skipped, time, tuple(cases)
    )


def parse_junit_file(path: Path) -> JUnitSummary:
    """Read and parse a JUnit XML file; raises :class:`EvidenceError` if it cannot."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvidenceError(
            f"{path}: cannot read JUnit report ({error.strerror or error})", hint=_HINT
        ) from error
    return parse_junit(data, source=str(path))


def merge(summaries: Iterable[JUnitSummary]) -> JUnitSummary:
    """Combine the summaries of several report files into one."""
    tests = failures = errors = skipped = 0
    time = 0.0
    cases: list[JUnitCase] = []
    for summary in summaries:
        tests += summary.tests
        failures += summary.failures
        errors += summary.errors
        skipped += summary.skipped
        time += summary.time
        cases.extend(summary.cases)
    return JUnitSummary(tests, failures, errors, skipped, time, tuple(cases))


def _xml_root(data: bytes, source: str) -> Element:
    return load_xml(data, source=source, what="JUnit XML", hint=_HINT)


def _walk(element: Element, source: str, cases: list[JUnitCase], *, depth: int) -> _Counts:
    """Count ``element`` (a suite or suite list), appending its cases in document order."""
    if depth > _MAX_DEPTH:
        raise EvidenceError(f"{source}: test suites nest more than {_MAX_DEPTH} levels deep")
    declared = _declared_counts(element, source)
    is_suite = local_name(element.tag) == "testsuite"
    suite_name = element.get("name", "") if is_suite else ""
    counts = _Counts()
    seen_child = False
    for child in element:
        tag = local_name(child.tag)
        if tag in _ROOTS:
            seen_child = True
            counts += _walk(child, source, cases, depth=depth + 1)
        elif tag == "testcase":
            seen_child = True
            case = _case(child, suite_name, source)
            cases.append(case)
            counts += _count_of(case.outcome)
    if seen_child:
        return counts
    _check_consistent(element, declared, source)
    return declared


def _declared_counts(element: Element, source: str) -> _Counts:
    """The counts a suite's attributes claim; used only when it lists no cases."""
    return _Counts(
        tests=count_attribute(element, "tests", source),
        failures=count_attribute(element, "failures", source),
        errors=count_attribute(element, "errors", source),
        skipped=count_attribute(element, "skipped", source),
    )


def _check_consistent(element: Element, counts: _Counts, source: str) -> None:
    # Only checked when the attributes are all there is: jest-junit, for one, writes
    # tests="0" errors="1" around the case of a suite that failed to run.
    if counts.failures + counts.errors + counts.skipped > counts.tests:
        raise EvidenceError(
            f"{source}: <{local_name(element.tag)} name={element.get('name', '')!r}> counts "
            f"{counts.failures} failures, {counts.errors} errors and {counts.skipped} skipped "
            f"in only {counts.tests} tests"
        )


def _case(element: Element, suite: str, source: str) -> JUnitCase:
    outcome: Outcome = "passed"
    detail: Element | None = None
    for kind, tag in _OUTCOME_ELEMENTS:
        found = _first_child(element, tag)
        if found is not None:
            outcome, detail = kind, found
            break
    else:
        if element.get("status", "").lower() in _NOT_RUN:
            outcome = "skipped"
    return JUnitCase(
        suite=suite,
        classname=element.get("classname", ""),
        name=element.get("name", ""),
        outcome=outcome,
        time=_time_attr(element, source),
        message=_message(detail),
    )


def _count_of(outcome: Outcome) -> _Counts:
    return _Counts(
        tests=1,
        failures=int(outcome == "failed"),
        errors=int(outcome == "error"),
        skipped=int(outcome == "skipped"),
    )


def _time_of(root: Element, source: str, cases: list[JUnitCase]) -> float:
    """The report's duration: the root's ``time`` or else its suites' or cases' times."""
    if root.get("time", "").strip():
        return _time_attr(root, source)
    suites = [child for child in root if local_name(child.tag) == "testsuite"]
    if suites and all(suite.get("time", "").strip() for suite in suites):
        return math.fsum(_time_attr(suite, source) for suite in suites)
    return math.fsum(case.time for case in cases)


def _time_attr(element: Element, source: str) -> float:
    # Older Surefire versions write locale-formatted times such as "1,234.5".
    raw = element.get("time", "").strip().replace(",", "")
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise EvidenceError(
            f"{source}: <{local_name(element.tag)}> attribute time={one_line(raw)[:60]!r} "
            "is not a non-negative number of seconds"
        )
    return value


def _message(detail: Element | None) -> str | None:
    if detail is None:
        return None
    message = detail.get("message", "").strip()
    if not message:
        message = next(_nonblank_lines(detail.text or ""), "")
    return one_line(message)[:_MESSAGE_LIMIT] or None


def _first_child(element: Element, tag: str) -> Element | None:
    return next((child for child in element if local_name(child.tag) == tag), None)


def _nonblank_lines(text: str) -> Iterator[str]:
    return (line.strip() for line in text.splitlines() if line.strip())
