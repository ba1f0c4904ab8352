"""``gonogo secrets scan``: exit codes, the JSON and SARIF shapes, file arguments, workers."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import pytest
import yaml

from gonogo.secrets import ScanRequest, ScanResult, run_scan
from tests.report.pages import Page
from tests.secrets.helpers import fresh, scan
from tests.secrets.tokens import B62, pick

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small project: one file with two secrets, one clean file, one nested folder."""
    c = fresh()
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "settings.py").write_text(
        f"DEBUG = True\n{c['github-pat'].line}\n\n{c['slack-bot-token'].line}\n",
        encoding="utf-8",
    )
    (root / "README.md").write_text("# demo\nNothing to see.\n", encoding="utf-8")
    return root


def test_exit_0_when_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "a.py").write_text("print('hello')\n", encoding="utf-8")

    run = scan(capsys, str(tmp_path / "clean"))

    assert run.code == 0
    assert run.out.strip() == "no secrets found in 1 files (0.0 kB)"
    assert run.err == ""


def test_exit_1_with_findings_listed_in_text(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = scan(capsys, str(tree))

    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("app/settings.py:2:7  github-pat  ghp_…(40 chars)  fingerprint ")
    assert lines[1].startswith("app/settings.py:4:7  slack-bot-token  xoxb…(")
    assert lines[-1] == "2 secrets found in 2 files (0.1 kB)"


def test_exit_2_for_bad_usage(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = scan(capsys, str(tree / "nope"))
    no_file = scan(capsys, str(tree), "--update-baseline")
    bad_format = scan(capsys, str(tree), "--format", "xml")

    for run in (missing, no_file, bad_format):
        assert run.code == 2
        run.assert_one_error_line()
    assert "does not exist" in missing.err
    assert "--update-baseline needs --baseline FILE" in no_file.err


def test_json_has_schema_and_the_documented_fields(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = scan(capsys, str(tree), "--format", "json")

    data = json.loads(run.out)
    assert data["schema"] == "gonogo.secrets/v1"
    assert data["summary"]["findings"] == 2
    first = data["findings"][0]
    assert {"path", "line", "rule_id", "fingerprint", "preview"} <= set(first)
    assert (first["path"], first["line"], first["rule_id"]) == ("app/settings.py", 2, "github-pat")
    assert len(first["fingerprint"]) == 64


def test_sarif_is_2_1_0_with_rules_and_results(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scan.sarif"

    run = scan(capsys, str(tree), "--format", "sarif", "--output", str(out))

    assert run.code == 1
    assert run.out == ""
    log = json.loads(out.read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    (only,) = log["runs"]
    rules = only["tool"]["driver"]["rules"]
    assert len(rules) >= 60
    results = only["results"]
    assert [r["ruleId"] for r in results] == ["github-pat", "slack-bot-token"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/settings.py"
    assert location["region"]["startLine"] == 2
    assert rules[results[0]["ruleIndex"]]["id"] == "github-pat"
    assert results[0]["partialFingerprints"]["gonogo/v1"]


def test_file_arguments_scan_only_those_files_with_paths_from_the_project(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)

    clean = scan(capsys, "README.md")
    dirty = scan(capsys, "README.md", "app/settings.py", "--format", "json")

    assert clean.code == 0
    assert dirty.code == 1
    assert {f["path"] for f in dirty.json()["findings"]} == {"app/settings.py"}


def test_workers_find_exactly_what_one_process_finds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rnd = random.Random(3)  # noqa: S311 - repeatable filler
    c = fresh(11)
    tmp_path = tmp_path / "big"
    tmp_path.mkdir()
    filler = "".join(f"value_{i} = compute({i}, '{pick(rnd, B62, 20)}')\n" for i in range(2000))
    kinds = ["github-pat", "aws-access-key-id", "stripe-secret-key", "private-key", "jwt"]
    for i in range(60):
        secret = c[kinds[i % len(kinds)]].line if i % 4 == 0 else ""
        (tmp_path / f"mod_{i:02}.py").write_text(filler + secret + "\n", encoding="utf-8")

    serial = scan(capsys, str(tmp_path), "--jobs", "1", "--format", "json").json()
    parallel = scan(capsys, str(tmp_path), "--jobs", "2", "--format", "json").json()

    assert serial["summary"]["bytes"] > 2 * 1024 * 1024
    assert len(serial["findings"]) == 15
    assert parallel["findings"] == serial["findings"]


def test_the_pre_commit_hook_runs_the_scan_on_the_files_it_is_given(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "gonogo-secrets"
    assert hook["entry"].split()[:3] == ["gonogo", "secrets", "scan"]
    assert hook.get("pass_filenames", True) is True
    monkeypatch.chdir(tree)

    run = scan(capsys, *hook["entry"].split()[3:], *hook.get("args", []), "app/settings.py")

    assert run.code == 1
    assert "app/settings.py:2" in run.out


def test_workers_started_from_a_thread_find_the_same(tmp_path: Path) -> None:
    """The gate engine scans from a thread: its workers must not be forked from it."""
    c = fresh(12)
    root = tmp_path / "big"
    root.mkdir()
    filler = "".join(f"row_{i} = {i} * 2  # filler line\n" for i in range(4000))
    for i in range(30):
        (root / f"m{i:02}.py").write_text(filler + c["gitlab-pat"].line + "\n", "utf-8")
    results: list[ScanResult] = []

    def work() -> None:
        results.append(run_scan(ScanRequest(root=root, jobs=2)))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    (result,) = results
    assert result.bytes > 2 * 1024 * 1024
    assert len(result.findings) == 30


def test_markdown_shows_the_verdict_and_each_finding_redacted(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fingerprint = scan(capsys, str(tree), "--format", "json").json()["findings"][0]["fingerprint"]

    run = scan(capsys, str(tree), "--format", "markdown")

    assert run.code == 1
    assert run.out.startswith("# Secret scan\n\n❌ **FAIL**: 2 secrets found in 2 files (0.1 kB)\n")
    assert "| scanned | 2 files (0.1 kB) |" in run.out
    assert (
        "| app/settings.py:2:7 | github-pat | GitHub personal access token (classic) "
        f"| ghp\\_…(40 chars) | {fingerprint[:12]} |"
    ) in run.out


def test_html_page_shows_the_verdict_and_each_finding_redacted(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fingerprint = scan(capsys, str(tree), "--format", "json").json()["findings"][0]["fingerprint"]
    out = tmp_path / "secrets.html"

    run = scan(capsys, str(tree), "--format", "html", "--output", str(out))

    assert run.code == 1
    assert run.out == ""
    page = Page.parse(out.read_text(encoding="utf-8"))
    assert (page.title, page.badge) == ("Secret scan", ("FAIL", "bad"))
    assert page.summary == "2 secrets found in 2 files (0.1 kB)"
    assert page.facts["root"] == str(tree)
    first, second = page.section("Findings")
    assert first == {
        "location": "app/settings.py:2:7",
        "rule": "github-pat",
        "description": "GitHub personal access token (classic)",
        "preview": "ghp_…(40 chars)",
        "fingerprint": fingerprint[:12],
    }
    assert (second["location"], second["rule"]) == ("app/settings.py:4:7", "slack-bot-token")


def test_html_page_of_a_clean_tree_passes_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "a.py").write_text("print('hello')\n", encoding="utf-8")
    (tmp_path / "clean" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")

    run = scan(capsys, str(tmp_path / "clean"), "--format", "html")

    assert run.code == 0
    page = Page.parse(run.out)
    assert page.badge == ("PASS", "good")
    assert page.summary.startswith("no secrets found in 2 files")
    assert page.section("Findings") == []
    assert "No secrets found." in page.text()
    assert page.section("Skipped files") == [{"reason": "binary", "files": "1"}]
