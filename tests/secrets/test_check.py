"""The ``secrets`` check type through the gate engine and ``gonogo check``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.gates.results import Status
from tests.helpers import Project, criterion, evaluate, result_of, write_policy
from tests.secrets.helpers import fresh, scan

POLICY = """
version = 1

[project]
name = "demo"

[owners]
security = ["sam@example.com"]

[[gates]]
id = "security"
title = "Security"
phase = 5
owners = ["security"]

[[gates.criteria]]
id = "secrets"
check = "secrets"
title = "No secrets in the repository"
params = {{ path = "src"{extra} }}
"""


def _project(root: Path, extra: str = "") -> Path:
    write_policy(root, POLICY.format(extra=extra))
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "app.py").write_text("print('hello')\n", encoding="utf-8")
    return root


def test_passes_on_a_clean_tree(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")

    result = result_of(evaluate(root), "security.secrets")

    assert result.status is Status.PASS
    assert result.measured == 0
    assert result.reason == "no secrets in 1 files"


def test_fails_with_findings_and_never_shows_the_secret(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    case = fresh(51)["github-pat"]
    (root / "src" / "config.py").write_text(case.line + "\n", encoding="utf-8")

    result = result_of(evaluate(root), "security.secrets")

    assert result.status is Status.FAIL
    assert result.measured == 1
    assert result.reason == "1 secret(s) found in 2 files: config.py:1 github-pat"
    assert case.secret not in repr(result)
    (scan_ref,) = result.evidence
    assert scan_ref.kind == "secrets-scan"
    assert scan_ref.sha256


def test_a_baseline_lets_known_findings_pass_and_is_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path / "proj", ', baseline = "secrets-baseline.json"')
    (root / "src" / "config.py").write_text(fresh(52)["jwt"].line + "\n", encoding="utf-8")
    written = scan(
        capsys,
        str(root / "src"),
        "--baseline",
        str(root / "secrets-baseline.json"),
        "--update-baseline",
    )
    assert written.code == 0

    result = result_of(evaluate(root), "security.secrets")

    assert result.status is Status.PASS
    assert result.reason == "no secrets in 2 files (1 baselined)"
    kinds = {e.kind: e for e in result.evidence}
    assert kinds["secrets-baseline"].uri == "secrets-baseline.json"
    assert kinds["secrets-baseline"].sha256


def test_bad_rules_or_history_outside_git_are_errors_not_failures(tmp_path: Path) -> None:
    rules = _project(tmp_path / "a", ', rules = "missing.toml"')
    history = _project(tmp_path / "b", ", history = true")

    bad_rules = result_of(evaluate(rules), "security.secrets")
    no_git = result_of(evaluate(history), "security.secrets")

    assert bad_rules.status is Status.ERROR
    assert "missing.toml does not exist" in bad_rules.reason
    assert no_git.status is Status.ERROR
    assert "is not inside a git repository" in no_git.reason


def test_gonogo_check_reports_the_secrets_criterion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(_project(tmp_path / "proj"), capsys, monkeypatch)
    (project.root / "src" / "keys.py").write_text(
        fresh(53)["aws-access-key-id"].line + "\n", encoding="utf-8"
    )

    code, report = project.check_json()

    assert code == 1
    found = criterion(report, "security.secrets")
    assert found["status"] == "fail"
    assert "keys.py:1 aws-access-key-id" in found["reason"]


def test_unreadable_files_make_a_clean_scan_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    (root / "src" / "loop").symlink_to(root / "src" / "loop")

    result = result_of(evaluate(root), "security.secrets")

    assert result.status is Status.WARN
    assert result.reason == (
        "no secrets in 1 files, but 1 file(s) could not be read: loop: symlink loop; skipped"
    )
