"""``tests``: runs the real pytest on a fixture project and judges the JUnit XML it wrote."""

from __future__ import annotations

import sys

from tests.ci.fixtures import PYTEST, PYTEST_ENV, make_project, toml_list, write_policy
from tests.helpers import Project, criterion, write_junit


def _tests_policy(project: Project, params: str) -> None:
    write_policy(
        project.root,
        f"""
        [[gates.criteria]]
        id = "tests"
        check = "tests"
        params = {{ {params} }}
        """,
    )


def _running(argv: list[str]) -> str:
    """Params that run ``argv`` and read the JUnit XML it writes."""
    return f'run = {toml_list(argv)}, path = "reports/junit.xml", env = {PYTEST_ENV}'


def _run_tests(project: Project, **planted: bool) -> tuple[int, dict[str, object]]:
    make_project(project.root, **planted)
    _tests_policy(project, _running(PYTEST))
    result = project.run("ci", "--format", "json")
    return result.code, criterion(result.json(), "ci.tests")


def test_a_passing_suite_is_green_and_measures_the_tests_run(project: Project) -> None:
    code, tests = _run_tests(project)

    assert code == 0
    assert tests["status"] == "pass"
    assert tests["measured"] == 3
    assert tests["details"]["exit"] == 0
    assert "3 passed" in tests["reason"]
    assert (project.root / "reports" / "junit.xml").is_file()


def test_a_failing_test_makes_the_job_red_and_names_the_test(project: Project) -> None:
    code, tests = _run_tests(project, failing_test=True)

    assert code == 1
    assert tests["status"] == "fail"
    assert "1 failed" in tests["reason"]
    assert "test_add_is_wrong" in tests["reason"]


def test_a_stale_report_is_never_read_when_the_command_writes_none(project: Project) -> None:
    make_project(project.root)
    write_junit(project.root / "reports" / "junit.xml", passed=50)  # from an earlier run
    _tests_policy(
        project,
        _running([sys.executable, "-c", "print(1)"]),
    )

    result = project.run("ci", "--format", "json")

    tests = criterion(result.json(), "ci.tests")
    assert result.code == 1
    assert tests["status"] == "error"
    assert "wrote no JUnit report at reports/junit.xml" in tests["reason"]


def test_a_non_zero_exit_without_failed_tests_fails(project: Project) -> None:
    make_project(project.root)
    script = (
        "import subprocess, sys; "
        f"subprocess.run({PYTEST!r}); print('coverage 41% is below 80%'); sys.exit(2)"
    )
    _tests_policy(project, _running([sys.executable, "-c", script]))

    result = project.run("ci", "--format", "json")

    tests = criterion(result.json(), "ci.tests")
    assert tests["status"] == "fail"
    assert "exited 2 although the report shows no failure" in tests["reason"]
    assert "coverage 41% is below 80%" in tests["reason"]


def test_a_missing_test_runner_is_one_error_line(project: Project) -> None:
    make_project(project.root)
    _tests_policy(project, _running(["no-such-test-runner", "--all"]))

    result = project.run("ci", "--format", "json")

    tests = criterion(result.json(), "ci.tests")
    assert result.code == 1
    assert tests["status"] == "error"
    assert tests["reason"].startswith("command not found: no-such-test-runner")


def test_reading_only_a_missing_report_is_not_reported(project: Project) -> None:
    _tests_policy(project, 'path = "reports/junit.xml"')

    result = project.run("ci", "--format", "json")

    tests = criterion(result.json(), "ci.tests")
    assert result.code == 1
    assert tests["status"] == "not_reported"
    assert tests["reason"].startswith("no JUnit report at reports/junit.xml")


def test_reading_only_a_malformed_report_is_an_error(project: Project) -> None:
    (project.root / "reports").mkdir()
    (project.root / "reports" / "junit.xml").write_text("<testsuites><oops>", encoding="utf-8")
    _tests_policy(project, 'path = "reports/junit.xml", min_tests = 1')

    result = project.run("ci", "--format", "json")

    tests = criterion(result.json(), "ci.tests")
    assert tests["status"] == "error"
    assert "not well-formed XML" in tests["reason"]


def test_run_without_path_is_refused_by_policy_validation(project: Project) -> None:
    _tests_policy(project, 'run = "pytest"')

    result = project.run("policy", "validate")

    assert result.code == 2
    assert "`run` needs `path`" in result.err
