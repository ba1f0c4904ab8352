"""``gonogo check``: exit codes, the JSON report, formats, output files, the cache."""

from __future__ import annotations

import os
import stat
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gonogo.digest import sha256_file
from gonogo.report import Format
from tests.helpers import (
    ALICE,
    BASIC_POLICY,
    QUINN,
    Project,
    criterion,
    gate,
    install_check,
)

NO_OWNERS = BASIC_POLICY.replace('owners = ["engineering", "qa"]', "owners = []")


def _signed_off(project: Project) -> None:
    assert project.run("release", "create", "1.0").code == 0
    assert project.run("check").code == 1
    assert project.run("signoff", "quality", "--role", "engineering", user=ALICE).code == 0
    assert project.run("signoff", "quality", "--role", "qa", user=QUINN).code == 0


# -- exit codes -----------------------------------------------------------------------------


def test_check_exits_0_when_every_gate_is_go(quality: Project) -> None:
    _signed_off(quality)

    result = quality.run("check")

    assert result.code == 0
    assert "GO: 1 of 1 gate go" in result.out


def test_check_exits_0_for_a_passing_gate_without_owners(project: Project) -> None:
    project.policy(NO_OWNERS)
    project.junit()
    project.coverage(90)

    assert project.run("check").code == 0


def test_check_exits_1_when_a_gate_is_no_go(quality: Project) -> None:
    quality.coverage(70)

    result = quality.run("check")

    assert result.code == 1
    assert "NO-GO: 1 of 1 gate no-go (quality)" in result.out


def test_check_exits_1_while_sign_offs_are_missing(quality: Project) -> None:
    quality.run("release", "create", "1.0")

    code, report = quality.check_json()

    assert code == 1
    assert gate(report, "quality")["outcome"] == "pass"
    assert gate(report, "quality")["reasons"] == [
        "needs sign-off by engineering",
        "needs sign-off by qa",
    ]


def test_check_exits_2_for_an_unknown_gate(quality: Project) -> None:
    result = quality.run("check", "--gate", "nope")

    assert result.code == 2
    assert "no gate named 'nope'" in result.assert_one_error_line()


def test_check_exits_2_for_an_unknown_format(quality: Project) -> None:
    result = quality.run("check", "--format", "yaml")

    assert result.code == 2
    assert "--format" in result.assert_one_error_line()


def test_check_exits_2_for_an_unknown_option(quality: Project) -> None:
    result = quality.run("check", "--frobnicate")

    assert result.code == 2
    assert "No such option" in result.assert_one_error_line()


def test_an_unknown_command_exits_2(quality: Project) -> None:
    result = quality.run("chekc")

    assert result.code == 2
    assert "No such command 'chekc'" in result.assert_one_error_line()


