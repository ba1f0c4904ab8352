"""``branch-guard``: a release branch with a red or unevaluated commit is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gonogo.vcs import evaluated_commit
from tests.helpers import Project, criterion
from tests.perf.helpers import git, init_repo

POLICY = """
version = 1

[project]
name = "demo"

[owners]
engineering = ["alice@example.com"]

[[gates]]
id = "quality"
title = "Quality"
phase = 4
owners = ["engineering"]

[[gates.criteria]]
id = "tests"
check = "junit"
params = { path = "reports/junit.xml" }

[[gates]]
id = "release-branch"
title = "Release branch"
phase = 4
owners = ["engineering"]

[[gates.criteria]]
id = "guard"
check = "branch-guard"
params = { gates = ["quality"], branch = "release/1.0", base = "main" }
"""


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A git repository with the policy committed on main and a release/1.0 branch cut."""
    root = init_repo(tmp_path / "repo")
    project = Project(root, capsys, monkeypatch)
    project.policy(POLICY)
    git(root, "add", "gonogo.toml")
    git(root, "commit", "-q", "-m", "policy")
    git(root, "checkout", "-q", "-b", "release/1.0")
    return project


def commit(project: Project, message: str) -> str:
    with (project.root / "CHANGES").open("a", encoding="utf-8") as changes:
        changes.write(message + "\n")
    git(project.root, "add", "CHANGES")
    git(project.root, "commit", "-q", "-m", message)
    return git(project.root, "rev-parse", "HEAD")


def evaluate_quality(project: Project, *, failed: int = 0) -> None:
    """``gonogo check --gate quality`` on the checked-out commit, tests green or red."""
    project.junit(passed=3, failed=failed)
    result = project.run("check", "--gate", "quality", "--format", "json")
    statuses = criterion(result.json(), "quality.tests")["status"]
    assert statuses == ("fail" if failed else "pass")


def guard(project: Project, *extra: str) -> tuple[int, dict[str, Any]]:
    result = project.run("check", "--gate", "release-branch", "--format", "json", *extra)
    return result.code, criterion(result.json(), "release-branch.guard")


def test_every_evaluation_records_the_commit_it_evaluated(project: Project) -> None:
    head = commit(project, "feature a")
    evaluate_quality(project)
    with sqlite3.connect(project.database) as conn:
        rows = conn.execute("SELECT payload FROM audit_events WHERE type = 'gate.evaluated'")
        payloads = [json.loads(row[0]) for row in rows]
    assert [p["commit"] for p in payloads] == [head]
    assert project.run("audit", "verify").code == 0


def test_all_green_commits_pass(project: Project) -> None:
    for message in ("feature a", "feature b"):
        commit(project, message)
        evaluate_quality(project)
    code, result = guard(project)
    assert result["status"] == "pass", result
    assert result["reason"] == "all 2 commit(s) on release/1.0 since main are green"
    assert result["measured"] == 0
    assert code == 1  # the gate still needs its owner's sign-off; the criterion passed


def test_a_red_commit_and_an_unevaluated_one_fail_naming_both(project: Project) -> None:
    commit(project, "feature a")
    evaluate_quality(project)
    red = commit(project, "feature b breaks a test")
    evaluate_quality(project, failed=1)
    unevaluated = commit(project, "feature c")
    code, result = guard(project)
    assert code == 1
    assert result["status"] == "fail"
    assert result["measured"] == 2
    assert result["reason"] == (
        "2 of 3 commit(s) on release/1.0 since main lack a green evaluation: "
        f"{unevaluated[:10]} 'feature c' (quality: not evaluated); "
        f"{red[:10]} 'feature b breaks a test' (quality: red (fail))"
    )


def test_a_commit_made_green_again_counts_as_green(project: Project) -> None:
    commit(project, "flaky")
    evaluate_quality(project, failed=1)
    evaluate_quality(project)  # the newest evaluation of the commit is what counts
    _, result = guard(project)
    assert result["status"] == "pass", result


def test_an_evaluation_with_uncommitted_changes_does_not_count(project: Project) -> None:
    head = commit(project, "feature a")
    (project.root / "CHANGES").write_text("edited, not committed\n", encoding="utf-8")
    assert evaluated_commit(project.root) == head + "-dirty"
    evaluate_quality(project)
    _, result = guard(project)
    assert result["status"] == "fail"
    assert "(quality: evaluated only with uncommitted changes)" in result["reason"]


def test_require_go_also_needs_the_owners_sign_off(project: Project) -> None:
    commit(project, "feature a")
    evaluate_quality(project)
    policy = POLICY.replace('base = "main" }', 'base = "main", require = "go" }')
    project.policy(policy)
    _, result = guard(project)
    assert result["status"] == "fail"
    assert "lack a go evaluation" in result["reason"]
    assert "(quality: verdict no-go)" in result["reason"]


def test_no_commits_beyond_the_base_pass(project: Project) -> None:
    _, result = guard(project)
    assert result["status"] == "pass"
    assert result["reason"] == "no commits on release/1.0 since main"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'base = "main"',
            'base = "origin/main"',
            "base ref 'origin/main' is not in the repository",
        ),
        ('branch = "release/1.0"', 'branch = "release/9"', "branch 'release/9' is not in the repo"),
        ('gates = ["quality"]', 'gates = ["release-branch"]', "cannot require its own gate"),
    ],
)
def test_refs_that_are_not_there_are_one_line_errors(
    project: Project, old: str, new: str, message: str
) -> None:
    project.policy(POLICY.replace(old, new))
    code, result = guard(project)
    assert code == 1
    assert result["status"] == "error"
    assert message in result["reason"]
    assert "\n" not in result["reason"]


def test_outside_a_git_repository_the_guard_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(tmp_path / "plain", capsys, monkeypatch)
    project.policy(POLICY)
    _, result = guard(project)
    assert result["status"] == "error"
    assert "is not a git repository" in result["reason"]
    assert evaluated_commit(project.root) is None
