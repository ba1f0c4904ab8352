"""Hostile or mistaken inputs through `gonogo check`: a clean `error`, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Project, criterion, write_junit

HEAD = """
version = 1

[project]
name = "hostile"

[owners]
engineering = ["alice@example.com"]

[[gates]]
id = "quality"
title = "Quality"
phase = 4
owners = []
"""


def policy(check: str, params: str, extra: str = "") -> str:
    """A policy whose one criterion is ``quality.c``."""
    return HEAD + (
        f'\n[[gates.criteria]]\nid = "c"\ncheck = "{check}"\nparams = {{ {params} }}\n{extra}\n'
    )


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A git repository to write a policy into and run `gonogo` on."""
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    return Project(root, capsys, monkeypatch)


def check(project: Project, check: str, params: str, extra: str = "", *args: str) -> dict[str, Any]:
    """Run `gonogo check ARGS` on a one-criterion policy; the criterion's result."""
    project.policy(policy(check, params, extra))
    result = project.run("check", "--format", "json", *args)
    assert "Traceback" not in result.out + result.err
    return criterion(result.json(), "quality.c")


def assert_error(result: dict[str, Any], *needles: str) -> None:
    assert result["status"] == "error", result
    assert "crashed" not in result["reason"], result["reason"]
    assert "\n" not in result["reason"]
    for needle in needles:
        assert needle in result["reason"], result["reason"]


# -- report paths and globs -----------------------------------------------------------------


def test_an_absolute_glob_reads_the_reports_outside_the_project(
    project: Project, tmp_path: Path
) -> None:
    write_junit(tmp_path / "artifacts" / "junit-1.xml", passed=2)
    write_junit(tmp_path / "artifacts" / "junit-2.xml", passed=3)
    result = check(project, "junit", f'path = "{tmp_path}/artifacts/junit-*.xml"')
    assert result["status"] == "pass", result
    assert result["measured"] == 5


@pytest.mark.parametrize("check_type", ["junit", "coverage"])
def test_a_glob_pathlib_refuses_is_an_error_naming_the_parameter(
    project: Project, check_type: str
) -> None:
    result = check(project, check_type, 'path = "reports/junit**.xml"')
    assert_error(result, "`path` 'reports/junit**.xml' is not a usable glob", "whole path segment")


def test_an_empty_path_says_it_is_empty(project: Project) -> None:
    assert_error(check(project, "junit", 'path = ""'), "`path` of the JUnit report is empty")


def test_a_path_too_long_for_the_system_is_an_error_naming_it(project: Project) -> None:
    assert_error(check(project, "junit", f'path = "{"a" * 300}.xml"'), "File name too long")
    assert_error(check(project, "junit", f'path = "{"a" * 300}/*.xml"'), "File name too long")


def test_a_device_as_the_report_is_an_error_not_a_missing_report(project: Project) -> None:
    assert_error(check(project, "junit", 'path = "/dev/null"'), "not a regular file")


def test_no_regression_names_its_report_parameter(project: Project) -> None:
    result = check(
        project,
        "no-regression",
        'report = "x**", count = "lint-issues"',
        'threshold = { relative_to = "last_pass" }',
    )
    assert_error(result, "`report` 'x**' is not a usable glob")


def test_command_inputs_outside_the_project_are_digested(project: Project, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "schema.sql").write_text("create table t (id int);\n")
    run = json.dumps([sys.executable, "-c", "print('ok')"])
    params = f'run = {run}, inputs = ["{tmp_path}/shared/*.sql", "../shared/*.sql"]'
    result = check(project, "command", params)
    assert result["status"] == "pass", result
    assert [e["kind"] for e in result["evidence"]] == ["command-output", "command-inputs"]


def test_command_inputs_glob_pathlib_refuses_is_an_error(project: Project) -> None:
    run = json.dumps([sys.executable, "-c", "print('ok')"])
    result = check(project, "command", f'run = {run}, inputs = ["src**"]')
    assert_error(result, "`inputs` 'src**' is not a usable glob")


# -- file -------------------------------------------------------------------------------------


def test_file_check_refuses_a_device_instead_of_passing(project: Project) -> None:
    # /dev/zero would never end and a FIFO never start; /dev/null used to pass as "exists"
    assert_error(check(project, "file", 'path = "/dev/null"'), "not a regular file")


