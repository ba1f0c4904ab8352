"""``gonogo release list --format markdown|html`` on a real store."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.helpers import Project


def parse(page: str) -> ET.Element:
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def text_of(element: ET.Element | None) -> str:
    assert element is not None
    return "".join(element.itertext())


def test_release_list_as_markdown_is_one_table_newest_first(quality: Project) -> None:
    quality.run("release", "create", "1.0", user="alice@example.com")
    quality.run("release", "create", "1.1", user="bob@example.com")

    result = quality.run("release", "list", "--format", "markdown")

    assert result.code == 0
    assert result.out.startswith("# Releases\n")
    assert "| version | state | created at | created by |" in result.out
    rows = [line for line in result.out.splitlines() if line.startswith("| 1.")]
    assert [row.split(" | ")[0:2] for row in rows] == [["| 1.1", "open"], ["| 1.0", "open"]]
    assert rows[0].endswith("| bob@example.com |")


def test_release_list_as_html_written_to_a_file(quality: Project) -> None:
    quality.run("release", "create", "1.0", user="alice@example.com")
    target = quality.root / "out" / "releases.html"

    result = quality.run("release", "list", "--format", "html", "--output", str(target))

    assert (result.code, result.out) == (0, "")
    root = parse(target.read_text(encoding="utf-8"))
    assert text_of(root.find("head/title")) == "Releases"
    header = [text_of(th) for th in root.iter("th")]
    assert header == ["version", "state", "created at", "created by"]
    (row,) = root.findall("body/table/tbody/tr")
    cells = [text_of(td) for td in row]
    listed = quality.run("release", "list", "--format", "json").json()["releases"][0]
    assert cells == ["1.0", "open", listed["created_at"], "alice@example.com"]


def test_an_empty_release_list_page_says_how_to_start(quality: Project) -> None:
    markdown = quality.run("release", "list", "--format", "markdown")
    html = quality.run("release", "list", "--format", "html")

    assert (markdown.code, html.code) == (0, 0)
    assert "_No releases yet: create one with gonogo release create VERSION._" in markdown.out
    root = parse(html.out)
    assert root.find("body/table") is None
    assert "No releases yet" in text_of(root.find("body/p"))
