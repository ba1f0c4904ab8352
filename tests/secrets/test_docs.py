"""docs/secrets.md lists every built-in rule and every option of `gonogo secrets scan`."""

from __future__ import annotations

from pathlib import Path

import typer

from gonogo.cli.main import app
from gonogo.secrets.rules import builtin_rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "secrets.md"


def test_every_built_in_rule_is_in_the_table() -> None:
    text = DOCS.read_text(encoding="utf-8")

    for rule in builtin_rules().rules:
        assert f"| `{rule.id}` | {rule.description} |" in text


def test_every_scan_option_is_documented() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## `gonogo secrets scan`", 1)[1]
    command = typer.main.get_command(app).commands["secrets"].commands["scan"]  # type: ignore[attr-defined]

    for param in command.params:
        for option in param.opts:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in section.split("\n## ", 1)[0]
