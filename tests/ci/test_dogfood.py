"""Dogfooding: ``scripts/ci-gates.sh`` runs gonogo's own Phase-4 gate (``gonogo.toml``) on gonogo.

The script runs in a copy of the project's tracked sources (``src/``, ``scripts/``,
``gonogo.toml``, ``pyproject.toml``), so the real ruff and ``mypy --strict`` judge the real
code and the real policy sets the bar. Running the whole suite inside a test is out of the
question, so the two test reports the gate reads are written here: a JUnit report with as
many passing tests as the policy's ``min_tests``, and a coverage.py JSON report over the
real files of the critical modules. Those two files are the only stand-ins.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gonogo.evidence.junit import parse_junit_file
from tests.helpers import junit_xml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path("scripts") / "ci-gates.sh"


def _policy() -> dict[str, Any]:
    return tomllib.loads((ROOT / "gonogo.toml").read_text(encoding="utf-8"))


def _criterion(criterion: str) -> dict[str, Any]:
    """The criterion of that id in the policy's Phase-4 gate."""
    [gate] = [g for g in _policy()["gates"] if g["phase"] == 4]
    found: dict[str, Any] = next(c for c in gate["criteria"] if c["id"] == criterion)
    return found


def _critical_modules() -> dict[str, float]:
    modules: dict[str, float] = _criterion("coverage-critical")["params"]["modules"]
    return modules


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tracked sources, scripts and policies, with mypy's cache when there is one.

    The cache only spares a cold ``mypy --strict`` (minutes on a busy machine); mypy checks
    every cached entry against the copied files and re-checks whatever differs.
    """
    target = tmp_path_factory.mktemp("gonogo-copy")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "src", "scripts", "gonogo.toml", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", target / ".mypy_cache", symlinks=True)
    return target


def _write_reports(root: Path, *, failed: int = 0, below: str | None = None) -> None:
    """The suite's reports: ``min_tests`` passing tests (plus ``failed``), full coverage.

    Every file of the critical modules is fully covered, except those of ``below``, which
    are covered 10 points under that module's minimum.
    """
    reports = root / "reports"
    shutil.rmtree(reports, ignore_errors=True)  # the CI store with it: every run starts empty
    shutil.rmtree(root / ".gonogo", ignore_errors=True)  # and so does its audit checkpoint
    reports.mkdir()
    passed = int(_criterion("tests")["params"]["min_tests"])
    (reports / "junit.xml").write_text(junit_xml(passed=passed, failed=failed), encoding="utf-8")
    files: dict[str, Any] = {}
    for module, minimum in _critical_modules().items():
        for path in sorted((root / module).rglob("*.py")):
            statements = 1000
            covered = statements if module != below else int(statements * (minimum - 10) / 100)
            files[path.relative_to(root).as_posix()] = {
                "summary": {
                    "num_statements": statements,
                    "covered_lines": covered,
                    "missing_lines": statements - covered,
                    "num_branches": 0,
                    "covered_branches": 0,
                    "percent_covered": covered / statements * 100,
                }
            }
    totals = {
        key: sum(f["summary"][key] for f in files.values())
        for key in ("num_statements", "covered_lines", "missing_lines")
    }
    totals["percent_covered"] = totals["covered_lines"] / totals["num_statements"] * 100
    report = {"meta": {"format": 3, "version": "7.17.5"}, "files": files, "totals": totals}
    (reports / "coverage.json").write_text(json.dumps(report), encoding="utf-8")


def _gates(root: Path) -> subprocess.CompletedProcess[str]:
    """``bash scripts/ci-gates.sh --use-reports`` as CI runs it (``python3`` is this Python)."""
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", str(SCRIPT), "--use-reports"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def _red_criteria(root: Path) -> set[str]:
    summary = parse_junit_file(root / "reports" / "gonogo-ci.xml")
    return {case.name for case in summary.cases if case.outcome in {"failed", "error"}}


@pytest.mark.slow
def test_the_gate_is_green_on_gonogo_and_records_in_a_store_of_its_own(copy: Path) -> None:
    _write_reports(copy)

    run = _gates(copy)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert _red_criteria(copy) == set()
    summary = (copy / "reports" / "gonogo-ci.md").read_text(encoding="utf-8")
    for module in _critical_modules():
        assert module in summary
    assert (copy / "reports" / "gonogo-ci.sarif").is_file()
    # the evaluation lands in the run's own store under reports/, never in the default one,
    # and that store's audit trail verifies
    store = copy / "reports" / "gonogo-ci.db"
    assert not (copy / ".gonogo" / "state.db").exists()
    gonogo = [sys.executable, "-m", "gonogo", "--project", str(copy)]
    verify = subprocess.run(
        [*gonogo, "--database-url", f"sqlite:///{store}", "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "audit trail OK" in verify.stdout


@pytest.mark.slow
def test_a_failing_test_turns_the_gate_red(copy: Path) -> None:
    _write_reports(copy, failed=1)

    run = _gates(copy)

    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "gonogo ci: red: ci" in run.stderr
    assert _red_criteria(copy) == {"tests"}
    summary = (copy / "reports" / "gonogo-ci.md").read_text(encoding="utf-8")
    assert r"tests.t::test\_bad\_0" in summary  # the step summary names the failing test


@pytest.mark.slow
def test_a_critical_module_below_its_minimum_turns_the_gate_red(copy: Path) -> None:
    module = "src/gonogo/store"
    assert module in _critical_modules()
    _write_reports(copy, below=module)

    run = _gates(copy)

    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert _red_criteria(copy) == {"coverage-critical"}
    assert module in (copy / "reports" / "gonogo-ci.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_new_silenced_finding_in_the_spine_trips_the_ratchet(copy: Path) -> None:
    module = copy / "src" / "gonogo" / "store" / "__init__.py"
    original = module.read_text(encoding="utf-8")
    module.write_text(original + "assert __name__  # noqa: S101 - planted\n", encoding="utf-8")
    _write_reports(copy)
    try:
        run = _gates(copy)
    finally:
        module.write_text(original, encoding="utf-8")

    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert _red_criteria(copy) == {"suppressions"}
    allowed = int(_criterion("suppressions")["threshold"]["max"])
    summary = (copy / "reports" / "gonogo-ci.md").read_text(encoding="utf-8")
    [row] = [line for line in summary.splitlines() if "`suppressions` (lint)" in line]
    assert f"{allowed + 1} lint issues" in row


def test_use_reports_takes_no_pytest_arguments(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")

    run = subprocess.run(
        ["bash", str(SCRIPT), "--use-reports", "-k", "store"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "error: --use-reports takes no other argument (got: -k store)"
    ]
    assert not (tmp_path / "reports" / "gonogo-ci.xml").exists()


def test_the_full_test_run_ends_with_the_gate_and_a_subset_skips_it() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    subset, full = script.split("if [ $# -gt 0 ]; then\n", 1)[1].split("\nfi\n", 1)

    assert "gonogo ci: skipped" in subset
    assert "ci-gates" not in subset
    pytest_at = full.index("--junitxml=reports/junit.xml")
    json_at = full.index("coverage json --data-file=reports/.coverage -o reports/coverage.json")
    gate_at = full.index("bash scripts/ci-gates.sh --use-reports")
    assert pytest_at < json_at < gate_at
    assert "set -euo pipefail" in script  # any red step, the gate included, fails the run
