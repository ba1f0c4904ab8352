"""Policy texts shared by the policy tests, and helpers to write and locate them."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shopapi" / "gonogo.toml"

# Two gates; the first has an owner and a junit criterion, the second a file criterion.
MINIMAL = """\
version = 1

[project]
name = "demo"

[owners]
engineering = ["erin@example.com"]
qa = ["quinn@example.com"]

[[gates]]
id = "quality"
title = "Quality"
phase = 4
owners = ["engineering"]

[[gates.criteria]]
id = "tests"
check = "junit"
params = { path = "reports/junit.xml" }

[[gates]]
id = "operations"
title = "Operations"
phase = 6

[[gates.criteria]]
id = "runbook"
check = "file"
params = { path = "RUNBOOK.md" }
"""


def write_policy(root: Path, text: str, name: str = "gonogo.toml") -> Path:
    """Write ``text`` as the policy file ``name`` in ``root``; return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str, *, occurrence: int = 1) -> int:
    """The 1-based number of the line holding the ``occurrence``-th ``fragment``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{fragment!r} occurs fewer than {occurrence} times")


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the single occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


DOCS = Path(__file__).resolve().parents[2] / "docs"


def toml_blocks(markdown: str) -> list[str]:
    """The bodies of the ```toml fenced blocks of a Markdown document."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        if current is None and line.strip() == "```toml":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def full_example() -> str:
    """The TOML block under "## Full example" in docs/policy.md."""
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    section = text.split("\n## Full example\n", 1)[1]
    return toml_blocks(section)[0]
