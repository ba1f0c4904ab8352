"""``gonogo ci``: the one blocking job: Phase-4 gates, exit code, JUnit, SARIF, step summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gonogo.evidence.junit import parse_junit_file
from tests.ci.fixtures import write_policy
from tests.helpers import Project, criterion, write_coverage, write_junit

REPORT_CRITERIA = """
[[gates.criteria]]
id = "tests"
check = "tests"
params = { path = "reports/junit.xml" }

[[gates.criteria]]
id = "lint"
check = "lint"
params = { path = "reports/ruff.json" }

[[gates.criteria]]
id = "coverage"
check = "coverage"
params = { path = "reports/coverage.json" }
threshold = { min = 80 }
"""

RUFF_FINDING = {
    "code": "F401",
    "message": "`os` imported but unused",
    "filename": "src/app.py",
    "location": {"row": 3, "column": 8},
}

SECURITY_GATE = """
[[gates]]
id = "security"
title = "Security"
phase = 5

[[gates.criteria]]
id = "scan"
check = "file"
params = { path = "SECURITY.md" }
"""


def _reports(root: Path, *, failed: int = 0, lint: int = 0) -> None:
    write_junit(root / "reports" / "junit.xml", passed=4, failed=failed)
    write_coverage(root / "reports" / "coverage.json", 90)
    findings = [RUFF_FINDING] * lint
    (root / "reports" / "ruff.json").write_text(json.dumps(findings), encoding="utf-8")


@pytest.fixture
def green(project: Project) -> Project:
    """A project whose Phase-4 gate reads passing reports; its owner has not signed."""
    write_policy(project.root, REPORT_CRITERIA, owners='"engineering"')
    _reports(project.root)
    return project


def test_green_gates_exit_0_even_before_owners_sign(green: Project) -> None:
    ci = green.run("ci")
    check = green.run("check", "--phase", "4")

    assert ci.code == 0
    assert "GO: 1 of 1 gate go" in ci.out
    assert check.code == 1  # the release decision still waits for the sign-off
    assert "needs sign-off by engineering" in check.out


def test_red_gates_exit_1_and_say_which(green: Project) -> None:
    _reports(green.root, failed=1, lint=2)

    result = green.run("ci")

    assert result.code == 1
    assert "gonogo ci: red: ci" in result.err
    assert "NO-GO: 1 of 1 gate no-go (ci)" in result.out


def test_writes_junit_sarif_and_summary_for_the_ci_system(green: Project) -> None:
    _reports(green.root, lint=1)
    junit, sarif, summary = (green.root / "out" / name for name in ("ci.xml", "ci.sarif", "ci.md"))

    result = green.run(
        "ci", "--junit", str(junit), "--sarif", str(sarif), "--summary", str(summary)
    )

    assert result.code == 1
    cases = parse_junit_file(junit)
    assert cases.tests == 3  # one per criterion; sign-offs are not a CI test case
    assert cases.failing() == ("gonogo.ci::lint",)
    log = json.loads(sarif.read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "ci.tests",
        "ci.lint",
        "ci.coverage",
    ]
    located = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    assert located[0][:2] == ("ci.lint", "gonogo.toml")  # the criterion, at its policy line
    policy_lines = (green.root / "gonogo.toml").read_text(encoding="utf-8").splitlines()
    at = located[0][2] - 1  # the criterion's table header, its id on the next line
    assert policy_lines[at : at + 2] == ["[[gates.criteria]]", 'id = "lint"']
    assert located[1] == ("ci.lint", "src/app.py", 3)  # and the finding behind it
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## ❌ gonogo ci: red — calc (failing: `ci`)")
    assert "| ❌ fail | `lint` (lint) | 1 |" in text


def test_appends_the_summary_to_the_github_step_summary(
    green: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))

    result = green.run("ci")

    assert result.code == 0
    text = step_summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## ✅ gonogo ci: green — calc")
    assert "the owners (engineering) sign this evaluation" in text


def test_an_unwritable_step_summary_is_one_error_line(
    green: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a folder

    result = green.run("ci")

    assert result.code == 2
    assert "cannot append the summary" in result.assert_one_error_line()


def test_only_phase_4_gates_run(green: Project) -> None:
    text = (green.root / "gonogo.toml").read_text(encoding="utf-8")
    (green.root / "gonogo.toml").write_text(text + SECURITY_GATE, encoding="utf-8")

    result = green.run("ci", "--format", "json")

    assert result.code == 0
    assert [g["id"] for g in result.json()["gates"]] == ["ci"]


def test_unchanged_reports_come_from_the_cache(green: Project) -> None:
    first = green.run("ci", "--format", "json").json()
    second = green.run("ci", "--format", "json").json()
    fresh = green.run("ci", "--format", "json", "--no-cache").json()

    assert not criterion(first, "ci.coverage")["cached"]
    assert criterion(second, "ci.coverage")["cached"]
    assert criterion(second, "ci.tests")["cached"]
    assert not criterion(fresh, "ci.coverage")["cached"]


def test_the_evaluation_is_stored_and_audited(green: Project) -> None:
    green.run("ci")

    status = green.run("status")
    audit = green.run("audit", "verify")

    assert "ci" in status.out
    assert audit.code == 0


def test_a_policy_without_phase_4_gates_is_a_usage_error(project: Project) -> None:
    write_policy(project.root, "")
    text = (project.root / "gonogo.toml").read_text(encoding="utf-8")
    (project.root / "gonogo.toml").write_text(
        text.split("[[gates]]")[0] + SECURITY_GATE, encoding="utf-8"
    )

    result = project.run("ci")

    assert result.code == 2
    assert "no gate is in phase 4" in result.assert_one_error_line()


def test_without_a_policy_it_is_one_error_line(project: Project) -> None:
    result = project.run("ci")

    assert result.code == 2
    assert "no policy found" in result.assert_one_error_line()


def test_help_still_works_with_the_bare_command_running_the_gates(project: Project) -> None:
    result = project.run("ci", "--help")

    assert result.code == 0
    assert "With no command: run the Phase-4 gates" in result.out
    for sub in ("init", "verify", "policy-doc"):
        assert sub in result.out
