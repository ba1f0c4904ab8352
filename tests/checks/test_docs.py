"""docs/checks.md documents every built-in check type: parameters, measured value, statuses."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from gonogo.checks import registry

CHECKS_MD = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def _built_ins() -> list[str]:
    """Every check type gonogo itself registers (third-party plugins document themselves)."""
    return sorted(
        ep.name for ep in entry_points(group="gonogo.checks") if ep.value.startswith("gonogo.")
    )


def _section(name: str) -> str:
    """The check's section: in docs/checks.md, or in the docs page of its area (docs/*.md)."""
    heading = f"\n## `{name}`\n"
    for page in [CHECKS_MD, *sorted(CHECKS_MD.parent.glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        if heading in text:
            return text.split(heading, 1)[1].split("\n## ", 1)[0]
    raise AssertionError(f"no docs page has a section for the {name} check")


def test_the_six_built_ins_are_covered() -> None:
    assert {"command", "coverage", "file", "gate", "junit", "signoff"} <= set(_built_ins())


@pytest.mark.parametrize("name", _built_ins())
def test_checks_md_documents_every_parameter(name: str) -> None:
    section = _section(name)
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {row.split("`")[1] for row in rows}
    fields = set(registry.load(name).params_model.model_fields)
    assert fields - documented == set(), f"{name}: parameters not in its table"
    assert documented - fields == set(), f"{name}: documents parameters it does not take"


@pytest.mark.parametrize("name", _built_ins())
def test_checks_md_says_what_is_measured_and_which_statuses(name: str) -> None:
    section = _section(name)
    assert "**Measured:**" in section
    statuses = section.split("**Statuses:**", 1)[1]
    assert "`pass`" in statuses
    assert "`fail`" in statuses
    assert "`not_reported`" in statuses or "`error`" in statuses


@pytest.mark.parametrize("name", _built_ins())
def test_checks_md_example_of_each_check_is_valid(name: str) -> None:
    section = _section(name)
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    criterion = tomllib.loads(example)["gates"]["criteria"][0]  # a `[[gates.criteria]]` snippet
    assert criterion["check"] == name
    registry.load(name).params_model.model_validate(criterion["params"])


def test_checks_md_summary_table_lists_every_built_in() -> None:
    summary = CHECKS_MD.read_text(encoding="utf-8").split("\n## ", 1)[0]
    for name in _built_ins():
        # a link to its section here, or to the page of its area
        assert f"[`{name}`](#{name})" in summary or re.search(
            rf"\[`{re.escape(name)}`\]\([a-z-]+\.md#{re.escape(name)}\)", summary
        ), f"docs/checks.md's summary table does not list {name}"
