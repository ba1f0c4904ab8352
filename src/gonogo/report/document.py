"""A report as a small document (title, outcome, facts, sections of text and tables),
rendered as Markdown or as one self-contained HTML page.

Commands whose reports are lists and tables (rollouts, simulations, audit logs, scans)
build a :class:`Document` from what they print as JSON and hand it to
:func:`to_markdown` or :func:`to_html`, so ``--format markdown|html`` looks the same
everywhere: every string is escaped (nothing in a reason or a path can add markup or
break a table row), the page has inline styles and no scripts or external references,
and it stays well-formed XML.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jinja2

from gonogo.report.html import template_environment
from gonogo.report.interface import ReportError
from gonogo.report.markdown import escape_block, escape_heading, escape_inline

__all__ = [
    "MISSING",
    "Document",
    "Outcome",
    "Section",
    "Table",
    "fmt_num",
    "fmt_rate",
    "member",
    "render_document",
    "to_html",
    "to_markdown",
]

#: how a value that is absent (or not a finite number) shows in every format
MISSING = "-"

TEMPLATE = "document.html.j2"

#: the outcome's tone: its colour on the page and its mark in Markdown
Tone = Literal["good", "bad", "neutral"]
_MARKS: dict[str, str] = {"good": "✅", "bad": "❌", "neutral": "⏳"}


def fmt_num(value: Any, spec: str = ".3g") -> str:
    """A number with ``spec``, or ``-`` for none, nan, infinity or a non-number."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if spec.endswith("d"):  # a count that travelled as a float
            spec = spec[:-1] + ".0f"
    return format(value, spec)


def member(document: Any, key: str) -> Any:
    """``document[key]`` of a JSON object, or None when it is absent or not an object.

    Report builders read the JSON their command prints; this keeps a missing or
    malformed part from crashing the rendering of the rest.
    """
    return document.get(key) if isinstance(document, Mapping) else None


def fmt_rate(value: Any) -> str:
    """A fraction as a percentage with two decimals (``5.34%``)."""
    return fmt_num(value, ".2%")


@dataclass(frozen=True)
class Table:
    """Rows of cells under a header; ``numeric`` marks the right-aligned columns.

    A header of empty strings is a key/value table (Markdown still needs a header row).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    empty: str = "Nothing to show."

    @classmethod
    def of(
        cls,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        numeric: Sequence[bool] = (),
        empty: str = "Nothing to show.",
    ) -> Table:
        """A table; every row must have one cell per header column."""
        flags = tuple(numeric) or (False,) * len(header)
        if len(flags) != len(header) or any(len(row) != len(header) for row in rows):
            raise ReportError("a report table's rows and header differ in length")
        return cls(tuple(header), tuple(tuple(row) for row in rows), flags, empty)

    @classmethod
    def facts(cls, pairs: Sequence[tuple[str, str]]) -> Table:
        """A key/value table."""
        return cls.of(("", ""), pairs)

    @property
    def keyed(self) -> bool:
        """Whether this is a key/value table (no header to show)."""
        return not any(self.header)


@dataclass(frozen=True)
class Section:
    """A heading, paragraphs, then tables."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The verdict shown next to the title: a word and its tone."""

    word: str
    tone: Tone = "neutral"


@dataclass(frozen=True)
class Document:
    """A whole report."""

    title: str
    outcome: Outcome | None = None
    summary: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    sections: tuple[Section, ...] = field(default_factory=tuple)


# -- Markdown -------------------------------------------------------------------------------


def _md_table(table: Table) -> list[str]:
    if not table.rows and not table.keyed:
        return [f"_{escape_inline(table.empty)}_"]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_inline(c) for c in cells) + " |"

    rule = "| " + " | ".join("---:" if n else "---" for n in table.numeric) + " |"
    return [line(table.header), rule, *(line(row) for row in table.rows)]


def to_markdown(doc: Document) -> str:
    """The document as Markdown (CommonMark with GitHub tables)."""
    lines = [f"# {escape_heading(doc.title)}"]
    if doc.outcome is not None or doc.summary:
        head = ""
        if doc.outcome is not None:
            head = f"{_MARKS[doc.outcome.tone]} **{escape_inline(doc.outcome.word)}**"
        if doc.summary:
            head += f": {escape_inline(doc.summary)}" if head else escape_block(doc.summary)
        lines += ["", head]
    if doc.facts:
        lines += ["", *_md_table(Table.facts(doc.facts))]
    for section in doc.sections:
        lines += ["", f"## {escape_heading(section.heading)}"]
        for paragraph in section.paragraphs:
            lines += ["", escape_block(paragraph)]
        for table in section.tables:
            lines += ["", *_md_table(table)]
    return "\n".join(lines) + "\n"


# -- HTML -----------------------------------------------------------------------------------


def to_html(doc: Document) -> str:
    """The document as one self-contained, well-formed HTML page."""
    try:
        page = template_environment("gonogo.report").get_template(TEMPLATE)
    except jinja2.TemplateError as error:  # a broken install, not the user's input
        raise ReportError(f"cannot load the HTML template {TEMPLATE}: {error}") from error
    return page.render(doc=doc, facts=Table.facts(doc.facts) if doc.facts else None)


def render_document(doc: Document, fmt: str) -> str:
    """The document in ``fmt``: ``markdown`` or ``html`` (a command's format choice)."""
    if fmt == "markdown":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc)
    raise ReportError(f"a report document has no {fmt!r} form; use markdown or html")
