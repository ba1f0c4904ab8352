"""The release readiness checklist in Markdown (the Phase-1 deliverable)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt  # rich's own dependency, installed with gonogo
from markdown_it.token import Token

from gonogo.gates.results import SignoffState, Status
from gonogo.report import Format, ReportKind, render
from gonogo.report.markdown import STATUS_MARKERS
from tests.report import (
    cells,
    criterion,
    gate,
    go_report,
    mixed_report,
    report,
    signoff,
    table_rows,
)


def test_title_and_overall_verdict_come_first() -> None:
    lines = render(mixed_report(), Format.MARKDOWN).splitlines()

    assert lines[0] == "# Release readiness checklist — shop 1.4.0"
    assert lines[2] == "**❌ NO-GO: 2 of 3 gates no-go (quality, security)**"
    assert "**✅ GO: 4 of 4 gates go**" in render(go_report(), Format.MARKDOWN)


def test_each_gate_has_a_heading_with_phase_and_verdict() -> None:
    markdown = render(mixed_report(), Format.MARKDOWN)

    assert "## Phase 1 · quality — Quality: ❌ NO-GO" in markdown
    assert "## Phase 5 · security — Security: ❌ NO-GO" in markdown
    assert "## Phase 1 · features — Features: ✅ GO" in markdown
    assert "Owners: qa, dev" in markdown
    assert "Outcome: fail · score 0.71" in markdown


def test_table_has_one_row_per_criterion_with_five_cells() -> None:
    run = mixed_report()
    rows = table_rows(render(run, Format.MARKDOWN))

    expected_ids = [c.criterion for g in run.gates for c in g.criteria]
    assert len(rows) == len(expected_ids)
    for row, criterion_id in zip(rows, expected_ids, strict=True):
        assert len(cells(row)) == 5
        assert f"`{criterion_id}`" in cells(row)[1]


def test_status_cells_carry_a_word_and_a_marker() -> None:
    rows = [cells(row) for row in table_rows(render(mixed_report(), Format.MARKDOWN))]
    statuses = [row[0] for row in rows]

    assert statuses == [
        "✅ pass",
        "❌ fail",
        "⚠️ warn",
        "❓ not_reported",
        "🔕 waived",
        "💥 error",
        "\N{HEAVY MINUS SIGN} not_applicable",
        "✅ pass",
    ]


def test_measured_expected_and_reason_cells() -> None:
    rows = {
        cells(row)[1].split()[0]: cells(row)
        for row in table_rows(render(mixed_report(), Format.MARKDOWN))
    }

    assert rows["`coverage`"][2:4] == ["0.81", "\\>= 0.90"]
    assert rows["`perf`"][2] == "—"
    assert "_(cached)_" in rows["`unit-tests`"][1]
    assert "_(advisory)_" in rows["`flaky`"][1]


def test_pipes_and_newlines_in_a_reason_stay_inside_the_cell() -> None:
    rows = table_rows(render(mixed_report(), Format.MARKDOWN))
    coverage = next(row for row in rows if "`coverage`" in row)

    reason = cells(coverage)[4]
    assert reason == "coverage 81% \\< 90% \\| in src/pay<br>see report \\& fix"


def test_checklist_boxes_are_ticked_exactly_for_valid_signoffs() -> None:
    markdown = render(mixed_report(), Format.MARKDOWN)
    items = [line for line in markdown.splitlines() if line.startswith("- [")]

    assert items == [
        "- [ ] qa — stale (evidence changed since quinn signed)",
        "- [x] dev — quinn@example.com, 2026-11-27T10:00:00Z",
        "- [ ] security — missing",
        "- [ ] ops — invalid",
        "- [x] pm — quinn@example.com, 2026-11-27T10:00:00Z",
    ]


def test_an_owner_without_a_signoff_entry_is_listed_as_missing() -> None:
    run = report(gate(owners=("qa", "security"), signoffs=(signoff("qa"),)))

    assert "- [ ] security — missing" in render(run, Format.MARKDOWN)


def test_gate_without_owners_says_so() -> None:
    markdown = render(report(gate(owners=())), Format.MARKDOWN)

    assert "Owners: none" in markdown
    assert "_No owners to sign._" in markdown
    assert "- [" not in markdown


def test_gate_reasons_are_a_list() -> None:
    markdown = render(mixed_report(), Format.MARKDOWN)

    assert "- coverage failed" in markdown
    assert "- vulns errored" in markdown


def test_audit_head_closes_the_checklist() -> None:
    assert render(mixed_report(), Format.MARKDOWN).rstrip().endswith("audit head #12 3fa9c1d2e4b5")


def test_zero_gates() -> None:
    markdown = render(report(release=None, audit_seq=None), Format.MARKDOWN)

    assert markdown.startswith("# Release readiness checklist — shop\n")
    assert "NO-GO: no gates evaluated" in markdown
    assert "_No gates were evaluated._" in markdown
    assert "audit head: none recorded" in markdown


def test_markup_in_a_reason_is_not_interpreted() -> None:
    reason = "<script>alert(1)</script> **bold** [link](x) `code`"
    markdown = render(
        report(gate(criteria=(criterion(status=Status.FAIL, reason=reason),))), Format.MARKDOWN
    )

    assert "<script>" not in markdown
    assert "\\<script\\>alert(1)\\</script\\> \\*\\*bold\\*\\* \\[link\\](x) \\`code\\`" in markdown


def test_status_kind_is_named() -> None:
    markdown = render(go_report(), Format.MARKDOWN, kind=ReportKind.STATUS)

    assert "status of the recorded evaluation" in markdown


def test_stale_signoff_without_identity() -> None:
    stale = signoff("qa", SignoffState.STALE, identity=None)

    markdown = render(report(gate(signoffs=(stale,))), Format.MARKDOWN)
    assert "- [ ] qa — stale (evidence changed since it was signed)" in markdown


def test_docs_list_every_status_with_its_marker() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text("utf-8")

    for status, marker in STATUS_MARKERS.items():
        assert f"| `{status.value}` | {marker} |" in docs


# Text that starts a Markdown block of its own where it starts a line: a heading, a list, a
# numbered list, a code block, a rule, an HTML block (``<br>`` alone).
BLOCK_STARTS = [
    "# not a heading",
    "- not a list",
    "+ not a list",
    "1. not a numbered list",
    "2) not a numbered list",
    "    not code",
    "---",
    "\nafter a line break",
    "Issue #",
]


def _inline_text(token: Token) -> str:
    """What a reader sees of an inline token: text, code, and ``<br>`` as a line break."""
    parts = []
    for child in token.children or []:
        if child.type == "html_inline" and child.content == "<br>":
            parts.append("\n")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        else:
            parts.append(f"<{child.type}>")
    return "".join(parts)


def _block_types(markdown: str) -> list[str]:
    blocks = ("heading", "bullet_list", "ordered_list", "code_block", "hr", "html_block", "table")
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [t.type for t in tokens if t.type.removesuffix("_open") in blocks]


@pytest.mark.parametrize("reason", BLOCK_STARTS)
def test_a_reason_that_looks_like_a_block_stays_one_literal_list_item(reason: str) -> None:
    plain = report(gate(reasons=("plain words", "second")))
    hostile = report(gate(reasons=(reason, "second")))
    markdown = render(hostile, Format.MARKDOWN)

    assert _block_types(markdown) == _block_types(render(plain, Format.MARKDOWN))
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    items = [
        _inline_text(tokens[i + 2])
        for i, t in enumerate(tokens)
        if t.type == "list_item_open" and tokens[i + 1].type == "paragraph_open"
    ]
    assert items[-2:] == [reason.strip(), "second"]


def test_a_block_start_reason_does_not_change_the_document_structure() -> None:
    markdown = render(report(gate(reasons=tuple(BLOCK_STARTS))), Format.MARKDOWN)
    reference = render(report(gate(reasons=("a",) * len(BLOCK_STARTS))), Format.MARKDOWN)

    assert _block_types(markdown) == _block_types(reference)


def test_a_trailing_hash_of_the_project_stays_in_the_heading() -> None:
    named = replace(report(release=None), project="shop #")
    tokens = MarkdownIt("commonmark").parse(render(named, Format.MARKDOWN))

    assert tokens[0].type == "heading_open"
    assert _inline_text(tokens[1]) == "Release readiness checklist — shop #"
