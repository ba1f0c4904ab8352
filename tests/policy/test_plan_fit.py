"""Criterion keys a check type cannot honour are reported, not silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.cli.main import main

POLICY = """
version = 1
[project]
name = "fit"
[owners]
qa = ["quinn@example.com"]
[[gates]]
id = "docs"
title = "Docs"
phase = 6
[[gates.criteria]]
id = "runbook"
check = "file"
params = {{ path = "RUNBOOK.md" }}
{extra}
"""


def _validate(tmp_path: Path, extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    (tmp_path / "gonogo.toml").write_text(POLICY.format(extra=extra), encoding="utf-8")
    code = main(["--project", str(tmp_path), "policy", "validate"])
    err = capsys.readouterr().err
    return code, err


def test_a_threshold_on_a_check_without_a_measured_value_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _validate(tmp_path, "threshold = { min = 1 }", capsys)
    assert code == 2
    assert "gonogo.toml:15: gates[0].criteria[0].threshold:" in err
    assert "`file` check has no measured value" in err


def test_ingest_on_a_check_that_reads_no_report_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gonogo.toml").write_text(
        POLICY.format(extra="")
        .replace('check = "file"', 'check = "command"')
        .replace(
            'params = { path = "RUNBOOK.md" }', 'params = { run = "true" }\nsource = "ingest"'
        ),
        encoding="utf-8",
    )
    code = main(["--project", str(tmp_path), "policy", "validate"])
    err = capsys.readouterr().err
    assert code == 2
    assert "gates[0].criteria[0].source" in err
    assert "reads no report file" in err


def test_a_threshold_on_coverage_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gonogo.toml").write_text(
        POLICY.format(extra="threshold = { min = 80 }")
        .replace('check = "file"', 'check = "coverage"')
        .replace('params = { path = "RUNBOOK.md" }', 'params = { path = "coverage.json" }'),
        encoding="utf-8",
    )
    assert main(["--project", str(tmp_path), "policy", "validate"]) == 0
