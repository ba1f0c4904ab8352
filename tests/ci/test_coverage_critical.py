"""``coverage-critical``: real coverage.py runs, critical-module minimums, diff coverage in git."""

from __future__ import annotations

from pathlib import Path

from tests.ci.fixtures import LEDGER, UNTESTED, git, init_repo, make_project, run_coverage
from tests.ci.fixtures import write_policy as _write_policy
from tests.helpers import Project, criterion

TESTED_REFUND = """

def test_refund() -> None:
    from calc.ledger import refund

    assert refund([10], 3) == [10, -3]
"""


def _check(project: Project, params: str) -> tuple[int, dict[str, object]]:
    _write_policy(
        project.root,
        f"""
        [[gates.criteria]]
        id = "coverage"
        check = "coverage-critical"
        params = {{ {params} }}
        """,
    )
    result = project.run("ci", "--format", "json")
    return result.code, criterion(result.json(), "ci.coverage")


def test_a_fully_tested_critical_module_passes(project: Project) -> None:
    make_project(project.root)
    run_coverage(project.root)

    code, coverage = _check(
        project, 'path = "reports/coverage.json", modules = { "src/calc/ledger.py" = 95 }'
    )

    assert code == 0
    assert coverage["status"] == "pass"
    assert coverage["details"]["modules"] == {"src/calc/ledger.py": 100.0}
    assert coverage["measured"] == 100.0


def test_a_critical_module_below_its_minimum_fails(project: Project) -> None:
    make_project(project.root, untested_critical=True)
    run_coverage(project.root)

    code, coverage = _check(
        project,
        'path = "reports/coverage.json", modules = { "calc.ledger" = 95, "calc.core" = 95 }',
    )

    assert code == 1
    assert coverage["status"] == "fail"
    ledger = coverage["details"]["modules"]["calc.ledger"]
    assert ledger < 95
    assert f"calc.ledger {ledger:.2f}% < 95%" in coverage["reason"]
    assert "calc.core" not in coverage["reason"]  # 100%: only the weak module is named
    assert coverage["measured"] == ledger


def test_a_critical_module_missing_from_the_report_fails(project: Project) -> None:
    make_project(project.root)
    run_coverage(project.root)

    _, coverage = _check(project, 'path = "reports/coverage.json", modules = { "calc.audit" = 90 }')

    assert coverage["status"] == "fail"
    assert "calc.audit is not in the report" in coverage["reason"]


def _repo_with_change(root: Path, *, tested: bool) -> None:
    """A repository whose base commit is fully tested, then a change to the critical module."""
    make_project(root)
    init_repo(root)
    git(root, "tag", "base")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "src" / "calc" / "ledger.py").write_text(LEDGER + UNTESTED, encoding="utf-8")
    if tested:
        with (root / "tests" / "test_calc.py").open("a", encoding="utf-8") as tests:
            tests.write(TESTED_REFUND)
    git(root, "commit", "-q", "-am", "add refunds")
    run_coverage(root)


def test_untested_changed_lines_fail_diff_coverage(project: Project) -> None:
    _repo_with_change(project.root, tested=False)

    code, coverage = _check(project, 'path = "reports/coverage.json", diff_base = "base"')

    assert code == 1
    assert coverage["status"] == "fail"
    diff = coverage["details"]["diff"]
    assert diff["changed_lines"] == 8  # the refund function's statements
    assert diff["covered_lines"] == 1  # only its `def` line runs (at import)
    assert "src/calc/ledger.py" in diff["missed"]
    assert "changed lines 12.50% (1 of 8 since base)" in coverage["reason"]
    assert "missed src/calc/ledger.py:" in coverage["reason"]


def test_tested_changed_lines_pass_diff_coverage(project: Project) -> None:
    _repo_with_change(project.root, tested=True)

    code, coverage = _check(
        project,
        'path = "reports/coverage.json", diff_base = "base", diff_min = 50, '
        'modules = { "calc.ledger" = 60 }',
    )

    assert code == 0
    assert coverage["status"] == "pass"
    assert coverage["details"]["diff"]["covered_lines"] >= 4


def test_uncommitted_and_untracked_changes_count_too(project: Project) -> None:
    make_project(project.root)
    init_repo(project.root)
    (project.root / "src" / "calc" / "extra.py").write_text(
        "def unused(x: int) -> int:\n    return x * 2\n", encoding="utf-8"
    )
    with (project.root / "tests" / "test_calc.py").open("a", encoding="utf-8") as tests:
        tests.write("\n\nimport calc.extra  # noqa: E402, F401\n")
    run_coverage(project.root)

    _, worktree = _check(project, 'path = "reports/coverage.json", diff_base = "HEAD"')
    _, committed = _check(
        project, 'path = "reports/coverage.json", diff_base = "HEAD", worktree = false'
    )

    assert worktree["status"] == "fail"
    assert worktree["details"]["diff"]["missed"] == {"src/calc/extra.py": [2]}
    assert committed["status"] == "pass"
    assert committed["reason"] == "no changed executable lines since HEAD"


def test_a_base_ref_that_is_not_in_the_repository_is_one_error_line(project: Project) -> None:
    make_project(project.root)
    init_repo(project.root)
    run_coverage(project.root)

    code, coverage = _check(project, 'path = "reports/coverage.json", diff_base = "origin/nope"')

    assert code == 1
    assert coverage["status"] == "error"
    assert coverage["reason"].startswith("base ref 'origin/nope' is not in the repository")
    assert "\n" not in coverage["reason"]


def test_diff_coverage_outside_a_repository_is_an_error(project: Project) -> None:
    make_project(project.root)
    run_coverage(project.root)

    _, coverage = _check(project, 'path = "reports/coverage.json", diff_base = "main"')

    assert coverage["status"] == "error"
    assert "is not in a git repository" in coverage["reason"]


def test_diff_coverage_needs_the_line_lists_of_coverage_json(project: Project) -> None:
    make_project(project.root)
    init_repo(project.root)
    (project.root / "reports").mkdir()
    (project.root / "reports" / "coverage.xml").write_text(
        '<coverage lines-valid="1" lines-covered="1"><packages/></coverage>', encoding="utf-8"
    )

    _, coverage = _check(project, 'path = "reports/coverage.xml", diff_base = "HEAD"')

    assert coverage["status"] == "error"
    assert "not coverage.py JSON" in coverage["reason"]


def test_a_missing_report_is_not_reported_and_a_malformed_one_an_error(project: Project) -> None:
    _, missing = _check(project, 'path = "reports/coverage.json", modules = { "calc" = 90 }')
    (project.root / "reports").mkdir()
    (project.root / "reports" / "coverage.json").write_text('{"files": 3}', encoding="utf-8")
    _, malformed = _check(project, 'path = "reports/coverage.json", modules = { "calc" = 90 }')

    assert missing["status"] == "not_reported"
    assert malformed["status"] == "error"
    assert "not a coverage.py report" in malformed["reason"]


def test_params_without_modules_or_base_are_refused(project: Project) -> None:
    _write_policy(
        project.root,
        """
        [[gates.criteria]]
        id = "coverage"
        check = "coverage-critical"
        params = { path = "reports/coverage.json" }
        """,
    )

    result = project.run("policy", "validate")

    assert result.code == 2
    assert "name critical `modules`, a `diff_base`, or both" in result.err
