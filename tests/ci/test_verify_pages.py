"""``gonogo ci verify --format markdown|html``: the verdict and each way around the gates."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.helpers import Project

WORKFLOW = ".github/workflows/gonogo.yml"


def parse(page: str) -> ET.Element:
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def text_of(element: ET.Element | None) -> str:
    assert element is not None
    return "".join(element.itertext())


def _workflow(project: Project, *, edit: tuple[str, str] | None = None) -> Path:
    """The workflow ``gonogo ci init github`` writes, with one ``(old, new)`` edit."""
    text = project.run("ci", "init", "github").out
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    path = project.root / WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


#: a path filter on pull requests: a required check that never runs lets changes through
PATH_FILTER = ("  pull_request:\n", "  pull_request:\n    paths: ['src/**']\n")


def test_a_file_that_requires_the_gates_is_ok_in_markdown(project: Project) -> None:
    _workflow(project)

    result = project.run("ci", "verify", "--format", "markdown")

    assert result.code == 0
    title, _, verdict = result.out.splitlines()[:3]
    assert title.startswith("# CI verification: ")
    assert title.endswith("/.github/workflows/gonogo.yml")
    assert verdict == "✅ **ok**: job gonogo runs \\`gonogo ci\\` and nothing lets it off"
    assert "| CI system | github |" in result.out
    assert "| jobs running gonogo ci | gonogo |" in result.out
    assert "_None: the file requires the gates._" in result.out


def test_a_bypass_shows_as_a_row_in_markdown_with_exit_1(project: Project) -> None:
    path = _workflow(project, edit=PATH_FILTER)

    result = project.run("ci", "verify", str(path), "--format", "markdown")

    assert result.code == 1
    assert "❌ **bypassable**: 1 way around the gates\n" in result.out
    assert "## Ways around the gates" in result.out
    assert "| on.pull\\_request.paths |" in result.out


def test_a_bypass_shows_as_a_row_in_html_like_the_text(project: Project) -> None:
    path = _workflow(project, edit=PATH_FILTER)
    target = project.root / "verify.html"

    text = project.run("ci", "verify", str(path))
    result = project.run("ci", "verify", str(path), "--format", "html", "--output", str(target))

    assert (result.code, result.out) == (1, "")
    root = parse(target.read_text(encoding="utf-8"))
    assert text_of(root.find("head/title")) == f"CI verification: {path}"
    badge = root.find("body/h1/span")
    assert badge is not None and (badge.get("class"), badge.text) == ("badge bad", "bypassable")
    facts, findings = root.findall("body/table")
    assert [text_of(td) for td in facts.iter("td")] == [str(path), "github", "gonogo"]
    assert [text_of(th) for th in findings.iter("th")] == ["where", "how a red change gets through"]
    (row,) = findings.findall("tbody/tr")
    where, message = (text_of(td) for td in row)
    assert where == "on.pull_request.paths"
    assert f"{path}: {where}: {message}" in text.out.splitlines()
