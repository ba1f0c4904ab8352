"""Every command has help, and docs/cli.md documents every command, option and variable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from gonogo.cli import settings
from gonogo.cli.main import app, main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> dict[str, Any]:
    """Every command path ("" for gonogo itself, "release create", …) and its command object."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        found[path] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


COMMANDS = _commands()
PATHS = sorted(p for p in COMMANDS if p)


def _sections(text: str) -> dict[str, str]:
    """Docs text under each ``gonogo …`` heading, keyed by the command path."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = re.match(r"^#+ `gonogo ([a-z][a-z -]*)`$", line)
        if heading:
            current = heading.group(1)
            sections[current] = ""
        elif line.startswith("#"):
            current = None
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def test_the_command_tree_is_what_the_docs_describe() -> None:
    assert {"check", "status", "signoff", "ingest", "init"} <= set(PATHS)
    assert {"policy validate", "release create", "audit verify"} <= set(PATHS)


@pytest.mark.parametrize("path", ["", *PATHS])
def test_every_command_has_help(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*path.split(), "--help"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"Usage: gonogo {path}".rstrip())
    description = out.split("\n\n")[1].strip()
    assert description
    assert COMMANDS[path].help


@pytest.mark.parametrize("path", PATHS)
def test_every_command_is_documented_with_its_options(path: str) -> None:
    # core commands live in docs/cli.md; each area's commands may live in its own page
    sections: dict[str, str] = {}
    for page in [DOCS, *sorted(DOCS.parent.glob("*.md"))]:
        for name, body in _sections(page.read_text(encoding="utf-8")).items():
            sections[name] = sections.get(name, "") + body

    assert path in sections, f"no docs page has a section for `gonogo {path}`"
    for param in COMMANDS[path].params:
        for option in param.opts:
            if option.startswith("--") and option != "--help":
                assert option in sections[path], f"`gonogo {path}` {option} is not documented"


def test_the_global_options_are_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")

    for param in COMMANDS[""].params:
        for option in param.opts:
            assert option in text


@pytest.mark.parametrize(
    "variable",
    [
        settings.ENV_PROJECT,
        settings.ENV_DATABASE_URL,
        settings.ENV_USER,
        settings.ENV_RELEASE,
        settings.ENV_LOCK_TIMEOUT,
        settings.ENV_JOBS,
    ],
)
def test_every_environment_variable_is_documented(variable: str) -> None:
    assert f"`{variable}`" in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("code", ["0", "1", "2", "3"])
def test_every_exit_code_is_documented(code: str) -> None:
    assert f"| `{code}` |" in DOCS.read_text(encoding="utf-8")
