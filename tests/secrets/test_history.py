"""``--history``: secrets in past commits, found with their commit, from real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.secrets.helpers import commit_all, fresh, git, init_repo, scan


def test_a_secret_committed_then_deleted_is_found_with_its_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(21)
    repo = init_repo(tmp_path / "repo")
    (repo / "app.py").write_text("import os\n\n\n", encoding="utf-8")
    commit_all(repo, "start")
    (repo / "app.py").write_text(f"import os\n\n\n{c['github-pat'].line}\n", encoding="utf-8")
    leaked = commit_all(repo, "oops")
    (repo / "app.py").write_text("import os\nTOKEN = os.environ['TOKEN']\n", encoding="utf-8")
    commit_all(repo, "read it from the environment")

    tree_only = scan(capsys, str(repo))
    history = scan(capsys, str(repo), "--history", "--format", "json")

    assert tree_only.code == 0
    assert history.code == 1
    (finding,) = history.json()["findings"]
    assert finding["commit"] == leaked
    assert (finding["path"], finding["line"], finding["rule_id"]) == ("app.py", 4, "github-pat")
    assert finding["author"] == "Gonogo Test <test@gonogo.invalid>"
    assert history.json()["summary"]["commits"] == 3


def test_a_secret_still_in_the_tree_is_reported_once_with_the_commit_that_added_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(22)
    repo = init_repo(tmp_path / "repo")
    (repo / "conf.env").write_text(c["stripe-secret-key"].line + "\n", encoding="utf-8")
    added = commit_all(repo, "add stripe")
    (repo / "conf.env").write_text("DEBUG=1\n" + c["stripe-secret-key"].line + "\n", "utf-8")
    commit_all(repo, "touch")

    run = scan(capsys, str(repo), "--history", "--format", "json")

    (finding,) = run.json()["findings"]
    assert (finding["line"], finding["commit"]) == (2, added)


def test_every_branch_is_scanned_and_paths_are_relative_to_a_subfolder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(23)
    repo = init_repo(tmp_path / "repo")
    (repo / "svc").mkdir()
    (repo / "svc" / "main.py").write_text("x = 1\n", encoding="utf-8")
    (repo / "other.py").write_text(c["gitlab-pat"].line + "\n", encoding="utf-8")
    commit_all(repo, "start")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "svc" / "odd name é.py").write_text(c["npm-access-token"].line + "\n", "utf-8")
    on_branch = commit_all(repo, "feature work")
    git(repo, "checkout", "-q", "main")

    run = scan(capsys, str(repo / "svc"), "--history", "--format", "json")

    (finding,) = run.json()["findings"]
    assert (finding["path"], finding["commit"]) == ("odd name é.py", on_branch)


def test_history_outside_a_git_repository_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()

    run = scan(capsys, str(folder), "--history")

    assert run.code == 2
    line = run.assert_one_error_line()
    assert "is not inside a git repository" in line
    assert "--history" in line


def test_an_empty_repository_has_no_history_to_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = init_repo(tmp_path / "repo")

    run = scan(capsys, str(repo), "--history")

    assert run.code == 0
    assert run.out.strip() == "no secrets found in 0 files (0.0 kB) and 0 commits"
