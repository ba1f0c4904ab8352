"""``lint``: the real ruff on a fixture project, its JSON and SARIF reports, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.ci.fixtures import make_project, write_policy
from tests.helpers import Project, criterion


def _lint(project: Project, params: str = 'args = ["--no-cache"]') -> tuple[int, dict[str, object]]:
    write_policy(
        project.root,
        f"""
        [[gates.criteria]]
        id = "lint"
        check = "lint"
        params = {{ {params} }}
        """,
    )
    result = project.run("ci", "--format", "json")
    return result.code, criterion(result.json(), "ci.lint")


def test_clean_code_passes_with_no_issues(project: Project) -> None:
    make_project(project.root)

    code, lint = _lint(project)

    assert code == 0
    assert lint["status"] == "pass"
    assert lint["measured"] == 0
    assert lint["reason"] == "no lint issues"
    assert lint["details"]["command"].startswith("ruff check --output-format json")


def test_a_lint_error_fails_and_names_rule_file_and_line(project: Project) -> None:
    make_project(project.root, lint_error=True)

    code, lint = _lint(project)

    assert code == 1
    assert lint["status"] == "fail"
    assert lint["measured"] == 1
    assert "F401" in lint["reason"]
    assert "src/calc/core.py:3" in lint["reason"]  # relative to the project, not absolute
    assert lint["details"]["findings"][0]["path"] == "src/calc/core.py"


def test_max_issues_allows_a_known_number(project: Project) -> None:
    make_project(project.root, lint_error=True)

    code, lint = _lint(project, 'args = ["--no-cache"], max_issues = 1')

    assert code == 0
    assert lint["status"] == "pass"
    assert lint["reason"] == "1 lint issue"


def test_reads_a_sarif_report_any_linter_writes(project: Project) -> None:
    make_project(project.root, lint_error=True)
    (project.root / "reports").mkdir()
    sarif = subprocess.run(
        ["ruff", "check", "--no-cache", "--output-format", "sarif", "."],
        cwd=project.root,
        capture_output=True,
        check=False,
    ).stdout
    (project.root / "reports" / "lint.sarif").write_bytes(sarif)

    code, lint = _lint(project, 'path = "reports/lint.sarif"')

    assert code == 1
    assert lint["status"] == "fail"
    assert lint["details"]["tools"] == ["ruff"]
    assert lint["details"]["findings"][0]["path"] == "src/calc/core.py"
    assert lint["details"]["by_rule"] == {"F401": 1}


def test_sarif_notes_and_suppressed_results_do_not_count(project: Project) -> None:
    result = {"ruleId": "X1", "message": {"text": "style"}}
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "otherlint"}},
                "results": [
                    {**result, "level": "note"},
                    {**result, "level": "error", "suppressions": [{"kind": "inSource"}]},
                    {**result, "level": "warning"},
                ],
            }
        ],
    }
    (project.root / "lint.sarif").write_text(json.dumps(log), encoding="utf-8")

    _, lint = _lint(project, 'path = "lint.sarif"')

    assert lint["measured"] == 1
    assert lint["details"]["suppressed"] == 1
    assert lint["details"]["below_level"] == 1


def test_a_missing_linter_is_an_error_not_a_pass(project: Project) -> None:
    make_project(project.root)

    code, lint = _lint(project, 'run = "no-such-linter --json"')

    assert code == 1
    assert lint["status"] == "error"
    assert lint["reason"].startswith("command not found: no-such-linter")


def test_a_linter_that_cannot_run_is_an_error_with_its_complaint(project: Project) -> None:
    make_project(project.root)

    code, lint = _lint(project, 'args = ["--no-cache", "--select", "NOPE999"]')

    assert code == 1
    assert lint["status"] == "error"
    assert "exited 2" in lint["reason"]
    assert "NOPE999" in lint["reason"]


def test_a_linter_past_its_timeout_is_stopped_and_an_error(project: Project) -> None:
    write_policy(
        project.root,
        f"""
        [[gates.criteria]]
        id = "lint"
        check = "lint"
        params = {{ run = {json.dumps([sys.executable, "-c", "import time; time.sleep(60)"])} }}
        timeout = 1
        """,
    )

    result = project.run("ci", "--format", "json")

    lint = criterion(result.json(), "ci.lint")
    assert lint["status"] == "error"
    assert "timed out after 1s and was stopped" in lint["reason"]


def test_a_missing_report_is_not_reported(project: Project) -> None:
    code, lint = _lint(project, 'path = "reports/ruff.json"')

    assert code == 1
    assert lint["status"] == "not_reported"


def test_a_malformed_report_is_an_error_naming_the_file(project: Project) -> None:
    (project.root / "ruff.json").write_text('[{"code": "E1"', encoding="utf-8")

    _, lint = _lint(project, 'path = "ruff.json"')

    assert lint["status"] == "error"
    assert "ruff.json: not valid JSON" in lint["reason"]
