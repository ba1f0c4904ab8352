"""``no-regression``: a count may not rise above the last passing release (the ratchet)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.ci.fixtures import write_policy
from tests.helpers import Project, criterion

UNUSED = ["os", "sys", "json", "re", "csv"]


def _ruff_report(root: Path, issues: int) -> None:
    """A real ruff JSON report with ``issues`` unused imports."""
    (root / "src").mkdir(exist_ok=True)
    body = "".join(f"import {name}\n" for name in UNUSED[:issues])
    (root / "src" / "mod.py").write_text(body or "X = 1\n", encoding="utf-8")
    (root / "reports").mkdir(exist_ok=True)
    subprocess.run(
        [
            "ruff",
            "check",
            "--no-cache",
            "--select",
            "F401",
            "--output-format",
            "json",
            "--output-file",
            "reports/ruff.json",
            "src",
        ],
        cwd=root,
        capture_output=True,
        check=False,
    )


def _ratchet_policy(root: Path, *, tolerance: float = 0, threshold: bool = True) -> None:
    limit = f'threshold = {{ relative_to = "last_pass", tolerance = {tolerance} }}'
    write_policy(
        root,
        f"""
        [[gates.criteria]]
        id = "lint"
        check = "lint"
        title = "Lint, with known debt"
        blocking = false
        params = {{ path = "reports/ruff.json", max_issues = 100 }}

        [[gates.criteria]]
        id = "ratchet"
        check = "no-regression"
        title = "Lint debt does not grow"
        params = {{ of = "lint" }}
        {limit if threshold else ""}
        """,
    )


def _ci(project: Project) -> tuple[int, dict[str, object]]:
    result = project.run("ci", "--format", "json")
    return result.code, criterion(result.json(), "ci.ratchet")


def test_the_first_release_records_the_baseline(project: Project) -> None:
    _ratchet_policy(project.root)
    _ruff_report(project.root, 3)
    project.run("release", "create", "1.0")

    code, ratchet = _ci(project)

    assert code == 0
    assert ratchet["status"] == "pass"
    assert ratchet["measured"] == 3
    assert "3 lint issues (ci.lint): recorded as the baseline" in ratchet["reason"]


def test_a_count_above_the_last_passing_release_fails(project: Project) -> None:
    _ratchet_policy(project.root)
    _ruff_report(project.root, 2)
    project.run("release", "create", "1.0")
    assert _ci(project)[0] == 0
    project.run("release", "create", "1.1")
    _ruff_report(project.root, 3)

    code, ratchet = _ci(project)

    assert code == 1
    assert ratchet["status"] == "fail"
    assert ratchet["expected"] == "<= 2"
    assert "3 lint issues (ci.lint): more than the last passing release allows" in ratchet["reason"]
    assert "(last passing release measured 2)" in ratchet["reason"]


def test_the_same_or_a_lower_count_passes_and_tolerance_allows_a_little_more(
    project: Project,
) -> None:
    _ratchet_policy(project.root, tolerance=1)
    _ruff_report(project.root, 2)
    project.run("release", "create", "1.0")
    _ci(project)
    project.run("release", "create", "1.1")

    _ruff_report(project.root, 1)
    lower = _ci(project)
    _ruff_report(project.root, 3)
    within_tolerance = _ci(project)
    _ruff_report(project.root, 4)
    beyond = _ci(project)

    assert lower[0] == 0
    assert lower[1]["status"] == "pass"
    assert within_tolerance[1]["status"] == "pass"
    assert beyond[1]["status"] == "fail"


def test_counts_skipped_tests_from_a_junit_report(project: Project) -> None:
    cases = "".join(f'<testcase name="t{i}"><skipped/></testcase>' for i in range(2))
    (project.root / "junit.xml").write_text(
        f'<testsuite name="s">{cases}<testcase name="ok"/></testsuite>', encoding="utf-8"
    )
    write_policy(
        project.root,
        """
        [[gates.criteria]]
        id = "skips"
        check = "no-regression"
        params = { report = "junit.xml", count = "skipped-tests" }
        threshold = { relative_to = "last_pass" }

        [[gates.criteria]]
        id = "skips-of"
        check = "no-regression"
        params = { of = "tests", field = "skipped" }
        threshold = { relative_to = "last_pass" }

        [[gates.criteria]]
        id = "tests"
        check = "junit"
        params = { path = "junit.xml" }
        """,
    )

    result = project.run("ci", "--format", "json")

    report = result.json()
    assert criterion(report, "ci.skips")["measured"] == 2
    assert criterion(report, "ci.skips")["reason"].startswith("2 skipped tests")
    assert criterion(report, "ci.skips-of")["measured"] == 2
    assert criterion(report, "ci.skips-of")["reason"].startswith("2 skipped (ci.tests)")


def test_without_a_relative_threshold_it_is_an_error_not_a_silent_pass(project: Project) -> None:
    _ratchet_policy(project.root, threshold=False)
    _ruff_report(project.root, 1)

    code, ratchet = _ci(project)

    assert code == 1
    assert ratchet["status"] == "error"
    assert 'needs `threshold = { relative_to = "last_pass" }`' in ratchet["reason"]


def test_a_field_that_is_not_a_number_is_an_error_listing_the_numeric_ones(
    project: Project,
) -> None:
    _ratchet_policy(project.root)
    _ruff_report(project.root, 1)
    text = (project.root / "gonogo.toml").read_text(encoding="utf-8")
    (project.root / "gonogo.toml").write_text(
        text.replace('{ of = "lint" }', '{ of = "lint", field = "tools" }'), encoding="utf-8"
    )

    _, ratchet = _ci(project)

    assert ratchet["status"] == "error"
    assert "gives no number as its detail 'tools'" in ratchet["reason"]
    assert "issues" in ratchet["reason"]


def test_of_must_name_a_criterion_of_the_same_gate(project: Project) -> None:
    _ratchet_policy(project.root)
    text = (project.root / "gonogo.toml").read_text(encoding="utf-8")
    (project.root / "gonogo.toml").write_text(
        text.replace('{ of = "lint" }', '{ of = "types" }'), encoding="utf-8"
    )
    _ruff_report(project.root, 1)

    _, ratchet = _ci(project)

    assert ratchet["status"] == "error"
    assert "gate ci has no criterion 'types'" in ratchet["reason"]


def test_a_missing_report_is_not_reported(project: Project) -> None:
    _ratchet_policy(project.root)

    _, ratchet = _ci(project)

    assert ratchet["status"] == "not_reported"
