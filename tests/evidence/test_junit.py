"""JUnit XML reports from real pytest, and realistic Surefire, Go and Jest samples."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.errors import EvidenceError
from gonogo.evidence import JUnitSummary, merge, parse_junit, parse_junit_file
from gonogo.evidence.junit import Outcome

DATA = Path(__file__).parent / "data"
SAMPLE_PROJECT = DATA / "sample_project"
FAILING = (
    "tests.check_shop::test_total_applies_discount",
    "tests.check_shop::test_total_is_stored",
)


@pytest.fixture(scope="session")
def pytest_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JUnit report written just now by real pytest on the sample project."""
    project = tmp_path_factory.mktemp("junit") / "project"
    shutil.copytree(SAMPLE_PROJECT, project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COVERAGE_"))}
    env |= {"HOME": str(project), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml=junit.xml"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr  # 1: some tests failed
    return project / "junit.xml"


# -- real pytest -----------------------------------------------------------------------------


def test_real_pytest_report_counts_each_outcome(pytest_report: Path) -> None:
    summary = parse_junit_file(pytest_report)
    assert (summary.tests, summary.failures, summary.errors, summary.skipped) == (5, 1, 1, 1)
    assert summary.passed == 2
    assert summary.time > 0


def test_real_pytest_report_names_the_failing_and_erroring_tests(pytest_report: Path) -> None:
    assert parse_junit_file(pytest_report).failing() == FAILING


def test_real_pytest_report_keeps_a_one_line_reason_per_case(pytest_report: Path) -> None:
    reasons = {case.name: case.message for case in parse_junit_file(pytest_report).cases}
    assert reasons["test_total_adds_prices"] is None
    assert "assert 4 == 3" in (reasons["test_total_applies_discount"] or "")
    assert "database unavailable" in (reasons["test_total_is_stored"] or "")
    assert reasons["test_exports_invoice"] == "exports are not ready"
    assert all("\n" not in (reason or "") for reason in reasons.values())


def test_committed_pytest_report_still_reads_the_same() -> None:
    summary = parse_junit_file(DATA / "pytest-junit.xml")
    assert (summary.tests, summary.passed, summary.failures, summary.errors) == (5, 2, 1, 1)
    assert summary.failing() == FAILING


def test_bare_testsuite_root_from_older_pytest_is_read() -> None:
    report = b"""<?xml version="1.0" encoding="utf-8"?>
    <testsuite name="pytest" errors="0" failures="1" skipped="0" tests="2" time="0.05">
      <testcase classname="tests.test_a" name="test_ok" time="0.001"/>
      <testcase classname="tests.test_a" name="test_bad" time="0.002">
        <failure message="assert 1 == 2">assert 1 == 2</failure>
      </testcase>
    </testsuite>"""
    summary = parse_junit(report, source="old.xml")
    assert (summary.tests, summary.failures, summary.passed) == (2, 1, 1)
    assert summary.failing() == ("tests.test_a::test_bad",)


# -- other producers -------------------------------------------------------------------------


def test_surefire_reruns_that_passed_are_not_failures() -> None:
    # Maven Surefire 3 with -Dsurefire.rerunFailingTestsCount=2: a flaky test keeps its
    # <flakyFailure>; a test that failed every rerun has <failure> plus <rerunFailure>s.
    summary = parse_junit_file(DATA / "surefire-TEST-com.acme.shop.OrderServiceTest.xml")
    assert (summary.tests, summary.failures, summary.errors, summary.skipped) == (6, 1, 1, 1)
    assert summary.passed == 3
    assert summary.failing() == (
        "com.acme.shop.OrderServiceTest::discountApplied",
        "com.acme.shop.OrderServiceTest::storesOrder",
    )
    flaky = next(case for case in summary.cases if case.name == "totalSurvivesSlowClock")
    assert flaky.outcome == "passed"


def test_go_junit_report_counts_packages_build_failures_and_empty_packages() -> None:
    # go test -v ./... 2>&1 | go-junit-report (v2): one suite per package with <properties>;
    # a package that does not compile becomes an "[build failed]" error case; a package
    # without tests is a suite with no cases.
    summary = parse_junit_file(DATA / "go-junit-report.xml")
    assert (summary.tests, summary.failures, summary.errors, summary.skipped) == (6, 1, 1, 1)
    assert summary.failing() == (
        "github.com/acme/shop/orders::TestTotal/with_discount",
        "github.com/acme/shop/billing::[build failed]",
    )
    assert summary.time == pytest.approx(0.033)
    assert {case.suite for case in summary.cases} == {
        "github.com/acme/shop/orders",
        "github.com/acme/shop/billing",
        "github.com/acme/shop/internal/version",
    }


def test_jest_suite_that_failed_to_run_counts_although_its_attributes_say_zero() -> None:
    # jest --reporters=jest-junit: the failure text has no message attribute, and a suite
    # that failed to compile reports tests="0" errors="1" around one error case.
    summary = parse_junit_file(DATA / "jest-junit.xml")
    assert (summary.tests, summary.failures, summary.errors, summary.skipped) == (5, 1, 1, 1)
    failed = next(case for case in summary.cases if case.outcome == "failed")
    assert failed.message == "Error: expect(received).toBe(expected) // Object.is equality"
    assert summary.failing(limit=1) == (
        "orders total applies the discount::orders total applies the discount",
    )


def test_nested_testsuites_are_counted_once() -> None:
    # gotestsum and several Java tools nest suites; the outer attributes repeat the inner ones.
    report = b"""<testsuites tests="3" failures="1">
      <testsuites name="unit" tests="3" failures="1">
        <testsuite name="a" tests="2" failures="1">
          <testsuite name="a.inner" tests="1"><testcase name="t1"/></testsuite>
          <testcase name="t2"><failure/></testcase>
        </testsuite>
        <testsuite name="b" tests="1"><testcase classname="b" name="t3"/></testsuite>
      </testsuites>
    </testsuites>"""
    summary = parse_junit(report, source="nested.xml")
    assert (summary.tests, summary.failures, summary.passed) == (3, 1, 2)
    assert summary.failing() == ("t2",)


def test_suite_without_cases_is_counted_from_its_attributes() -> None:
    report = b"""<testsuites>
      <testsuite name="summary-only" tests="10" failures="2" errors="1" skipped="3" time="4.5"/>
      <testsuite name="listed" tests="99"><testcase name="only"/></testsuite>
    </testsuites>"""
    summary = parse_junit(report, source="mixed.xml")
    assert (summary.tests, summary.failures, summary.errors, summary.skipped) == (11, 2, 1, 3)
    assert summary.passed == 5
    assert summary.cases[0].name == "only"


def test_merge_adds_up_reports_from_several_files(pytest_report: Path) -> None:
    merged = merge(
        [parse_junit_file(pytest_report), parse_junit_file(DATA / "go-junit-report.xml")]
    )
    assert (merged.tests, merged.failures, merged.errors, merged.skipped) == (11, 2, 2, 2)
    assert len(merged.cases) == 11  # the empty Go package adds none
    assert merged.failing(limit=10)[:2] == FAILING
    assert merge([]) == JUnitSummary(0, 0, 0, 0, 0.0, ())


def test_googletest_disabled_tests_count_as_skipped() -> None:
    # gtest --gtest_output=xml: a DISABLED_ test is a case with status="notrun".
    report = b"""<testsuites tests="2" failures="0" disabled="1" errors="0" name="AllTests">
      <testsuite name="Orders" tests="2" failures="0" disabled="1" skipped="0" errors="0">
        <testcase name="Total" status="run" result="completed" time="0." classname="Orders"/>
        <testcase name="DISABLED_Refund" status="notrun" result="suppressed" time="0."
                  classname="Orders"/>
      </testsuite>
    </testsuites>"""
    summary = parse_junit(report, source="gtest.xml")
    assert (summary.tests, summary.skipped, summary.passed) == (2, 1, 1)


def test_failing_lists_at_most_the_limit() -> None:
    cases = "".join(f'<testcase classname="c" name="t{i}"><error/></testcase>' for i in range(9))
    summary = parse_junit(f"<testsuite>{cases}</testsuite>".encode(), source="many.xml")
    assert summary.failing() == tuple(f"c::t{i}" for i in range(5))
    assert summary.failing(limit=2) == ("c::t0", "c::t1")
    assert summary.failing(limit=0) == ()


# -- malformed input -------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite name="&lol4;"><testcase name="x"/></testsuite>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="&secret;"/></testsuite>"""

MALFORMED = {
    "empty": (b"", "empty"),
    "blank": (b" \n\t", "empty"),
    "truncated": (b'<testsuites><testsuite name="a"><testcase name="t"', "not well-formed"),
    "html": (b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>", "HTML"),
    "html-without-doctype": (b"\n<HTML><body>Bad Gateway</body></HTML>", "HTML"),
    "xhtml": (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "HTML"),
    "wrong-root": (b'<coverage line-rate="0.9"/>', "<coverage>"),
    "negative-count": (b'<testsuite tests="-3"/>', "tests='-3'"),
    "text-count": (b'<testsuite tests="many"/>', "tests='many'"),
    "impossible-counts": (b'<testsuite tests="1" failures="2"/>', "in only 1 tests"),
    "bad-time": (b'<testsuite><testcase name="t" time="soon"/></testsuite>', "time='soon'"),
    "entity-bomb": (BILLION_LAUGHS, "DOCTYPE"),
    "external-entity": (EXTERNAL_ENTITY, "DOCTYPE"),
    "json": (b'{"tests": 3}', "not well-formed"),
    "unknown-encoding": (b'<?xml version="1.0" encoding="klingon"?><testsuite/>', "encoding"),
}


@pytest.mark.parametrize(("data", "complaint"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_report_is_one_line_naming_the_file(data: bytes, complaint: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        parse_junit(data, source="reports/junit.xml")
    message = str(caught.value)
    assert message.startswith("reports/junit.xml: ")
    assert complaint in message
    assert "\n" not in message


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.xml"
    with pytest.raises(EvidenceError, match=re.escape(f"{missing}: cannot read")):
        parse_junit_file(missing)
    with pytest.raises(EvidenceError, match="cannot read"):
        parse_junit_file(tmp_path)


# -- properties --------------------------------------------------------------------------------


def _never_crashes(data: bytes) -> None:
    try:
        summary = parse_junit(data, source="fuzz.xml")
    except EvidenceError as error:
        assert str(error).startswith("fuzz.xml: ")
        assert "\n" not in str(error)
    else:
        assert summary.passed >= 0


@settings(deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_summary_or_an_evidence_error(data: bytes) -> None:
    _never_crashes(data)


_Element = tuple[str, dict[str, str], list["_Element"]]
_TAGS = st.sampled_from(["testsuites", "testsuite", "testcase", "failure", "error", "skipped"])
_ATTRS = st.dictionaries(
    st.sampled_from(["tests", "failures", "errors", "skipped", "time", "name", "classname"]),
    st.one_of(st.integers(-5, 50).map(str), st.text(max_size=6), st.floats().map(str)),
    max_size=4,
)
_ELEMENTS: st.SearchStrategy[_Element] = st.recursive(
    st.builds(lambda tag, attrs: (tag, attrs, []), _TAGS, _ATTRS),
    lambda children: st.builds(
        lambda tag, attrs, kids: (tag, attrs, kids), _TAGS, _ATTRS, st.lists(children, max_size=4)
    ),
    max_leaves=12,
)


def _render(element: _Element) -> str:
    tag, attrs, children = element
    rendered = "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
    inner = "".join(_render(child) for child in children)
    return f"<{tag}{rendered}>{inner}</{tag}>"


@settings(deadline=None)
@given(_ELEMENTS)
def test_arbitrary_junit_shaped_xml_gives_a_summary_or_an_evidence_error(
    element: _Element,
) -> None:
    _never_crashes(_render(element).encode())


_OUTCOME_TAGS: dict[Outcome, str] = {
    "passed": "",
    "failed": '<failure message="boom">trace</failure>',
    "error": '<error message="crash"/>',
    "skipped": "<skipped/>",
}


@settings(deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(list(_OUTCOME_TAGS)), max_size=8),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_generated_reports_round_trip_their_counts(
    suites: list[list[Outcome]], wrap_in_testsuites: bool
) -> None:
    if not wrap_in_testsuites:
        suites = suites[:1]
    rendered = []
    for s, outcomes in enumerate(suites):
        cases = "".join(
            f'<testcase classname="pkg.s{s}" name="t{i}" time="0.5">{_OUTCOME_TAGS[o]}</testcase>'
            for i, o in enumerate(outcomes)
        )
        rendered.append(f'<testsuite name="s{s}" tests="{len(outcomes)}">{cases}</testsuite>')
    xml = "".join(rendered)
    if wrap_in_testsuites:
        xml = f"<testsuites>{xml}</testsuites>"

    summary = parse_junit(xml.encode(), source="generated.xml")

    flat = [(s, i, o) for s, outcomes in enumerate(suites) for i, o in enumerate(outcomes)]
    assert summary.tests == len(flat)
    assert summary.failures == sum(o == "failed" for _, _, o in flat)
    assert summary.errors == sum(o == "error" for _, _, o in flat)
    assert summary.skipped == sum(o == "skipped" for _, _, o in flat)
    assert summary.passed == sum(o == "passed" for _, _, o in flat)
    assert summary.time == pytest.approx(0.5 * len(flat))
    assert summary.failing(limit=len(flat)) == tuple(
        f"pkg.s{s}::t{i}" for s, i, o in flat if o in ("failed", "error")
    )
