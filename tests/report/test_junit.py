"""JUnit XML for CI test views: a suite per gate, a case per criterion, plus sign-offs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gonogo.gates.results import SignoffState, Status
from gonogo.report import Format, render
from tests.report import criterion, gate, go_report, mixed_report, report, signoff


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - our own output, not untrusted input


def case(root: ET.Element, gate_id: str, name: str) -> ET.Element:
    found = root.find(f".//testcase[@classname='gonogo.{gate_id}'][@name='{name}']")
    assert found is not None, f"no test case gonogo.{gate_id} {name}"
    return found


def test_totals_match_the_statuses_and_signoffs() -> None:
    root = parse(render(mixed_report(), Format.JUNIT))

    assert root.tag == "testsuites"
    assert root.get("name") == "gonogo"
    # 8 criteria + 3 sign-off cases; fail + 2 failing sign-off cases; error + not_reported;
    # waived + not_applicable
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "11",
        "3",
        "2",
        "2",
    )


def test_counts_equal_the_elements_in_every_suite() -> None:
    root = parse(render(mixed_report(), Format.JUNIT))

    for suite in root.findall("testsuite"):
        assert int(suite.get("tests", "")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors", "")) == len(suite.findall("testcase/error"))
        assert int(suite.get("skipped", "")) == len(suite.findall("testcase/skipped"))


def test_one_suite_per_gate_one_case_per_criterion() -> None:
    root = parse(render(mixed_report(), Format.JUNIT))

    assert [s.get("name") for s in root.findall("testsuite")] == ["quality", "security", "features"]
    names = [c.get("name") for c in root.findall("testsuite[@name='quality']/testcase")]
    assert names == ["unit-tests", "coverage", "lint", "perf", "flaky", "signoff"]
    assert case(root, "quality", "unit-tests").get("time") == "1.250"


def test_each_status_maps_to_its_junit_element() -> None:
    root = parse(render(mixed_report(), Format.JUNIT))

    assert list(case(root, "quality", "unit-tests")) == []
    failure = case(root, "quality", "coverage").find("failure")
    assert failure is not None
    assert failure.get("message") == "coverage 81% < 90% | in src/pay\nsee report & fix"
    assert "measured: 0.81" in (failure.text or "")
    assert "expected: >= 0.90" in (failure.text or "")
    warn = case(root, "quality", "lint")
    assert warn.find("failure") is None
    assert (warn.findtext("system-out") or "").startswith("warn: 3 warnings")
    assert case(root, "quality", "perf").find("error") is not None
    assert case(root, "security", "vulns").find("error") is not None
    assert case(root, "quality", "flaky").find("skipped") is not None
    assert case(root, "security", "sbom").find("skipped") is not None


def test_signoff_case_fails_for_stale_missing_and_invalid() -> None:
    root = parse(render(mixed_report(), Format.JUNIT))

    quality = case(root, "quality", "signoff").find("failure")
    assert quality is not None
    assert quality.get("message") == (
        "sign-offs needed: qa: stale (evidence changed since quinn signed)"
    )
    security = case(root, "security", "signoff").find("failure")
    assert security is not None
    assert "security: missing" in (security.get("message") or "")
    assert "ops: invalid" in (security.get("message") or "")
    assert list(case(root, "features", "signoff")) == []


def test_gate_without_owners_has_no_signoff_case() -> None:
    root = parse(render(report(gate(owners=())), Format.JUNIT))

    assert [c.get("name") for c in root.iter("testcase")] == ["unit-tests"]


def test_go_report_has_no_failures() -> None:
    root = parse(render(go_report(), Format.JUNIT))

    assert (root.get("failures"), root.get("errors")) == ("0", "0")


def test_zero_gates_is_an_empty_testsuites() -> None:
    root = parse(render(report(), Format.JUNIT))

    assert root.findall("testsuite") == []
    assert root.get("tests") == "0"


def test_suite_properties_carry_the_gate_verdict() -> None:
    root = parse(render(mixed_report(), Format.JUNIT))
    properties = {
        p.get("name"): p.get("value")
        for p in root.findall("testsuite[@name='quality']/properties/property")
    }

    assert properties["verdict"] == "no-go"
    assert properties["outcome"] == "fail"
    assert properties["score"] == "0.7100"
    assert properties["phase"] == "1"


def test_control_characters_in_a_reason_keep_the_xml_well_formed() -> None:
    bad = criterion(status=Status.FAIL, reason="nul \x00 esc \x1b bell \x07 <&>")
    run = report(gate(criteria=(bad,), signoffs=(signoff("qa", SignoffState.MISSING),)))

    failure = case(parse(render(run, Format.JUNIT)), "quality", "unit-tests").find("failure")
    assert failure is not None
    assert failure.get("message") == "nul ␀ esc ␛ bell ␇ <&>"
