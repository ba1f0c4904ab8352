"""``gonogo status``: the stored state, and the Markdown checklist (the Phase-1 deliverable)."""

from __future__ import annotations

from tests.helpers import ALICE, Project, gate


def test_status_markdown_lists_gates_criteria_owners_and_sign_offs(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    quality.run("check")
    quality.run("signoff", "quality", "--role", "engineering", user=ALICE)

    result = quality.run("status", "--format", "markdown")

    assert result.code == 0
    text = result.out
    assert text.startswith("# Release readiness checklist — demo 1.0")
    assert "## Phase 4 · quality — Quality: ❌ NO-GO" in text
    assert "Owners: engineering, qa" in text
    assert "| ✅ pass | `tests` Tests pass |" in text
    assert "| ✅ pass | `coverage` Coverage at least 80% | 90 |" in text
    assert f"- [x] engineering — {ALICE}" in text
    assert "- [ ] qa — missing" in text


def test_status_output_writes_the_checklist_to_a_file(quality: Project) -> None:
    quality.run("check")
    target = quality.root / "CHECKLIST.md"

    result = quality.run("status", "--format", "markdown", "--output", str(target))

    assert (result.code, result.out) == (0, "")
    assert "quality" in target.read_text(encoding="utf-8")


def test_status_before_any_check_says_to_run_one(quality: Project) -> None:
    report = quality.run("status", "--format", "json").json()

    assert gate(report, "quality")["reasons"] == ["not evaluated yet: run `gonogo check`"]


def test_status_shows_the_newest_evaluation_without_running_checks(quality: Project) -> None:
    quality.run("check")
    quality.coverage(10)  # not read by status

    report = quality.run("status", "--format", "json").json()

    assert gate(report, "quality")["outcome"] == "pass"
    assert report["kind"] == "status"