def test_a_crashing_check_is_an_error_result_and_exit_1_not_a_crash(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_check(monkeypatch, "crashy", "tests.helpers:CrashingCheck")
    project.policy(NO_OWNERS + '\n[[gates.criteria]]\nid = "plugin"\ncheck = "crashy"\n')
    project.junit()
    project.coverage(90)

    code, report = project.check_json()

    assert code == 1
    result = criterion(report, "quality.plugin")
    assert result["status"] == "error"
    assert "ZeroDivisionError: plugin bug" in result["reason"]
    assert criterion(report, "quality.tests")["status"] == "pass"


def test_an_internal_error_exits_3_with_one_line_naming_a_crash_log(
    quality: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("gonogo.cli.commands.Engine.run", explode)

    result = quality.run("check")

    assert result.code == 3
    line = result.assert_one_error_line()
    assert "internal error: RuntimeError: boom" in line
    log = Path(line.split("details in ", 1)[1].split(";", 1)[0])
    assert log.is_file()
    text = log.read_text(encoding="utf-8")
    assert text.startswith("Traceback (most recent call last):")
    assert "RuntimeError: boom" in text


def test_an_internal_error_whose_message_spans_lines_is_still_one_line(
    quality: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("bad value\n  at the library's line 2\n")

    monkeypatch.setattr("gonogo.cli.commands.Engine.run", explode)

    result = quality.run("check")

    assert result.code == 3
    line = result.assert_one_error_line()
    assert "internal error: ValueError: bad value at the library's line 2; details in" in line


# -- the JSON report ------------------------------------------------------------------------


def test_json_report_has_the_schema_and_every_result_field(quality: Project) -> None:
    code, report = quality.check_json()

    assert code == 1
    assert report["schema"] == "gonogo.report/v1"
    assert report["kind"] == "check"
    assert report["project"] == "demo"
    result = criterion(report, "quality.coverage")
    assert result["status"] == "pass"
    assert result["measured"] == 90
    assert result["expected"] == "overall >= 80"
    assert result["reason"] == "overall 90.00%"
    assert result["duration"] > 0
    (evidence,) = result["evidence"]
    assert evidence["uri"] == "reports/coverage.json"
    assert evidence["sha256"] == sha256_file(quality.root / "reports/coverage.json")
    assert report["counts"]["pass"] == 2


def test_status_words_reach_the_json_report(project: Project) -> None:
    project.policy(
        NO_OWNERS
        + """
        [[gates.criteria]]
        id = "docker"
        check = "file"
        params = { path = "Dockerfile" }
        applies_if = { exists = ["Dockerfile"] }

        [[gates.criteria]]
        id = "pushed"
        check = "junit"
        source = "ingest"

        [[gates.criteria]]
        id = "lint"
        check = "command"
        params = { run = "false" }
        blocking = false
        """.replace("\n        ", "\n")
    )
    project.junit(passed=1, failed=1)
    (project.root / "reports/coverage.json").write_text("garbage", encoding="utf-8")

    _, report = project.check_json()

    statuses = {c["criterion"]: c["status"] for c in gate(report, "quality")["criteria"]}
    assert statuses == {
        "tests": "fail",
        "coverage": "error",
        "docker": "not_applicable",
        "pushed": "not_reported",
        "lint": "fail",
    }


# -- formats and output files ---------------------------------------------------------------


def _assert_rendered(fmt: Format, text: str) -> None:
    assert text.strip()
    if fmt is Format.JSON:
        assert '"schema": "gonogo.report/v1"' in text
    elif fmt is Format.JUNIT:
        assert ET.fromstring(text).tag == "testsuites"  # noqa: S314 - our own output
    elif fmt is Format.HTML:
        assert "<html" in text
        assert "quality" in text
    elif fmt is Format.MARKDOWN:
        assert text.startswith("# Release readiness checklist")
    else:
        assert "quality" in text


@pytest.mark.parametrize("fmt", list(Format))
def test_check_writes_every_format(quality: Project, fmt: Format) -> None:
    result = quality.run("check", "--format", fmt.value)

    assert result.code == 1
    _assert_rendered(fmt, result.out)


@pytest.mark.parametrize("fmt", list(Format))
def test_status_writes_every_format(quality: Project, fmt: Format) -> None:
    quality.run("check")

    result = quality.run("status", "--format", fmt.value)

    assert result.code == 0
    _assert_rendered(fmt, result.out)


def test_output_writes_the_report_to_a_file_and_not_to_stdout(quality: Project) -> None:
    target = quality.root / "out" / "report.md"

    result = quality.run("check", "--format", "markdown", "--output", str(target))

    assert result.code == 1
    assert result.out == ""
    assert target.read_text(encoding="utf-8").startswith("# Release readiness checklist")


def test_output_to_a_pipe_writes_through_it_and_leaves_it_a_pipe(quality: Project) -> None:
    # /dev/null is the everyday case; replacing it with a file would break the machine, so
    # a named pipe (a FIFO, not a regular file either) stands for it
    fifo = quality.root / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()

    result = quality.run("check", "--format", "markdown", "--output", str(fifo))

    reader.join(timeout=60)
    assert result.code == 1
    assert received and received[0].startswith("# Release readiness checklist")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not list(quality.root.glob(".pipe*"))


def test_output_through_a_symbolic_link_writes_the_file_and_keeps_the_link(
    quality: Project,
) -> None:
    real = quality.root / "kept" / "checklist.md"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    link = quality.root / "latest.md"
    link.symlink_to(real)

    result = quality.run("check", "--format", "markdown", "--output", str(link))

    assert result.code == 1
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("# Release readiness checklist")


def test_output_into_a_folder_is_a_usage_error(quality: Project) -> None:
    result = quality.run("check", "--output", str(quality.root))

    assert result.code == 2
    result.assert_one_error_line()


# -- selection and the cache ----------------------------------------------------------------


def test_check_can_run_one_gate_only(project: Project) -> None:
    project.policy(
        NO_OWNERS
        + """
[[gates]]
id = "docs"
title = "Docs"
phase = 6

[[gates.criteria]]
id = "readme"
check = "file"
params = { path = "README.md" }
"""
    )
    project.junit()
    project.coverage(90)

    code, report = project.check_json("--gate", "quality")

    assert code == 0
    assert [g["id"] for g in report["gates"]] == ["quality"]


def test_a_second_unchanged_check_is_served_from_the_cache(quality: Project) -> None:
    quality.check_json()

    _, report = quality.check_json()

    assert [c["cached"] for c in gate(report, "quality")["criteria"]] == [True, True]


def test_no_cache_collects_every_criterion_again(quality: Project) -> None:
    quality.check_json()

    _, report = quality.check_json("--no-cache")

    assert [c["cached"] for c in gate(report, "quality")["criteria"]] == [False, False]


def test_changing_a_report_collects_that_criterion_again(quality: Project) -> None:
    quality.check_json()
    quality.coverage(95)

    _, report = quality.check_json()

    assert criterion(report, "quality.tests")["cached"] is True
    assert criterion(report, "quality.coverage")["cached"] is False
    assert criterion(report, "quality.coverage")["measured"] == 95
