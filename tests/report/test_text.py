"""The terminal report: what a user reads after ``gonogo check``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gonogo.gates.results import Status
from gonogo.report import Format, ReportKind, render
from tests.report import criterion, gate, go_report, mixed_report, report, signoff


def test_go_report_ends_with_the_go_line_and_every_criterion() -> None:
    rendered = render(go_report(), Format.TEXT)

    assert "GO: 4 of 4 gates go" in rendered
    for criterion_id in ("stories-done", "unit-tests", "vulns"):
        assert criterion_id in rendered


def test_no_go_report_names_the_blocking_gates() -> None:
    rendered = render(mixed_report(), Format.TEXT)

    assert "NO-GO: 2 of 3 gates no-go (quality, security)" in rendered
    for criterion_id in ("unit-tests", "coverage", "lint", "perf", "flaky", "vulns", "sbom"):
        assert criterion_id in rendered


def test_each_gate_header_shows_verdict_outcome_and_weighted_score() -> None:
    lines = render(mixed_report(), Format.TEXT).splitlines()

    quality = next(line for line in lines if "quality — Quality" in line)
    security = next(line for line in lines if "security — Security" in line)
    assert quality.startswith("NO-GO")
    assert "outcome fail" in quality
    assert "score 0.71" in quality
    assert "score" not in security  # not weighted


def test_criteria_rows_show_status_measured_expected_reason_and_cache() -> None:
    rendered = render(mixed_report(), Format.TEXT, width=160)
    row = next(line for line in rendered.splitlines() if " unit-tests " in line)

    assert row.split()[0] == "pass"
    assert "0.98" in row
    assert ">= 0.95" in row
    assert "120 of 120 tests passed" in row
    assert "cached" in row


def test_unmeasured_value_shows_a_dash() -> None:
    rendered = render(mixed_report(), Format.TEXT, width=160)
    row = next(line for line in rendered.splitlines() if " perf " in line)

    assert "—" in row
    assert "None" not in rendered


def test_signoffs_show_state_who_and_when() -> None:
    rendered = render(mixed_report(), Format.TEXT, width=160)

    assert "qa: stale (evidence changed since quinn signed)" in rendered
    assert "dev: valid — quinn@example.com, 2026-11-27T10:00:00Z" in rendered
    assert "security: missing" in rendered
    assert "ops: invalid" in rendered


def test_gate_reasons_are_listed() -> None:
    rendered = render(mixed_report(), Format.TEXT)

    assert "• coverage failed" in rendered
    assert "• qa sign-off is stale" in rendered


def test_counts_and_audit_head_close_the_report() -> None:
    lines = render(mixed_report(), Format.TEXT, width=160).splitlines()

    assert lines[-2] == (
        "criteria: 2 pass · 1 warn · 1 fail · 1 error · 1 not_applicable · 1 not_reported"
        " · 1 waived"
    )
    assert lines[-1] == "audit head #12 3fa9c1d2e4b5"


def test_title_names_the_command_kind() -> None:
    assert render(go_report(), Format.TEXT).startswith("gonogo check — shop 1.4.0")
    status = render(go_report(), Format.TEXT, kind=ReportKind.STATUS)
    assert status.startswith("gonogo status — shop 1.4.0")


def test_no_colour_means_no_escape_sequences() -> None:
    assert "\x1b[" not in render(mixed_report(), Format.TEXT, color=False)


def test_colour_paints_go_green_and_no_go_red() -> None:
    go = render(go_report(), Format.TEXT, color=True)
    no_go = render(mixed_report(), Format.TEXT, color=True)

    assert "\x1b[1;32mGO: 4 of 4 gates go" in go
    assert "\x1b[1;31mNO-GO: 2 of 3 gates no-go" in no_go


def test_colour_is_decided_by_the_caller_not_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    assert "\x1b[" in render(go_report(), Format.TEXT, color=True)

    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in render(go_report(), Format.TEXT, color=False)


def test_output_fits_the_requested_width() -> None:
    for width in (40, 80, 120):
        rendered = render(mixed_report(), Format.TEXT, width=width)
        assert max(len(line) for line in rendered.splitlines()) <= width


def test_narrow_terminal_lists_criteria_without_losing_columns() -> None:
    rendered = render(mixed_report(), Format.TEXT, width=40)

    assert "fail coverage 0.81 (expected >= 0.90)" in rendered
    assert "no result ingested" in rendered


def test_zero_gates_is_a_no_go_with_nothing_evaluated() -> None:
    rendered = render(report(audit_seq=None), Format.TEXT)

    assert "NO-GO: no gates evaluated" in rendered
    assert "criteria: none" in rendered
    assert "audit head: none recorded" in rendered


def test_reason_text_is_shown_literally() -> None:
    reason = "[bold]not markup[/bold] :smile: <b>&amp;</b> | x"
    rendered = render(
        report(gate(criteria=(criterion(status=Status.FAIL, reason=reason),))),
        Format.TEXT,
        width=200,
    )

    assert reason in rendered


def test_escape_sequences_in_a_reason_cannot_reach_the_terminal() -> None:
    reason = "boom \x1b[2J\x07 \x9b2J done"
    rendered = render(
        report(gate(criteria=(criterion(status=Status.ERROR, reason=reason),))),
        Format.TEXT,
        width=200,
    )

    assert "\x1b" not in rendered
    assert "\x9b" not in rendered
    assert "boom ␛[2J␇ \ufffd2J done" in rendered


def test_a_multi_line_sign_off_note_stays_indented_under_its_role() -> None:
    noted = replace(signoff("qa"), note="first line\nsecond line")
    rendered = render(report(gate(signoffs=(noted,))), Format.TEXT, width=160)

    lines = rendered.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  qa: valid"))
    assert lines[first].endswith("— first line")
    assert lines[first + 1] == "    second line"
