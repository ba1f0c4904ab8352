"""Read a report document's HTML page (``--format html``) as a user would: its title,
verdict badge, summary, facts and the tables under each heading.

The page is well-formed XML (``gonogo.report.document``), so ElementTree parses it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


def text_of(element: ET.Element | None) -> str:
    """All the text inside ``element``."""
    assert element is not None
    return "".join(element.itertext())


def _cells(row: ET.Element) -> list[str]:
    return [text_of(cell) for cell in row if cell.tag in ("th", "td")]


def _table(table: ET.Element) -> list[dict[str, str]]:
    header = [text_of(th) for th in table.iterfind("thead/tr/th")]
    return [dict(zip(header, _cells(tr), strict=True)) for tr in table.iterfind("tbody/tr")]


@dataclass(frozen=True)
class Page:
    """A parsed report page."""

    root: ET.Element

    @classmethod
    def parse(cls, page: str) -> Page:
        """``page`` parsed; fails the test when it is not well-formed."""
        return cls(ET.fromstring(page))  # noqa: S314 - our own output, not untrusted input

    def _body(self) -> ET.Element:
        body = self.root.find("body")
        assert body is not None
        return body

    @property
    def title(self) -> str:
        """The heading, without the badge."""
        h1 = self.root.find("body/h1")
        assert h1 is not None
        return (h1.text or "").strip()

    @property
    def badge(self) -> tuple[str, str]:
        """The verdict word and its tone (``good``, ``bad``, ``neutral``)."""
        span = self.root.find("body/h1/span")
        assert span is not None
        return text_of(span), (span.get("class") or "").removeprefix("badge ")

    @property
    def summary(self) -> str:
        """The line under the title."""
        return text_of(self.root.find("body/p[@class='summary']"))

    @property
    def facts(self) -> dict[str, str]:
        """The key/value table under the summary (empty when there is none)."""
        for child in self._body():
            if child.tag == "h2":
                break
            if child.tag == "table" and child.find("thead") is None:
                return {row[0]: row[1] for row in map(_cells, child.iter("tr"))}
        return {}

    @property
    def headings(self) -> list[str]:
        """The section headings in order."""
        return [text_of(h2) for h2 in self.root.iterfind("body/h2")]

    def section(self, heading: str) -> list[dict[str, str]]:
        """The rows of the first table under ``heading``, each keyed by the column names
        (none for a table shown as its "nothing to show" message)."""
        inside = False
        for child in self._body():
            if child.tag == "h2":
                if inside:
                    break
                inside = text_of(child) == heading
            elif inside and child.tag == "table":
                return _table(child)
            elif inside and child.get("class") == "muted":  # an empty table's message
                return []
        raise AssertionError(f"no table under {heading!r} (headings: {self.headings})")

    def text(self) -> str:
        """Every word on the page (entities decoded), to look for what must not be there."""
        return text_of(self.root)