def test_file_check_refuses_a_pipe_without_waiting_for_a_writer(project: Project) -> None:
    os.mkfifo(project.root / "RUNBOOK.md")
    # the timeout bounds the wait a pipe would cause, so a regression fails instead of hanging
    params = 'path = "RUNBOOK.md", sections = ["Deploy"]'
    result = check(project, "file", params, "timeout = 5", "--no-cache")
    assert_error(result, "RUNBOOK.md is not a regular file")


# -- determinism ------------------------------------------------------------------------------


def test_determinism_refuses_an_absolute_output_when_the_policy_loads(project: Project) -> None:
    run = json.dumps([sys.executable, "-c", "print(1)"])
    project.policy(policy("determinism", f'run = {run}, outputs = ["/tmp/*"]'))
    result = project.run("check", "--format", "json")
    assert result.code == 2
    line = result.assert_one_error_line()
    assert "output '/tmp/*' must be a path or glob relative to the working folder" in line


def test_determinism_output_glob_pathlib_refuses_is_an_error(project: Project) -> None:
    code = "import pathlib; pathlib.Path('dist').mkdir(exist_ok=True); "
    code += "pathlib.Path('dist/a.txt').write_text('1')"
    run = json.dumps([sys.executable, "-c", code])
    result = check(project, "determinism", f'run = {run}, outputs = ["dist**"]')
    assert_error(result, "output pattern 'dist**' is not a usable glob")


# -- coverage-critical ------------------------------------------------------------------------


def test_diff_coverage_skips_an_untracked_link_to_a_pipe_instead_of_waiting(
    project: Project,
) -> None:
    root = project.root
    for args in (["config", "user.email", "t@example.com"], ["config", "user.name", "t"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=root, check=True)
    report = {"files": {"a.py": {"summary": {"num_statements": 1, "covered_lines": 1}}}}
    report["files"]["a.py"] |= {"executed_lines": [1], "missing_lines": []}
    (root / "coverage.json").write_text(json.dumps(report))
    os.mkfifo(root / "pipe")
    (root / "notes.py").symlink_to(root / "pipe")  # git lists the link, never the FIFO
    result = check(
        project,
        "coverage-critical",
        'path = "coverage.json", diff_base = "main"',
        "timeout = 5",
    )
    assert result["status"] == "pass", result  # before: waited on the pipe until the timeout


# -- coverage and lint reports of the wrong shape ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"files": {}, "totals": "95%"}', '"totals" is str, expected an object'),
        ('{"files": {}}', "measures no files and has no totals"),
    ],
)
def test_a_coverage_report_that_measures_nothing_is_an_error_not_100_percent(
    project: Project, content: str, needle: str
) -> None:
    (project.root / "coverage.json").write_text(content)
    assert_error(check(project, "coverage", 'path = "coverage.json", min = 80'), needle)


SARIF_RESULT = {"ruleId": "S1", "level": "error", "message": {"text": "hard-coded password"}}


def sarif(*runs: dict[str, Any]) -> str:
    return json.dumps({"version": "2.1.0", "runs": list(runs)})


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (sarif(), "SARIF holds no runs"),
        (sarif({"tool": {"driver": {"name": "semgrep"}}}), "(semgrep) has no results list"),
        (sarif({"tool": {"driver": {"name": "x"}}, "results": None}), "has no results list"),
    ],
)
def test_sarif_of_a_run_that_did_not_finish_is_an_error_not_a_clean_pass(
    project: Project, content: str, needle: str
) -> None:
    (project.root / "lint.sarif").write_text(content)
    assert_error(check(project, "lint", 'path = "lint.sarif"'), needle)


@pytest.mark.parametrize("status", ["rejected", "underReview"])
def test_a_rejected_or_pending_suppression_does_not_hide_a_finding(
    project: Project, status: str
) -> None:
    suppressed = {**SARIF_RESULT, "suppressions": [{"kind": "inSource", "status": status}]}
    (project.root / "lint.sarif").write_text(sarif({"results": [suppressed]}))
    result = check(project, "lint", 'path = "lint.sarif"')
    assert result["status"] == "fail", result
    assert result["measured"] == 1


def test_an_accepted_suppression_still_hides_its_finding(project: Project) -> None:
    accepted = {**SARIF_RESULT, "suppressions": [{"kind": "external", "status": "accepted"}]}
    in_source = {**SARIF_RESULT, "suppressions": [{"kind": "inSource"}]}
    (project.root / "lint.sarif").write_text(sarif({"results": [accepted, in_source]}))
    result = check(project, "lint", 'path = "lint.sarif"')
    assert result["status"] == "pass", result
