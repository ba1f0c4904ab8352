"""The report document shared by the list-and-table reports (``--format markdown|html``)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from importlib.resources import files
from typing import Any

import pytest
from markdown_it import MarkdownIt  # rich's own dependency, installed with gonogo

from gonogo.report.document import (
    TEMPLATE,
    Document,
    Outcome,
    Section,
    Table,
    fmt_num,
    render_document,
    to_html,
    to_markdown,
)
from gonogo.report.interface import ReportError

HOSTILE = "a | b <script>alert(1)</script> & `c` *d*\nnext\x1b[31m"


def sample(text: str = "fine") -> Document:
    return Document(
        title=f"Scan of {text}",
        outcome=Outcome("no-go", "bad"),
        summary=f"2 findings in {text}",
        facts=(("path", text), ("files", "12")),
        sections=(
            Section(
                "Findings",
                paragraphs=(f"first seen in {text}",),
                tables=(
                    Table.of(("rule", "where", "count"), [("r1", text, "3"), ("r2", "x", "1")],
                             numeric=(False, False, True)),
                    Table.of(("rule",), [], empty="No suppressed findings."),
                ),
            ),
        ),
    )  # fmt: skip


def parse(page: str) -> ET.Element:
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def text_of(element: ET.Element | None) -> str:
    assert element is not None
    return "".join(element.itertext())


def test_markdown_has_the_title_outcome_facts_and_sections_in_order() -> None:
    page = to_markdown(sample())
    assert page.startswith("# Scan of fine\n\n❌ **no-go**: 2 findings in fine\n")
    assert "|  |  |\n| --- | --- |\n| path | fine |\n| files | 12 |" in page
    assert page.index("## Findings") < page.index("first seen in fine") < page.index("| r1 |")
    assert "| rule | where | count |\n| --- | --- | ---: |\n| r1 | fine | 3 |" in page
    assert "_No suppressed findings._" in page  # an empty table says so


def test_markdown_escapes_everything_a_value_could_inject() -> None:
    page = to_markdown(sample(HOSTILE))
    assert "<script>" not in page and "\x1b" not in page
    title = page.splitlines()[0]
    assert title.startswith("# Scan of a \\| b \\<script\\>")  # one line, even with a newline
    row = next(line for line in page.splitlines() if line.startswith("| r1 |"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # still three cells


def test_html_is_well_formed_self_contained_and_escaped() -> None:
    page = to_html(sample(HOSTILE))
    root = parse(page)
    assert "<script" not in page and "\x1b" not in page
    assert not re.search(r"\b(src|href)=|https?://|url\(", page)
    assert text_of(root.find("head/title")).startswith("Scan of a | b <script>alert(1)</script>")
    badge = root.find("body/h1/span")
    assert badge is not None and badge.get("class") == "badge bad"
    tables = root.findall("body/table")
    facts = [[text_of(c) for c in tr] for tr in tables[0].iter("tr")]
    assert facts[0][0] == "path"  # a key/value table has no header row
    findings = tables[1]
    cells = [[c.get("class"), text_of(c)] for c in findings.iter("td")]
    assert ["num", "3"] in cells  # numbers are right-aligned
    assert "No suppressed findings." in text_of(root)


def test_a_document_without_outcome_or_facts_renders() -> None:
    doc = Document("Plain", sections=(Section("Only text", paragraphs=("hello",)),))
    assert to_markdown(doc) == "# Plain\n\n## Only text\n\nhello\n"
    assert text_of(parse(to_html(doc)).find("body/p")) == "hello"


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ReportError, match="differ in length"):
        Table.of(("a", "b"), [("1",)])
    with pytest.raises(ReportError, match="differ in length"):
        Table.of(("a", "b"), [("1", "2")], numeric=(True,))


@pytest.mark.parametrize(
    ("value", "spec", "shown"),
    [(None, ".3g", "-"), (float("nan"), ".3g", "-"), (float("-inf"), ".1f", "-"),
     (True, "d", "-"), ("12", "d", "-"), (12.0, "d", "12"), (3, "d", "3"),
     (0.0512, "+.1%", "+5.1%")],
)  # fmt: skip
def test_numbers_absent_or_not_finite_show_as_a_dash(value: Any, spec: str, shown: str) -> None:
    assert fmt_num(value, spec) == shown


def test_render_document_takes_a_command_s_format_choice() -> None:
    doc = Document("Plain")
    assert render_document(doc, "markdown") == to_markdown(doc)
    assert render_document(doc, "html") == to_html(doc)
    with pytest.raises(ReportError, match="no 'sarif' form; use markdown or html"):
        render_document(doc, "sarif")


def test_the_template_ships_inside_the_package() -> None:
    assert files("gonogo.report").joinpath("templates", TEMPLATE).is_file()


@pytest.mark.parametrize(
    "paragraph", ["# not a heading", "- not a list", "1. not a list", "    not code", "\n<br>"]
)
def test_a_paragraph_that_looks_like_a_block_stays_a_literal_paragraph(paragraph: str) -> None:
    doc = Document(title="Report", sections=(Section("Notes", paragraphs=(paragraph,)),))
    tokens = MarkdownIt("commonmark").parse(to_markdown(doc))

    kinds = [t.type for t in tokens if t.type.endswith("_open") or t.type == "code_block"]
    assert kinds == ["heading_open", "heading_open", "paragraph_open"]
    assert tokens[-2].children is not None
    shown = "".join(c.content for c in tokens[-2].children if c.type == "text")
    assert shown == paragraph.strip()


def test_a_title_ending_in_a_hash_keeps_it() -> None:
    tokens = MarkdownIt("commonmark").parse(to_markdown(Document(title="Ticket #")))

    assert tokens[1].content.endswith("#")
    assert tokens[1].children is not None
    assert "".join(c.content for c in tokens[1].children) == "Ticket #"
