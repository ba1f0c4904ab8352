"""Baselines: fingerprints survive moved lines; no secret is stored; detect-secrets imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.secrets.helpers import fresh, scan


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    c = fresh(5)
    (root / "settings.py").write_text(
        f"import os\n{c['aws-access-key-id'].line}\n{c['stripe-secret-key'].line}\n",
        encoding="utf-8",
    )
    return root


def test_a_baselined_finding_stays_suppressed_after_lines_move(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    written = scan(capsys, str(project), "--baseline", str(baseline), "--update-baseline")
    assert written.code == 0
    settings = project / "settings.py"
    settings.write_text("# new header\n\n\n" + settings.read_text(encoding="utf-8"), "utf-8")

    run = scan(capsys, str(project), "--baseline", str(baseline), "--format", "json")

    assert run.code == 0
    data = run.json()
    assert data["findings"] == []
    assert [f["line"] for f in data["suppressed"]] == [5, 6]


def test_a_new_secret_is_reported_despite_the_baseline(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    scan(capsys, str(project), "--baseline", str(baseline), "--update-baseline")
    extra = fresh(6)["github-pat"]
    (project / "new.py").write_text(extra.line + "\n", encoding="utf-8")

    run = scan(capsys, str(project), "--baseline", str(baseline), "--format", "json")

    assert run.code == 1
    assert [(f["path"], f["rule_id"]) for f in run.json()["findings"]] == [("new.py", "github-pat")]


def test_the_baseline_is_stable_and_holds_fingerprints_not_lines_or_secrets(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    scan(capsys, str(project), "--baseline", str(baseline), "--update-baseline")
    first = baseline.read_bytes()
    settings = project / "settings.py"
    settings.write_text("\n\n" + settings.read_text(encoding="utf-8"), "utf-8")

    scan(capsys, str(project), "--baseline", str(baseline), "--update-baseline")

    assert baseline.read_bytes() == first
    data = json.loads(first)
    assert data["schema"] == "gonogo.secrets-baseline/v1"
    assert all(set(e) == {"fingerprint", "rule_id", "path"} for e in data["findings"])


def test_a_detect_secrets_baseline_suppresses_what_it_knows(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = project / ".secrets.baseline"
    baseline.write_text(made.stdout, encoding="utf-8")
    assert "settings.py" in json.loads(made.stdout)["results"]

    run = scan(capsys, str(project), "--baseline", str(baseline), "--format", "json")

    assert run.code == 0, run.out
    assert len(run.json()["suppressed"]) == 2


def test_a_detect_secrets_baseline_is_never_overwritten(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = project / ".secrets.baseline"
    baseline.write_text(json.dumps({"version": "1.5.0", "results": {}}), encoding="utf-8")

    run = scan(capsys, str(project), "--baseline", str(baseline), "--update-baseline")

    assert run.code == 2
    assert "detect-secrets baseline" in run.assert_one_error_line()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"schema": "gonogo.secrets-baseline/v1", "findings": [{}]}', "without a fingerprint"),
        ('{"something": "else"}', "is neither a gonogo baseline"),
    ],
)
def test_a_malformed_baseline_is_one_line(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content, encoding="utf-8")

    run = scan(capsys, str(project), "--baseline", str(baseline))

    assert run.code == 2
    assert message in run.assert_one_error_line()


def test_a_missing_baseline_says_how_to_create_one(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = scan(capsys, str(project), "--baseline", str(tmp_path / "none.json"))

    assert run.code == 2
    assert "--update-baseline" in run.assert_one_error_line()
